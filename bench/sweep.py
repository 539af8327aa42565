"""What the approximate-index sweeps (``bench.hnsw_sweep``, ``bench.ivf_sweep``) share: their
options, the synthetic corpus with its queries and exact neighbours, and the timed searches."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from bench import synthetic

DIM = 384


def parser(prog: str, doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    p.add_argument("--size", type=int, default=100_000, help="chunks in the corpus")
    p.add_argument("--vectors", choices=["clustered", "uniform"], default="clustered")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    return p


def corpus(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The corpus vectors, the query vectors, and each query's exact ten nearest (positions)."""
    v = np.concatenate(list(synthetic._vector_blocks(args.size, DIM, args.seed, args.vectors)))
    q = synthetic.queries(args.queries, DIM, args.seed, args.size, args.vectors)
    return v, q, synthetic.exact_top(args.size, DIM, args.seed, q, 10, kind=args.vectors)


def timed(search: Callable[[np.ndarray], np.ndarray], q: np.ndarray, exact: np.ndarray) -> str:
    """Recall@10, p50 and p95 ms of one search per query at the service's depth (``search(query row)``
    returns the ids found, best first), as the last three cells of a Markdown row."""
    times, recall = [], []
    for i in range(len(q)):
        t = time.perf_counter()
        ids = search(q[i : i + 1])
        times.append((time.perf_counter() - t) * 1000)
        recall.append(len(set(ids[0, :10].tolist()) & set(exact[i].tolist())) / 10)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))]
    return f"{np.mean(recall):.3f} | {statistics.median(times):.2f} | {p95:.2f}"
