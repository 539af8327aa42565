"""The question pipeline: ``retrieve → prompt → generate → cite``.

:func:`answer_question` returns an :class:`~rag.types.Answer`; :func:`stream_answer` yields
:class:`Event` objects for streaming clients: ``delta`` events as the generator writes, then one
``citations`` event, then ``done`` with the whole answer. Retrieval and the refusal check run when
``stream_answer`` is called, so a missing index raises before a caller commits to a streaming
response; only generator failures arrive as an ``error`` event. The question and ``top_k`` come in
checked: `rag ask` and the HTTP routes run them through ``rag.validate`` before any work.

Refusal happens before any LLM call: when no sentence of the retrieved passages reaches
``settings.refusal_threshold`` in relevance (the log-odds of a fitted model, see
:mod:`rag.answer.relevance`, with the index's term statistics), the answer is a fixed, localized
message and no generator runs. A generator that quotes sentences (``extractive``) gets those same scores.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator as PyGenerator
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.answer.cite import MarkerFilter, build_citations, context_citations
from rag.answer.generate import Generator
from rag.answer.generate.extractive import ExtractiveGenerator
from rag.answer.prompt import pack_passages, refusal_message
from rag.answer.relevance import ScoredSentence, best_relevance, score_sentences, should_refuse
from rag.config import Settings
from rag.errors import GeneratorError
from rag.text.lang import detect_language
from rag.types import Answer, Passage

if TYPE_CHECKING:
    from rag.search.retrieve import Retriever

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: ``delta``, ``citations``, ``done`` or ``error``."""

    kind: str
    data: dict[str, Any]


@dataclass
class _Run:
    """What is known after retrieval, and the text sent so far."""

    question: str
    language: str
    context: list[Passage]
    scored: list[ScoredSentence]
    refused: bool
    started: float
    retrieve_ms: float
    sent: list[str] = field(default_factory=list)


def _score(question: str, context: list[Passage], retriever: Retriever) -> list[ScoredSentence]:
    """Sentence scores of the context, the question's words weighted by idf over the whole index."""
    if not context:
        return []
    return score_sentences(question, context, retriever.embedder, retriever.lexical)


def _prepare(question: str, retriever: Retriever, settings: Settings, top_k: int | None) -> _Run:
    started = time.perf_counter()
    question = question.strip()
    k = settings.top_k if top_k is None else top_k
    passages = retriever.search(question, k, mode=settings.search_mode)
    context = pack_passages(passages, settings.context_tokens)
    scored = _score(question, context, retriever)
    refused = should_refuse(scored, settings.refusal_threshold)
    if refused:
        log.info("refusing: best relevance %.3f < %.3f", best_relevance(scored), settings.refusal_threshold)
    retrieve_ms = (time.perf_counter() - started) * 1000
    return _Run(question, detect_language(question), context, scored, refused, started, retrieve_ms)


def _write(run: _Run, generator: Generator) -> PyGenerator[str, None, None]:
    """Stream the generator's text through the citation filter, recording what was sent."""
    markers = MarkerFilter(len(run.context))
    for piece in _pieces(run, generator):
        text = markers.feed(piece)
        if text:
            run.sent.append(text)
            yield text
    tail = markers.flush()
    if tail:
        run.sent.append(tail)
        yield tail
    if not run.sent:
        raise GeneratorError(f"{generator.name} returned an empty answer")


def _pieces(run: _Run, generator: Generator) -> Iterator[str]:
    """The generator's text; the extractive one quotes from the scores the refusal check computed."""
    if isinstance(generator, ExtractiveGenerator):
        return generator.quote(run.question, run.context, run.scored, run.language)
    return generator.stream(run.question, run.context, run.language)


def _fallback(settings: Settings, retriever: Retriever) -> Generator:
    return ExtractiveGenerator(settings, embedder=retriever.embedder)


def _pipeline(
    run: _Run, retriever: Retriever, generator: Generator, settings: Settings
) -> PyGenerator[str, None, Answer]:
    """Yield answer text as it is written; return the finished Answer."""
    gen_start = time.perf_counter()
    used = generator
    if run.refused:
        text = refusal_message(run.language, settings)
        run.sent.append(text)
        yield text
    else:
        try:
            yield from _write(run, generator)
        except GeneratorError as exc:
            if not settings.llm_fallback or run.sent or generator.name == "extractive":
                raise
            log.warning("%s failed (%s); falling back to extractive", generator.name, exc.message)
            used = _fallback(settings, retriever)
            yield from _write(run, used)
    text = "".join(run.sent)
    done = time.perf_counter()
    context = () if run.refused else context_citations(run.context)
    return Answer(
        question=run.question,
        answer=text,
        refused=run.refused,
        citations=() if run.refused else build_citations(text, run.context),
        context=context,
        generator=used.name,
        language=run.language,
        timings={
            "retrieve": run.retrieve_ms,
            "generate": (done - gen_start) * 1000,
            "total": (done - run.started) * 1000,
        },
    )


def answer_question(
    question: str, retriever: Retriever, generator: Generator, settings: Settings, top_k: int | None = None
) -> Answer:
    """Answer ``question`` from the index with citations (or refuse); raises GeneratorError on failure."""
    steps = _pipeline(_prepare(question, retriever, settings, top_k), retriever, generator, settings)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            answer: Answer = stop.value
            return answer


def stream_answer(
    question: str, retriever: Retriever, generator: Generator, settings: Settings, top_k: int | None = None
) -> Iterator[Event]:
    """Events for a streamed answer; validation and retrieval errors raise here, at call time."""
    run = _prepare(question, retriever, settings, top_k)
    return _events(run, retriever, generator, settings)


def _events(run: _Run, retriever: Retriever, generator: Generator, settings: Settings) -> Iterator[Event]:
    steps = _pipeline(run, retriever, generator, settings)
    while True:
        try:
            text = next(steps)
        except StopIteration as stop:
            answer: Answer = stop.value
            break
        except GeneratorError as exc:
            yield Event("error", {"error": {"code": exc.code, "message": exc.message}})
            return
        yield Event("delta", {"text": text})
    yield Event(
        "citations",
        {
            "refused": answer.refused,
            "citations": [c.to_dict() for c in answer.citations],
            "context": [c.to_dict() for c in answer.context],
        },
    )
    yield Event("done", answer.to_dict())
