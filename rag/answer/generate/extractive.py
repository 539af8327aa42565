"""The default generator: answers by quoting the best sentences of the passages, no model server.

Sentences are scored against the question by :mod:`rag.answer.relevance` (a fitted model over
embedder cosines, stemmed lexical overlap weighted by corpus idf, neighbour context, answer-type
checks and the passage's retrieval rank). The answer leads with the best sentence. A second one
follows when the best alone is not confident enough (it holds less than ``answer_coverage`` of the
chance, a softmax of the log-odds over the question's sentences: then the next best of the same
passage), or when the model judges the second answering too (its log-odds reach the refusal
threshold: a second sentence often holds the other half of a two-part question); each is followed
by the number of the passage it came from. When no sentence reaches the threshold it says, in the
question's language, that the documents do not hold the answer. English questions get Russian
quotes: the sources are not translated.

Inside the pipeline (:mod:`rag.answer.pipeline`) the generator is handed the sentence scores the
refusal check already computed (:meth:`ExtractiveGenerator.quote`): one scoring per question, with
the corpus statistics only the retriever has. Called on its own, :meth:`stream` scores the
passages itself, with idf over the retrieved sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rag.answer.cite import neutralize_markers
from rag.answer.generate import Generator
from rag.answer.prompt import refusal_message
from rag.answer.relevance import ScoredSentence, score_sentences, should_refuse
from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.types import Passage

if TYPE_CHECKING:
    import httpx

MAX_SENTENCES = 2  # a short answer: the best sentence and at most one more


def answer_shares(scored: Sequence[ScoredSentence]) -> list[float]:
    """How the chance of holding the answer divides among ``scored``: a softmax of their log-odds."""
    if not scored:
        return []
    top = max(s.score for s in scored)
    weights = [math.exp(s.score - top) for s in scored]
    total = sum(weights)
    return [w / total for w in weights]


def quoted(scored: Sequence[ScoredSentence], threshold: float, coverage: float) -> list[ScoredSentence]:
    """The sentences to quote from ``scored`` (best first), given the question is answered.

    The best sentence, then (at most ``MAX_SENTENCES`` in all) the next best sentence of the same
    passage while the quoted ones hold less than ``coverage`` of the answer's chance
    (:func:`answer_shares`), and any sentence that reaches the refusal ``threshold`` itself (a second
    sentence often holds the other half of a two-part question). Only a sentence judged answering
    on its own brings in another passage, so an unsure answer quotes more of the passage it is
    sure of instead of citing one it is not. A repeat of a quoted sentence (windows of a paragraph
    overlap) is skipped.
    """
    if not scored:
        return []
    shares = answer_shares(scored)
    picked, held = [scored[0]], shares[0]
    for s, share in zip(scored[1:], shares[1:], strict=True):
        if len(picked) >= MAX_SENTENCES or (held >= coverage and s.score < threshold):
            break  # scores only fall from here: nothing later reaches the threshold either
        if any(s.text.strip() == p.text.strip() for p in picked):
            continue
        if s.score >= threshold or s.passage == picked[0].passage:
            picked.append(s)
            held += share
    return picked


class ExtractiveGenerator(Generator):
    """Quotes the sentences that best answer the question, citing their passages."""

    name = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        super().__init__(settings)
        self._embedder = embedder

    @classmethod
    def create(
        cls, settings: Settings, *, embedder: Embedder | None = None, client: httpx.Client | None = None
    ) -> Generator:
        return cls(settings, embedder=embedder)

    @property
    def embedder(self) -> Embedder:
        """The embedder that scores sentences (the index's, from settings, unless one was given)."""
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder)
        return self._embedder

    def pick(
        self, question: str, passages: Sequence[Passage], scored: Sequence[ScoredSentence] | None = None
    ) -> list[ScoredSentence]:
        """The sentences to quote, best first; empty when none is relevant enough."""
        if scored is None:
            scored = score_sentences(question, passages, self.embedder)
        threshold = self.settings.refusal_threshold
        if should_refuse(scored, threshold):
            return []
        return quoted(scored, threshold, self.settings.answer_coverage)

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        return self.quote(question, passages, score_sentences(question, passages, self.embedder), language)

    def quote(
        self, question: str, passages: Sequence[Passage], scored: Sequence[ScoredSentence], language: str
    ) -> Iterator[str]:
        """Like :meth:`stream`, from sentence scores already computed for these passages."""
        picked = self.pick(question, passages, scored)
        if not picked:
            yield refusal_message(language, self.settings)
            return
        # Quoted text keeps no "[n]" of its own: the only markers in the answer are the ones added here,
        # one after each run of sentences from the same passage ("A. B. [1]", not "A. [1] B. [1]").
        parts = []
        for i, s in enumerate(picked):
            parts.append(neutralize_markers(" ".join(s.text.split())))
            if i + 1 == len(picked) or picked[i + 1].passage != s.passage:
                parts[-1] += f" [{s.passage + 1}]"
        text = " ".join(parts)
        # Word-sized pieces, so streaming clients see the same cadence as from an LLM.
        yield from re.findall(r"\S+\s*", text)
