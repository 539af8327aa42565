"""Approximate indexes on real e5-small vectors: ``python -m bench.real_vectors``.

The synthetic corpora of ``bench.scale`` draw queries from the same distribution as the chunks.
Real queries are questions (embedded with e5's ``query:`` prefix) over passages and sentences
(``passage:``): this script checks the inverted file and HNSW on those. Corpus: every chunk and
sentence vector the eval gates have embedded (the eval vector store, ``<eval cache>/vectors``;
``make gates`` fills it); queries: the first ``--questions`` questions of each benchmark set,
embedded here. Prints recall@10 against exact search and latency at the service's depth (50
candidates, one thread) per search setting, as Markdown rows (bench/results/clustered/ivf_sweep.md).
"""

from __future__ import annotations

import sys
import time

import faiss
import numpy as np

from bench.sweep import DIM, parser, timed
from rag.config import load_settings
from rag.embed import get_embedder
from rag.embed.resume import ResumeCache
from rag.evals.corpus import default_cache_root, load_dataset
from rag.search.retrieve import CANDIDATES
from rag.store.faiss.vectors import FaissStore, ivf_lists

SETS = ("xquad", "tydi", "xquad-en")


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m bench.real_vectors", __doc__)
    p.add_argument("--questions", type=int, default=100, help="questions per benchmark set")
    p.add_argument("--share", type=float, nargs="+", default=[0.0625, 0.125, 0.25, 0.5])
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128])
    args = p.parse_args(argv)
    files = sorted((default_cache_root() / "vectors").glob("e5-small-*.sqlite"))
    if not files:
        print("no stored e5-small vectors: run `make gates` first", file=sys.stderr)
        return 2
    store = ResumeCache(files[-1].parent, "e5-small", DIM, filename=files[-1].name)
    v = store.vectors().copy()
    store.close()
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    settings = load_settings()
    questions = [q.question for name in SETS for q in load_dataset(name, settings).questions[: args.questions]]
    q = get_embedder("e5-small").embed_queries(questions).astype(np.float32)
    exact = np.argsort(-(q @ v.T), axis=1, kind="stable")[:, :10]
    print(f"{len(v):,} real vectors ({files[-1].name}), {len(q)} questions of {', '.join(SETS)}, one thread")
    print("| index | setting | recall@10 | p50 ms | p95 ms |\n|---|---|---|---|---|")
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    t = time.perf_counter()
    ivf = FaissStore.build(v, "ivf")
    build = time.perf_counter() - t
    for share in args.share:
        ivf.set_search_depth(CANDIDATES, share)
        row = timed(lambda x: ivf.search(x, CANDIDATES)[1], q, exact)
        print(f"| ivf ({ivf_lists(len(v))} lists, {build:.1f} s) | share {share:g} | {row} |", flush=True)
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    t = time.perf_counter()
    hnsw = FaissStore.build(v, "hnsw")
    build = time.perf_counter() - t
    for ef in args.ef_search:
        hnsw.set_search_depth(ef)
        row = timed(lambda x: hnsw.search(x, CANDIDATES)[1], q, exact)
        print(f"| hnsw ({build:.1f} s) | efSearch {ef} | {row} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
