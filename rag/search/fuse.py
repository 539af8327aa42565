"""Fusing the rankers' scores into one ranking.

Three signals rank the passages of a hybrid search: the cosine of the question and the passage
(dense), the best cosine of the question and one of the passage's sentences (sentence; when the
index stored sentence vectors), and BM25 over stemmed terms (lexical). The default fusion, ``z``,
scales each signal to z-scores over the pooled candidates (the union of the dense and lexical top
results; the sentence signal is computed for those) and adds them, the lexical one weighted by
the question's *coverage*: the idf-weighted share of its terms that occur in the corpus at all.
Z-scores let a signal that separates one
passage from the rest speak louder than one whose scores are flat, and the coverage weight means
a ranker with nothing to match gets no vote: an English question over a Russian corpus can match
only numbers and names, and under an even split its BM25 list dragged hit@1 from 0.80 to 0.64.

Measured over five question sets at once (hit@1 / hit@5 of the passage holding the answer; whole
paragraphs as passages; the table is in docs/retrieval.md, rerun with
``python evals/tune_retrieval.py --sentences``): ``z`` with the sentence signal 0.957 / 0.997 on
XQuAD-ru, 0.889 / 0.968 on TyDi-ru, 0.849 / 0.972 on English questions over XQuAD-ru and
0.933 / 0.989 on the seed article, where the even convex mix of min-max-scaled dense and lexical
scores that was the default gave 0.942, 0.869, 0.639 and 0.921.

``convex`` (w·dense + (1-w)·lexical after min-max scaling) and ``rrf`` (reciprocal rank fusion)
are kept for comparison benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RRF_K = 60
CONVEX_WEIGHT = 0.5  # weight of the dense score in convex fusion
DEFAULT = "z"
METHODS = ("z", "convex", "rrf")


@dataclass(frozen=True)
class Ranked:
    """One ranker's top results: row ids and scores, best first."""

    ids: np.ndarray
    scores: np.ndarray


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.ones_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return np.zeros_like(x) if sd < 1e-9 else (x - x.mean()) / sd


def _on(cand: np.ndarray, ranked: Ranked) -> np.ndarray:
    """The ranker's scores for ``cand``; rows beyond its list score as its worst."""
    got = dict(zip(ranked.ids.tolist(), ranked.scores.tolist(), strict=True))
    floor = float(ranked.scores.min()) if len(ranked.scores) else 0.0
    return np.array([got.get(int(r), floor) for r in cand], dtype=np.float64)


def fuse(
    dense: Ranked,
    lexical_scores: np.ndarray,
    depth: int,
    method: str = DEFAULT,
    sentence: Callable[[np.ndarray], np.ndarray] | None = None,
    coverage: float = 1.0,
    weight: float = CONVEX_WEIGHT,
) -> tuple[np.ndarray, np.ndarray]:
    """(row ids, fused scores) best first.

    ``dense`` is the dense ranker's top ``depth``; ``lexical_scores`` covers every row of the corpus;
    ``sentence`` gives the sentence signal for any candidate rows (computed for the pool only).
    """
    lex_ids = np.argsort(-lexical_scores, kind="stable")[:depth]
    lex_ids = lex_ids[lexical_scores[lex_ids] > 0]
    cand = np.unique(np.concatenate([dense.ids, lex_ids])).astype(np.int64)
    if len(cand) == 0:
        return cand, np.zeros(0)
    lex = lexical_scores[cand].astype(np.float64)
    if method == "z":
        scores = _z(_on(cand, dense)) + (_z(sentence(cand)) if sentence is not None else 0.0)
        if lex.max() > 0:
            scores = scores + coverage * _z(lex)
    elif method == "convex":
        d = _on(cand, dense)
        scores = weight * _minmax(d) + (1 - weight) * (_minmax(lex) if lex.max() > 0 else np.zeros_like(lex))
    elif method == "rrf":
        d_rank = {int(r): i for i, r in enumerate(dense.ids)}
        l_rank = {int(r): i for i, r in enumerate(lex_ids)}
        scores = np.array(
            [
                (1.0 / (RRF_K + d_rank[r] + 1) if r in d_rank else 0.0)
                + (1.0 / (RRF_K + l_rank[r] + 1) if r in l_rank else 0.0)
                for r in map(int, cand)
            ]
        )
    else:
        raise ValueError(f"unknown fusion {method!r}; known: {', '.join(METHODS)}")
    order = np.argsort(-scores, kind="stable")
    return cand[order], scores[order]
