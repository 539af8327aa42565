"""Sentence-aware chunking for Russian and English.

Sentences come from ``razdel`` (rule-based, handles Russian abbreviations and initials; fine on
English too); paragraph breaks are hard sentence boundaries. Whole sentences are packed into a
chunk until the cl100k token budget is reached, and consecutive chunks share ``overlap`` sentences.
A single sentence longer than the budget is split at word boundaries.

Each chunk's title is the document title plus the section heading it falls under (a short
one-line paragraph without final punctuation, or a Markdown ``#`` line), so a citation says
where in a long document the passage sits.

Defaults (200 tokens, 1 sentence overlap) were chosen on XQuAD-ru retrieval with e5-small
(evals/bench_retrieval.py): see docs/retrieval.md for the measured table. e5-small truncates at
512 word pieces, so chunks much larger than ~300 cl100k tokens of Russian lose their tails.
"""

from __future__ import annotations

import re

from rag.text.sentences import split_sentences
from rag.text.tokens import count_tokens
from rag.types import Chunk, Document

_HEADING_MAX = 120
# Photo credits and captions in news copy look like headings but are not.
_CAPTION = re.compile(r"^(фото|photo|источник|source|иллюстрация|credit)\b", re.IGNORECASE)


def _headings(text: str) -> list[tuple[int, str]]:
    """(offset, heading) for every paragraph that looks like a section heading."""
    out = []
    for m in re.finditer(r"(?:^|\n\s*\n)([^\n]+)(?=\n\s*\n|\Z)", text):
        line = m.group(1).strip()
        md = line.startswith("#")
        line = line.lstrip("#").strip()
        if (
            line
            and not _CAPTION.match(line)
            and (md or (len(line) <= _HEADING_MAX and line[-1] not in ".!?:;,…" and line[0].isupper()))
        ):
            out.append((m.start(1), line))
    return out


def _section_title(doc: Document, headings: list[tuple[int, str]], start: int) -> str:
    current = ""
    for offset, heading in headings:
        if offset > start:
            break
        current = heading
    return doc.title if not current or current == doc.title else f"{doc.title} — {current}"


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at whitespace into pieces within the budget."""
    pieces: list[tuple[int, int]] = []
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    cur_start, cur_end = words[0]
    for ws, we in words[1:]:
        if count_tokens(text[cur_start:we]) > max_tokens:
            pieces.append((cur_start, cur_end))
            cur_start = ws
        cur_end = we
    pieces.append((cur_start, cur_end))
    return pieces


def chunk_document(doc: Document, max_tokens: int = 200, overlap: int = 1) -> list[Chunk]:
    """Pack ``doc``'s sentences into chunks of at most ``max_tokens`` tokens."""
    spans: list[tuple[int, int]] = []
    sizes: list[int] = []
    for s, e in split_sentences(doc.text):
        size = count_tokens(doc.text[s:e])
        if size > max_tokens:
            pieces = _split_long(doc.text, s, e, max_tokens)
            spans.extend(pieces)
            sizes.extend(count_tokens(doc.text[a:b]) for a, b in pieces)
        else:
            spans.append((s, e))
            sizes.append(size)
    groups: list[tuple[int, int]] = []  # [first, last] sentence index, inclusive
    i = 0
    while i < len(spans):
        j, total = i, sizes[i]
        while j + 1 < len(spans) and total + sizes[j + 1] + 1 <= max_tokens:
            j += 1
            total += sizes[j] + 1
        groups.append((i, j))
        if j + 1 >= len(spans):
            break
        # step forward, keeping `overlap` sentences, but always make progress
        i = max(j + 1 - overlap, i + 1)
    headings = _headings(doc.text)
    chunks = []
    for n, (a, b) in enumerate(groups):
        start, end = spans[a][0], spans[b][1]
        title = _section_title(doc, headings, start)
        text = doc.text[start:end]
        chunks.append(
            Chunk(f"{doc.doc_id}#{n}", doc.doc_id, doc.source, title, text, start, end, n, doc.page_at(start))
        )
    return chunks
