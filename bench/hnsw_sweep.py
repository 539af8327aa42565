"""HNSW recall and latency against its build and search depth: ``python -m bench.hnsw_sweep``.

Builds FAISS HNSW as the store does (``rag.store.faiss.vectors.hnsw_graph``; or with ``--m``,
``--ef-construction``, ``--pruned-level0`` and ``--document-order``) over a synthetic corpus
(``bench.synthetic``) for each ``--ef-construction``, and for each ``--ef-search`` times
single-query searches at the service's depth (50 candidates, one thread) and measures recall@10
against exact search. Prints one Markdown row per pair: what a denser graph or a deeper search buys
in recall, and at what latency (bench/results/clustered/hnsw_sweep.md).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import faiss
import numpy as np

from bench import synthetic
from bench.sweep import DIM, corpus, parser, timed
from rag.search.retrieve import CANDIDATES
from rag.store.base import HNSW_EF_CONSTRUCTION, HNSW_FULL_LEVEL0, HNSW_M
from rag.store.faiss.vectors import hnsw_graph

THREADS = faiss.omp_get_max_threads()


def level0_links(index: faiss.IndexHNSW) -> np.ndarray:
    """How many of its level-0 neighbour slots each node of ``index`` fills."""
    hnsw = index.hnsw
    offsets = faiss.vector_to_array(hnsw.offsets).astype(np.int64)
    neighbours = faiss.vector_to_array(hnsw.neighbors)
    slots = np.arange(hnsw.nb_neighbors(0))
    return (neighbours[offsets[:-1, None] + slots[None, :]] >= 0).sum(axis=1)


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m bench.hnsw_sweep", __doc__)
    p.add_argument("--m", type=int, default=HNSW_M, help=f"neighbours per node (default {HNSW_M}, the store's)")
    p.add_argument("--ef-construction", type=int, nargs="+", default=[HNSW_EF_CONSTRUCTION])
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    p.add_argument(
        "--pruned-level0",
        action="store_true",
        help="keep only the links HNSW's heuristic chooses at level 0 (faiss's default; the store fills the lists)",
    )
    p.add_argument(
        "--document-order",
        action="store_true",
        help="insert the vectors in corpus order (topic by topic) instead of the store's fixed random order",
    )
    p.add_argument(
        "--index",
        type=Path,
        help="search an HNSW index already built over the same corpus (a vectors.faiss, for example of a "
        "scale cell kept with `bench.scale --keep`) instead of building one",
    )
    args = p.parse_args(argv)
    if args.index:
        built = faiss.read_index(str(args.index))
        if not isinstance(built, faiss.IndexHNSW) or built.ntotal != args.size:
            p.error(f"{args.index} is not an HNSW index of {args.size:,} vectors")
        q = synthetic.queries(args.queries, DIM, args.seed, args.size, args.vectors)
        exact = synthetic.exact_top(args.size, DIM, args.seed, q, 10, kind=args.vectors)
        faiss.omp_set_num_threads(1)
        print(f"{args.size:,} {args.vectors} vectors, {args.index}, {args.queries} queries, one thread")
        print("| efSearch | recall@10 | p50 ms | p95 ms |\n|---|---|---|---|")
        for ef in args.ef_search:
            built.hnsw.efSearch = ef
            print(f"| {ef} | {timed(lambda x: built.search(x, CANDIDATES)[1], q, exact)} |", flush=True)  # noqa: B023
        return 0
    v, q, exact = corpus(args)
    full = HNSW_FULL_LEVEL0 and not args.pruned_level0
    level0 = "full level-0 lists" if full else "pruned level-0 lists"
    order = "in corpus order" if args.document_order else "inserted shuffled"
    print(f"{args.size:,} {args.vectors} vectors, M={args.m}, {level0}, {order}, {args.queries} queries, one thread")
    print("| efConstruction | build s | efSearch | recall@10 | p50 ms | p95 ms |\n|---|---|---|---|---|---|")
    notes = []
    for ef_c in args.ef_construction:
        faiss.omp_set_num_threads(THREADS)  # building uses every core
        t = time.perf_counter()
        index = hnsw_graph(v, DIM, args.m, ef_c, full, shuffle=not args.document_order)
        build = time.perf_counter() - t
        links = level0_links(index)
        slots = index.hnsw.nb_neighbors(0)
        notes.append(f"efConstruction {ef_c}: level-0 lists hold a median {np.median(links):.0f} of {slots} links")
        faiss.omp_set_num_threads(1)
        for ef in args.ef_search:
            index.hnsw.efSearch = ef
            row = timed(lambda x: index.search(x, CANDIDATES)[1], q, exact)  # noqa: B023  (called at once)
            print(f"| {ef_c} | {build:.0f} | {ef} | {row} |", flush=True)
    print("\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
