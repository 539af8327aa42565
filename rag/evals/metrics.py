"""Answer metrics: fact recall, citation precision, refusal precision/recall, length, percentiles.

Pure functions over plain values so that they can be checked on hand-made cases. Conventions:
a ratio with an empty denominator is ``None`` ("not measured", e.g. refusal recall on a dataset
without unanswerable questions), except refusal precision when the dataset has unanswerable
questions but nothing was refused: that is 0.0, because refusing nothing is a failure to refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.evals.normalize import facts_found, normalize


@dataclass(frozen=True)
class Scored:
    """One answered question, reduced to what the answer metrics need."""

    answerable: bool
    refused: bool
    facts_total: int
    facts_found: int
    citations: int  # citations in the answer
    citations_supported: int  # of those, citations whose passage holds the answer
    words: int


def fact_recall(answer: str, facts: Sequence[Sequence[str]]) -> float:
    """Share of the required facts present in ``answer`` (1.0 when there are none)."""
    if not facts:
        return 1.0
    found = facts_found(facts, answer)
    return sum(found) / len(found)


def supports(passage: str, facts: Sequence[Sequence[str]], quote: str = "") -> bool:
    """True when ``passage`` holds the answer: the whole source quote, or every fact."""
    if quote and normalize(quote) in normalize(passage):
        return True
    return bool(facts) and all(facts_found(facts, passage))


def word_count(text: str) -> int:
    """Number of whitespace-separated words."""
    return len(text.split())


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def summarize(rows: Iterable[Scored]) -> dict[str, float | None]:
    """Dataset-level answer metrics from per-question scores."""
    rows = list(rows)
    ans = [r for r in rows if r.answerable]
    unans = [r for r in rows if not r.answerable]
    refused = [r for r in rows if r.refused]
    answered = [r for r in ans if not r.refused]
    recall = [r.facts_found / r.facts_total if r.facts_total and not r.refused else 0.0 for r in ans]
    cites = sum(r.citations for r in answered)
    refusal_precision = _ratio(sum(not r.answerable for r in refused), len(refused))
    if refusal_precision is None and unans:
        refusal_precision = 0.0
    return {
        "fact_recall": _ratio(sum(recall), len(recall)),
        "all_facts": _ratio(sum(x == 1.0 for x in recall), len(recall)),
        "citation_precision": _ratio(sum(r.citations_supported for r in answered), cites),
        "supported_answers": _ratio(sum(r.citations_supported > 0 for r in answered), len(answered)),
        # Answerable questions answered with every fact and a citation of a passage that holds it.
        "gold_cited": _ratio(
            sum(r.facts_found == r.facts_total and r.citations_supported > 0 for r in answered), len(ans)
        ),
        "refusal_precision": refusal_precision if unans else None,
        "refusal_recall": _ratio(sum(r.refused for r in unans), len(unans)),
        "false_refusals": _ratio(sum(r.refused for r in ans), len(ans)),
        "length_words": _ratio(sum(r.words for r in rows if not r.refused), sum(not r.refused for r in rows)),
        "length_words_p50": float(np.median([r.words for r in rows if not r.refused]))
        if any(not r.refused for r in rows)
        else None,
    }


def percentiles(values_ms: Sequence[float]) -> dict[str, float | None]:
    """p50 and p95 of a list of milliseconds (None when empty)."""
    if not values_ms:
        return {"p50_ms": None, "p95_ms": None}
    arr = np.asarray(values_ms, dtype=float)
    return {"p50_ms": float(np.percentile(arr, 50)), "p95_ms": float(np.percentile(arr, 95))}
