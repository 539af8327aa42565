"""The nouns of the pipeline, as frozen dataclasses.

Ingest: ``Document`` → ``Chunk``. Question: ``Passage`` (a chunk with a retrieval score) →
``Citation`` → ``Answer``.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from rag.text.lang import detect_language
from rag.text.sentences import under_table_header

if TYPE_CHECKING:
    import numpy as np

# Longest title (document and section heading together) a sentence is embedded under: headings of
# the eval corpora run to 13 words; a longer "title" is a text's first line (Chunk.sentence_text).
SENTENCE_TITLE_WORDS = 16


@dataclass(frozen=True)
class Document:
    """One source file, decoded to text."""

    doc_id: str  # stable id: the path relative to the ingest root, with '/' separators
    source: str  # the path as given to ingest
    title: str
    text: str
    content_hash: str  # sha256 of the decoded text
    path: str = ""  # absolute path of the file it was read from; empty for uploads and datasets
    # Paged formats (PDF): the offset in ``text`` where each page starts; page n starts at pages[n - 1].
    # Every page after the first begins right after a form feed ("\f") that ends the page before it.
    pages: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character ``offset``, or None for formats without pages."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences from one document; ``text == document.text[start:end]``."""

    chunk_id: str  # f"{doc_id}#{ordinal}"
    doc_id: str
    source: str
    title: str
    text: str
    start: int  # character offset into Document.text
    end: int
    ordinal: int  # position of the chunk within its document
    # 1-based page where the chunk starts (paged formats only); a page break inside it is a "\f".
    page_start: int | None = None

    @property
    def page_end(self) -> int | None:
        """The page where the chunk ends."""
        return None if self.page_start is None else self.page_start + self.text.count("\f")

    def page_at(self, offset: int) -> int | None:
        """The page of character ``offset`` of ``text``."""
        return None if self.page_start is None else self.page_start + self.text.count("\f", 0, offset)

    def indexed_text(self, titles: bool) -> str:
        """What the rankers index (embedded and stemmed for BM25): the title above the text, unless
        titles are off or the text already begins with it (a heading joined to its paragraph)."""
        title = self.title.strip()
        if not titles or not title or self.text.lstrip().startswith(title):
            return self.text
        return f"{title}\n{self.text}"

    def sentence_text(self, start: int, end: int, titles: bool) -> str:
        """What a sentence of this chunk (``text[start:end]``) is embedded as: under the title line
        when the title is written in the text's language (also when the paragraph opens with the
        title, as a lead sentence or a joined heading does: the sentences after it lack it), unless
        the sentence itself begins with the title.

        A paragraph's sentences often name their subject only through the title ("Родилась 9
        февраля 1966 года" under "Голикова, Татьяна Алексеевна"), which is what a native question
        names. A title in another language (an English slug over a Russian paragraph) would pull
        every sentence of the passage towards questions in that language instead. A title longer
        than :data:`SENTENCE_TITLE_WORDS` is left off too: that is the opening of a text without a
        heading (the loader's fallback title), not a name, and would double a sentence's cost. A
        table row is embedded under its table's header row (``under_table_header``), whatever ``titles``."""
        sentence = under_table_header(self.text, start, end)
        title = self._sentence_title
        if not titles or not title or sentence.lstrip().startswith(title):
            return sentence
        return f"{title}\n{sentence}"

    @cached_property
    def _sentence_title(self) -> str:
        """The title if its sentences may be embedded under it, else "" (decided once per chunk)."""
        title = self.title.strip()
        if len(title.split()) > SENTENCE_TITLE_WORDS or detect_language(title) != detect_language(self.text):
            return ""
        return title


@dataclass(frozen=True)
class Passage:
    """A chunk returned by retrieval, with its score and rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int
    # Spans (into chunk.text) and unit vectors of the chunk's sentences, when the index stored them.
    sentences: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)
    sentence_vectors: np.ndarray | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used by `rag search --json` and `/v1/search`."""
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "page_start": c.page_start,
            "page_end": c.page_end,
        }


@dataclass(frozen=True)
class Citation:
    """A passage that an answer cites as ``[n]``."""

    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = None  # 1-based page of the quoted text (or of the passage's start); None without pages

    @classmethod
    def from_passage(cls, n: int, passage: Passage, at: int = 0) -> Citation:
        """Cite ``passage``; ``at`` is where in its text the quoted part starts (it picks the page)."""
        c = passage.chunk
        return cls(n, c.chunk_id, c.doc_id, c.source, c.title, c.text, c.start, c.end, passage.score, c.page_at(at))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 6)
        return d


@dataclass(frozen=True)
class Answer:
    """What `rag ask` and `/v1/ask` return."""

    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    context: tuple[Citation, ...]  # every passage the generator was given
    generator: str
    language: str  # "ru" or "en"
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "context": [c.to_dict() for c in self.context],
            "generator": self.generator,
            "language": self.language,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }
