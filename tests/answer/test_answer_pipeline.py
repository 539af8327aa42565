"""The pipeline (retrieve → refuse or generate → cite) over a fake retriever."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest

from rag.answer.generate import Generator
from rag.answer.pipeline import Event, answer_question, stream_answer
from rag.config import Settings
from rag.embed.hashing import HashingEmbedder
from rag.errors import GeneratorError
from rag.store.lexical import LexicalIndex
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION, make_passages


class FakeRetriever:
    """Returns fixed passages; records what it was asked. Its BM25 index holds just those passages."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.embedder = HashingEmbedder()
        self.lexical = LexicalIndex([p.chunk.text for p in passages])
        self.calls: list[tuple[str, int, str]] = []

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid") -> list[Passage]:
        self.calls.append((query, top_k, mode))
        return self.passages[:top_k]


class Scripted(Generator):
    """Yields the given pieces, then raises ``error`` if set; counts calls."""

    name = "scripted"

    def __init__(self, settings: Settings, pieces: Sequence[str], error: GeneratorError | None = None) -> None:
        super().__init__(settings)
        self.pieces, self.error, self.calls = list(pieces), error, 0

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        self.calls += 1
        yield from self.pieces
        if self.error:
            raise self.error


@pytest.fixture
def retriever() -> FakeRetriever:
    return FakeRetriever(make_passages())


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def test_events_stream_then_citations_then_done(unit_settings: Settings, retriever: FakeRetriever) -> None:
    gen = Scripted(unit_settings, ["Объем составил ", "3,39 млрд [1", "]. Рост [3] [9]."])
    events = list(stream_answer(f"  {TRADE_QUESTION} ", retriever, gen, unit_settings, top_k=3))
    assert _kinds(events) == ["delta"] * (len(events) - 2) + ["citations", "done"]
    text = "".join(e.data["text"] for e in events if e.kind == "delta")
    done = events[-1].data
    assert text == done["answer"] == "Объем составил 3,39 млрд [1]. Рост [3]."  # [9] points at nothing
    assert [c["n"] for c in events[-2].data["citations"]] == [1, 3] == [c["n"] for c in done["citations"]]
    assert [c["n"] for c in done["context"]] == [1, 2, 3]
    assert done["refused"] is False and done["generator"] == "scripted" and done["language"] == "ru"
    assert set(done["timings"]) == {"retrieve", "generate", "total"}
    assert retriever.calls == [(TRADE_QUESTION, 3, unit_settings.search_mode)]


def test_answer_without_markers_still_lists_context(unit_settings: Settings, retriever: FakeRetriever) -> None:
    answer = answer_question(TRADE_QUESTION, retriever, Scripted(unit_settings, ["3,39 млрд."]), unit_settings)
    assert answer.citations == () and len(answer.context) == 3


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("Сколько туристов посетили Казахстан?", "В документах нет ответа"),
        ("How many tourists came?", "I could not find"),
    ],
)
def test_refusal_happens_before_any_generator_call(
    unit_settings: Settings, retriever: FakeRetriever, question: str, message: str
) -> None:
    settings = dataclasses.replace(unit_settings, refusal_threshold=50.0)
    gen = Scripted(settings, ["never"])
    events = list(stream_answer(question, retriever, gen, settings))
    assert gen.calls == 0
    assert _kinds(events) == ["delta", "citations", "done"]
    done = events[-1].data
    assert done["refused"] is True and done["answer"].startswith(message)
    assert done["citations"] == [] and done["context"] == []
    assert events[1].data["refused"] is True


def test_nothing_retrieved_is_a_refusal(unit_settings: Settings) -> None:
    gen = Scripted(unit_settings, ["never"])
    answer = answer_question(TRADE_QUESTION, FakeRetriever([]), gen, unit_settings)
    assert answer.refused and gen.calls == 0


def test_generator_error_becomes_an_error_event(unit_settings: Settings, retriever: FakeRetriever) -> None:
    gen = Scripted(unit_settings, [], GeneratorError("openai at http://x is unreachable"))
    events = list(stream_answer(TRADE_QUESTION, retriever, gen, unit_settings))
    assert events == [
        Event("error", {"error": {"code": "generator_error", "message": "openai at http://x is unreachable"}})
    ]
    with pytest.raises(GeneratorError):
        answer_question(TRADE_QUESTION, retriever, gen, unit_settings)


def test_fallback_to_extractive_before_the_first_token(unit_settings: Settings, retriever: FakeRetriever) -> None:
    settings = dataclasses.replace(unit_settings, llm_fallback=True)
    gen = Scripted(settings, [], GeneratorError("timed out"))
    answer = answer_question(TRADE_QUESTION, retriever, gen, settings)
    assert answer.generator == "extractive" and "3,39 млрд долларов" in answer.answer
    assert [c.n for c in answer.citations] == [1]


def test_no_fallback_once_text_was_sent(unit_settings: Settings, retriever: FakeRetriever) -> None:
    settings = dataclasses.replace(unit_settings, llm_fallback=True)
    gen = Scripted(settings, ["Объем "], GeneratorError("broke off"))
    events = list(stream_answer(TRADE_QUESTION, retriever, gen, settings))
    assert _kinds(events) == ["delta", "error"]


def test_empty_generator_output_is_an_error(unit_settings: Settings, retriever: FakeRetriever) -> None:
    with pytest.raises(GeneratorError, match="empty answer"):
        answer_question(TRADE_QUESTION, retriever, Scripted(unit_settings, ["  ", "[7]"]), unit_settings)
