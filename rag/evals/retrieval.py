"""Retrieval benchmark: index a corpus, ask every question in each search mode, score the ranks.

A question counts as a hit at k when its gold document is among the first k *distinct documents*
retrieved (a long paragraph may be split into several chunks; the chunks of one document count
once). Reports hit@1/3/5/10, MRR (over the first 10 documents) and per-query latency p50/p95.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.search.retrieve import Retriever

KS = (1, 3, 5, 10)


@dataclass
class RetrievalResult:
    """Metrics for one search mode, plus each question's gold rank (0 = not in the first 10)."""

    mode: str
    hits: dict[int, float]
    mrr: float
    p50_ms: float
    p95_ms: float
    ranks: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"hit@{k}": round(v, 4) for k, v in self.hits.items()}
        out.update(mrr=round(self.mrr, 4), p50_ms=round(self.p50_ms, 2), p95_ms=round(self.p95_ms, 2))
        return out


def doc_rank(retriever: Retriever, query: str, gold_doc: str, mode: str, depth: int = 10) -> int:
    """1-based rank of ``gold_doc`` among distinct retrieved documents, 0 if not in the first ``depth``."""
    seen: list[str] = []
    for p in retriever.search(query, top_k=depth * 4, mode=mode):
        if p.chunk.doc_id not in seen:
            seen.append(p.chunk.doc_id)
            if p.chunk.doc_id == gold_doc:
                return len(seen)
            if len(seen) >= depth:
                break
    return 0


def score_ranks(mode: str, ranks: Sequence[int], latencies_ms: Sequence[float]) -> RetrievalResult:
    """Aggregate gold ranks and latencies into a RetrievalResult."""
    r = np.asarray(ranks)
    n = max(len(r), 1)
    hits = {k: float(((r > 0) & (r <= k)).sum()) / n for k in KS}
    mrr = float(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0).sum()) / n
    lat = np.asarray(latencies_ms) if len(latencies_ms) else np.zeros(1)
    return RetrievalResult(mode, hits, mrr, float(np.percentile(lat, 50)), float(np.percentile(lat, 95)), list(ranks))


def run_retrieval(
    retriever: Retriever,
    questions: Sequence[tuple[str, str]],
    modes: Sequence[str] = ("dense", "lexical", "hybrid"),
    progress: bool = True,
) -> dict[str, RetrievalResult]:
    """Score every (question, gold doc_id) pair in each mode."""
    results = {}
    for mode in modes:
        ranks, lat = [], []
        for q, gold in tqdm(questions, desc=f"retrieval {mode}", unit="q", disable=not progress):
            t = time.perf_counter()
            ranks.append(doc_rank(retriever, q, gold, mode))
            lat.append((time.perf_counter() - t) * 1000)
        results[mode] = score_ranks(mode, ranks, lat)
    return results
