"""HNSW recall and latency against its build and search depth: ``python -m bench.hnsw_sweep``.

Builds FAISS HNSW (M and efConstruction as ``rag.store.base``, or ``--m`` and ``--ef-construction``)
over a synthetic corpus (``bench.synthetic``) for each ``--ef-construction``, and for each
``--ef-search`` times single-query searches at the service's depth (50 candidates, one thread) and
measures recall@10 against exact search. Prints one Markdown row per pair: what a denser graph or a
deeper search buys in recall, and at what latency (bench/results/clustered/hnsw_sweep.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import faiss
import numpy as np

from bench import synthetic
from rag.search.retrieve import CANDIDATES
from rag.store.base import HNSW_EF_CONSTRUCTION, HNSW_M

DIM = 384
THREADS = faiss.omp_get_max_threads()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hnsw_sweep", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=100_000, help="chunks in the corpus")
    p.add_argument("--vectors", choices=["clustered", "uniform"], default="clustered")
    p.add_argument("--m", type=int, default=HNSW_M, help=f"neighbours per node (default {HNSW_M}, the store's)")
    p.add_argument("--ef-construction", type=int, nargs="+", default=[HNSW_EF_CONSTRUCTION])
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    v = np.concatenate(list(synthetic._vector_blocks(args.size, DIM, args.seed, args.vectors)))
    q = synthetic.queries(args.queries, DIM, args.seed, args.size, args.vectors)
    exact = synthetic.exact_top(args.size, DIM, args.seed, q, 10, kind=args.vectors)
    print(f"{args.size:,} {args.vectors} vectors, M={args.m}, {args.queries} queries, one thread")
    print("| efConstruction | build s | efSearch | recall@10 | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    for ef_c in args.ef_construction:
        faiss.omp_set_num_threads(THREADS)  # building uses every core
        index = faiss.IndexHNSWFlat(DIM, args.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_c
        t = time.perf_counter()
        index.add(v)
        build = time.perf_counter() - t
        faiss.omp_set_num_threads(1)
        for ef in args.ef_search:
            index.hnsw.efSearch = ef
            times, recall = [], []
            for i in range(len(q)):
                t = time.perf_counter()
                _, ids = index.search(q[i : i + 1], CANDIDATES)
                times.append((time.perf_counter() - t) * 1000)
                recall.append(len(set(ids[0, :10].tolist()) & set(exact[i].tolist())) / 10)
            p95 = sorted(times)[int(0.95 * (len(times) - 1))]
            print(
                f"| {ef_c} | {build:.0f} | {ef} | {np.mean(recall):.3f} | {statistics.median(times):.2f} | {p95:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
