"""Inverted-file recall and latency against the share of lists a search scans: ``python -m bench.ivf_sweep``.

Builds the FAISS store's inverted file (``FaissStore.build(vectors, "ivf")``: lists, 4-bit fast-scan
codes, exact re-scoring, as the service builds it) over a synthetic corpus (``bench.synthetic``),
and for each ``--share`` times single-query searches at the service's depth (50 candidates, one
thread) and measures recall@10 against exact search. Prints one Markdown row per share: what
scanning more of the lists buys in recall, and at what latency (bench/results/clustered/ivf_sweep.md).
"""

from __future__ import annotations

import sys
import time

import faiss

from bench.sweep import corpus, parser, timed
from rag.search.retrieve import CANDIDATES
from rag.store.faiss.vectors import FaissStore, ivf_lists

THREADS = faiss.omp_get_max_threads()


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m bench.ivf_sweep", __doc__)
    p.add_argument("--share", type=float, nargs="+", default=[0.03125, 0.0625, 0.125, 0.25], help="shares of lists")
    args = p.parse_args(argv)
    v, q, exact = corpus(args)
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
        # FaissStore.search pins one thread, as the service does.
        row = timed(lambda x: store.search(x, CANDIDATES)[1], q, exact)
        print(f"| {lists:,} | {build:.0f} | {share:g} | {max(1, round(lists * share)):,} | {row} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
