"""Fusing dense and lexical rankings into one.

Two methods, both over the union of each ranker's top candidates:

- ``rrf``: reciprocal rank fusion, score = Σ 1/(k + rank). Needs no score calibration.
- ``convex``: w·dense + (1-w)·lexical after scaling each ranker's candidate scores to [0, 1]
  (min-max over the candidates). Uses how far ahead the top hit is, which ranks throw away.

Measured on XQuAD-ru (240 paragraphs, 1,190 questions, e5-small, 200-token chunks; rerun with
``python evals/bench_retrieval.py``); the table is in docs/retrieval.md. The default is the
better of the two there; see ``DEFAULT``.
"""

from __future__ import annotations

import numpy as np

RRF_K = 60
CONVEX_WEIGHT = 0.5  # weight of the dense score; see docs/retrieval.md
DEFAULT = "convex"


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.ones_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


def fuse(
    dense_ids: np.ndarray,
    dense_scores: np.ndarray,
    lexical_scores: np.ndarray,
    depth: int,
    method: str = DEFAULT,
    weight: float = CONVEX_WEIGHT,
) -> tuple[np.ndarray, np.ndarray]:
    """(row ids, fused scores) best first. ``lexical_scores`` covers every row of the corpus."""
    lex_ids = np.argsort(-lexical_scores, kind="stable")[:depth]
    lex_ids = lex_ids[lexical_scores[lex_ids] > 0]
    cand = np.unique(np.concatenate([dense_ids[dense_ids >= 0], lex_ids]))
    if method == "rrf":
        d_rank = {int(r): i for i, r in enumerate(dense_ids)}
        l_rank = {int(r): i for i, r in enumerate(lex_ids)}
        scores = np.array(
            [
                (1.0 / (RRF_K + d_rank[r] + 1) if r in d_rank else 0.0)
                + (1.0 / (RRF_K + l_rank[r] + 1) if r in l_rank else 0.0)
                for r in map(int, cand)
            ]
        )
    elif method == "convex":
        d_map = {int(r): float(s) for r, s in zip(dense_ids, dense_scores, strict=False) if r >= 0}
        floor = min(d_map.values()) if d_map else 0.0  # rows beyond the dense depth score as its worst
        d = np.array([d_map.get(int(r), floor) for r in cand])
        lex = lexical_scores[cand]
        scores = weight * _minmax(d) + (1 - weight) * (_minmax(lex) if lex.max() > 0 else np.zeros_like(lex))
    else:
        raise ValueError(f"unknown fusion {method!r}")
    order = np.argsort(-scores, kind="stable")
    return cand[order], scores[order]
