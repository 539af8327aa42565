"""Run an eval: each question is embedded once (timed), ranked in each search mode, then answered
through the real pipeline.

Embedding a question is most of what retrieval costs (about 20 ms of a 25 ms hybrid search), and
every search mode and the answer need the same vector, so each question is embedded once, timed
on its own (``latency.embed``), and the later steps find the vector in ``rag.embed``'s query cache:
their latencies (``retrieval.<mode>.p50_ms``, ``latency.retrieval``, ``latency.total``) exclude
query embedding; what a new question costs the service is the embedding plus them. Embedding it
again for every mode and for the answer would measure the same thing three times over and made
the gates a third slower. ``--retrieval-only`` never loads a generator.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from rag.config import Settings
from rag.embed import clear_query_cache, embed_query
from rag.evals.dataset import EvalQuestion
from rag.evals.gold import gold_chunks, gold_rank, holds_answer
from rag.evals.metrics import Scored, percentiles, summarize, word_count
from rag.evals.normalize import facts_found, normalize
from rag.evals.retrieval import score_ranks
from rag.search.retrieve import Retriever


def forget_query_vectors() -> None:
    """Empty the process-wide query-vector cache: the first embedding of each question is timed for
    real, and an eval leaves no vectors behind."""
    clear_query_cache()


@dataclass
class EvalRun:
    """Everything one eval produced: overall metrics and one record per question."""

    metrics: dict[str, float | None] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, dict[str, float | None]] = field(default_factory=dict)


def _answer_record(q: EvalQuestion, answer: Any, total_ms: float) -> tuple[dict[str, Any], Scored]:
    found = facts_found(q.facts, answer.answer) if q.facts and not answer.refused else [False] * len(q.facts)
    cited = [(c.n, c.chunk_id, holds_answer(q, c.doc_id, c.text)) for c in answer.citations]
    if not q.answerable:
        cited = [(n, cid, False) for n, cid, _ in cited]
    timings: dict[str, float] = dict(answer.timings)
    retrieval_ms = float(timings.get("retrieve", 0.0))
    generation_ms = float(timings.get("generate", max(total_ms - retrieval_ms, 0.0)))
    record = {
        "answer": answer.answer,
        "refused": answer.refused,
        "facts_found": found,
        "fact_recall": sum(found) / len(found) if found else None,
        "citations": [
            {"n": n, "chunk_id": cid, "supported": ok, **({"page": c.page} if c.page is not None else {})}
            for (n, cid, ok), c in zip(cited, answer.citations, strict=True)
        ],
        "words": word_count(answer.answer),
        "latency_ms": {
            "retrieval": round(retrieval_ms, 2),
            "generation": round(generation_ms, 2),
            "total": round(total_ms, 2),
        },
    }
    scored = Scored(
        q.answerable, answer.refused, len(found), sum(found), len(cited), sum(ok for *_, ok in cited), record["words"]
    )
    return record, scored


def evaluate(
    retriever: Retriever,
    questions: Sequence[EvalQuestion],
    settings: Settings,
    modes: Sequence[str],
    generator: Any = None,
    top_k: int = 5,
    progress: bool = True,
) -> EvalRun:
    """Rank every answerable question's gold passage in each mode and (with a generator) answer
    every question through the real pipeline; fill metrics, per-kind breakdown and records."""
    from rag.answer.pipeline import answer_question  # retrieval-only runs never need the answer stack

    run = EvalRun(
        questions=[
            {
                "id": q.id,
                "question": q.question,
                "kind": q.kind,
                "lang": q.lang,
                "section": q.section,
                "answerable": q.answerable,
            }
            for q in questions
        ]
    )
    run.metrics["questions"] = len(questions)
    normalized = [normalize(c.text) for c in retriever.chunks] if modes else []
    ranks: dict[str, list[int]] = {mode: [] for mode in modes}
    search_ms: dict[str, list[float]] = {mode: [] for mode in modes}
    embed_ms: list[float] = []
    scored: list[tuple[EvalQuestion, Scored]] = []
    lat: dict[str, list[float]] = {"retrieval": [], "generation": [], "total": []}
    forget_query_vectors()
    for i, q in enumerate(tqdm(questions, desc="questions", unit="q", disable=not progress, leave=False)):
        record = run.questions[i]
        t = time.perf_counter()
        embed_query(retriever.embedder, q.question)  # timed once; every step below reuses it
        embed_ms.append((time.perf_counter() - t) * 1000)
        if modes and q.answerable:
            gold = gold_chunks(q, retriever.chunks, normalized)
            for mode in modes:
                t = time.perf_counter()
                rank = gold_rank(retriever, q, gold, mode)
                search_ms[mode].append((time.perf_counter() - t) * 1000)
                ranks[mode].append(rank)
                record.setdefault("rank", {})[mode] = rank
                record.setdefault("retrieval_ms", {})[mode] = round(search_ms[mode][-1], 2)
            if not gold and not q.doc_id:
                record["warning"] = "no chunk of the index holds the source quote or the facts"
        if generator is not None:
            t = time.perf_counter()
            answer = answer_question(q.question, retriever, generator, settings, top_k)
            answered, score = _answer_record(q, answer, (time.perf_counter() - t) * 1000)
            record.update(answered)
            scored.append((q, score))
            for key, value in answered["latency_ms"].items():
                lat[key].append(value)
    forget_query_vectors()
    for key, value in percentiles(embed_ms).items():
        run.metrics[f"latency.embed.{key}"] = value
    for mode in modes:
        for key, value in score_ranks(mode, ranks[mode], search_ms[mode]).to_dict().items():
            run.metrics[f"retrieval.{mode}.{key}"] = value
    if generator is None:
        return run
    for key, value in summarize(s for _, s in scored).items():
        run.metrics[f"answer.{key}"] = value
    for stage, values in lat.items():
        for key, value in percentiles(values).items():
            run.metrics[f"latency.{stage}.{key}"] = value
    for kind in sorted({q.kind for q in questions}):
        row = summarize(s for q, s in scored if q.kind == kind)
        row.pop("refusal_precision")  # within one kind it says nothing: refusals of other kinds are missing
        run.breakdown[kind] = row
    return run
