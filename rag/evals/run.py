"""Run an eval: retrieval ranks in each search mode, then answers through the real pipeline.

Retrieval and answering are separate passes so that ``--retrieval-only`` (the XQuAD gate) never
loads a generator, and so that retrieval latency is measured without generation in the way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from rag.config import Settings
from rag.embed import clear_query_cache
from rag.evals.dataset import EvalQuestion
from rag.evals.gold import gold_chunks, gold_rank, holds_answer
from rag.evals.metrics import Scored, percentiles, summarize, word_count
from rag.evals.normalize import facts_found, normalize
from rag.evals.retrieval import score_ranks
from rag.search.retrieve import Retriever


def forget_query_vectors() -> None:
    """Empty the process-wide query-vector cache so that each pass times real query embedding."""
    # Retrieval, the refusal check and the extractive answer share rag.embed's query cache. Without
    # this, the second search mode and the answer pass would time cache hits, not what a new
    # question to the service costs. Within one pass the sharing is real pipeline behaviour.
    clear_query_cache()


@dataclass
class EvalRun:
    """Everything one eval produced: overall metrics and one record per question."""

    metrics: dict[str, float | None] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, dict[str, float | None]] = field(default_factory=dict)


def run_retrieval_pass(
    retriever: Retriever, questions: Sequence[EvalQuestion], modes: Sequence[str], run: EvalRun, progress: bool
) -> None:
    """Rank the gold passage of every answerable question in each mode; fill metrics and records."""
    normalized = [normalize(c.text) for c in retriever.chunks]
    asked = [(i, q) for i, q in enumerate(questions) if q.answerable]
    golds = {i: gold_chunks(q, retriever.chunks, normalized) for i, q in asked}
    for mode in modes:
        forget_query_vectors()
        ranks, lat = [], []
        for i, q in tqdm(asked, desc=f"retrieval {mode}", unit="q", disable=not progress, leave=False):
            t = time.perf_counter()
            rank = gold_rank(retriever, q, golds[i], mode)
            lat.append((time.perf_counter() - t) * 1000)
            ranks.append(rank)
            run.questions[i].setdefault("rank", {})[mode] = rank
            run.questions[i].setdefault("retrieval_ms", {})[mode] = round(lat[-1], 2)
        for key, value in score_ranks(mode, ranks, lat).to_dict().items():
            run.metrics[f"retrieval.{mode}.{key}"] = value
    for i, _ in asked:
        if not golds[i] and not questions[i].doc_id:
            run.questions[i]["warning"] = "no chunk of the index holds the source quote or the facts"


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


def run_answer_pass(
    retriever: Retriever,
    questions: Sequence[EvalQuestion],
    generator: Any,
    settings: Settings,
    top_k: int,
    run: EvalRun,
    progress: bool,
) -> None:
    """Answer every question with the real pipeline and score the answers."""
    from rag.answer.pipeline import answer_question  # imported here: retrieval-only runs never need it

    forget_query_vectors()
    scored: list[tuple[EvalQuestion, Scored]] = []
    lat: dict[str, list[float]] = {"retrieval": [], "generation": [], "total": []}
    for i, q in enumerate(tqdm(questions, desc="answers", unit="q", disable=not progress, leave=False)):
        t = time.perf_counter()
        answer = answer_question(q.question, retriever, generator, settings, top_k)
        record, score = _answer_record(q, answer, (time.perf_counter() - t) * 1000)
        run.questions[i].update(record)
        scored.append((q, score))
        for key, value in record["latency_ms"].items():
            lat[key].append(value)
    for key, value in summarize(s for _, s in scored).items():
        run.metrics[f"answer.{key}"] = value
    for stage, values in lat.items():
        for key, value in percentiles(values).items():
            run.metrics[f"latency.{stage}.{key}"] = value
    for kind in sorted({q.kind for q in questions}):
        row = summarize(s for q, s in scored if q.kind == kind)
        row.pop("refusal_precision")  # within one kind it says nothing: refusals of other kinds are missing
        run.breakdown[kind] = row


def evaluate(
    retriever: Retriever,
    questions: Sequence[EvalQuestion],
    settings: Settings,
    modes: Sequence[str],
    generator: Any = None,
    top_k: int = 5,
    progress: bool = True,
) -> EvalRun:
    """Run the retrieval pass, then (when a generator is given) the answer pass."""
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
    if modes:
        run_retrieval_pass(retriever, questions, modes, run, progress)
    if generator is not None:
        run_answer_pass(retriever, questions, generator, settings, top_k, run, progress)
    return run
