"""Inverted-file recall and latency against the share of lists a search scans: ``python -m bench.ivf_sweep``.

Builds the FAISS store's inverted file (``FaissStore.build(vectors, "ivf")``: lists, 4-bit fast-scan
codes, exact re-scoring, as the service builds it) over a synthetic corpus (``bench.synthetic``),
and for each ``--share`` times single-query searches at the service's depth (50 candidates, one
thread) and measures recall@10 against exact search. Prints one Markdown row per share: what
scanning more of the lists buys in recall, and at what latency (bench/results/clustered/ivf_sweep.md).
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
from rag.store.faiss.vectors import FaissStore, ivf_lists

DIM = 384
THREADS = faiss.omp_get_max_threads()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ivf_sweep", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=100_000, help="chunks in the corpus")
    p.add_argument("--vectors", choices=["clustered", "uniform"], default="clustered")
    p.add_argument("--share", type=float, nargs="+", default=[0.03125, 0.0625, 0.125, 0.25], help="shares of lists")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    v = np.concatenate(list(synthetic._vector_blocks(args.size, DIM, args.seed, args.vectors)))
    q = synthetic.queries(args.queries, DIM, args.seed, args.size, args.vectors)
    exact = synthetic.exact_top(args.size, DIM, args.seed, q, 10, kind=args.vectors)
    lists = ivf_lists(args.size)
    print(f"{args.size:,} {args.vectors} vectors, {lists:,} lists, {args.queries} queries, one thread")
    print("| lists | build s | share | lists scanned | recall@10 | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|")
    faiss.omp_set_num_threads(THREADS)  # building uses every core
    t = time.perf_counter()
    store = FaissStore.build(v, "ivf")
    build = time.perf_counter() - t
    del v
    for share in args.share:
        store.set_search_depth(CANDIDATES, share)
        times, recall = [], []
        for i in range(len(q)):
            t = time.perf_counter()
            _, ids = store.search(q[i : i + 1], CANDIDATES)  # pins one thread, as the service does
            times.append((time.perf_counter() - t) * 1000)
            recall.append(len(set(ids[0, :10].tolist()) & set(exact[i].tolist())) / 10)
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        print(
            f"| {lists:,} | {build:.0f} | {share:g} | {max(1, round(lists * share)):,} | {np.mean(recall):.3f} "
            f"| {statistics.median(times):.2f} | {p95:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
