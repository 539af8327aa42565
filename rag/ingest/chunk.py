"""Passages that follow the document's own paragraphs, sized to the embedder's window.

A paragraph is the unit its author wrote about one thing, so it is the passage: one vector for
it, one citation. A paragraph longer than the budget is cut into windows of whole sentences
(``razdel``, which handles Russian abbreviations and initials; fine on English too) that share
``overlap`` sentences, and a single sentence longer than the budget is cut at word boundaries.
Headings and one-line captions are joined to the paragraph after them.

The budget is counted with the embedder's own tokenizer (``rag.embed.token_counter``) and capped
at its window: e5 reads 512 word pieces and drops the rest, so a passage that fits is embedded
whole. cl100k (the LLM-side counter) is the fallback for embedders without a tokenizer.

Measured over XQuAD-ru, TyDi-ru, XQuAD-en, English questions over XQuAD-ru and the seed set (table
in docs/retrieval.md, `python evals/tune_retrieval.py`): fixed 200-cl100k-token chunks cut
paragraphs where the answer and the words naming its subject land apart (TyDi dense hit@1 0.744 at
200 tokens against 0.874 for whole paragraphs); packing several short paragraphs into one passage
cost the seed article's many short paragraphs 3 points of hit@1.

Each chunk's title is the document title plus the section heading it falls under (a short
one-line paragraph without final punctuation, or a Markdown ``#`` line), so a citation says
where in a long document the passage sits.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from rag.text.sentences import PARAGRAPH_BREAK, split_sentences
from rag.text.tokens import count_tokens
from rag.types import Chunk, Document

Counter = Callable[[str], int]
# Recorded in the index manifest: an index chunked another way is re-chunked by the next ingest.
CHUNKER = "paragraphs-v7"  # v7: "**bold**" opening a sentence is kept

_HEADING_MAX = 120
# Paragraphs shorter than this (headings, captions, one-line leads) join the next paragraph: alone
# they are too short to be found by meaning or to make sense as a cited passage.
MIN_TOKENS = 24
# Photo credits and captions in news copy look like headings but are not.
_CAPTION = re.compile(r"^(фото|photo|источник|source|иллюстрация|credit)\b", re.IGNORECASE)


# A Markdown heading line, as written or as the DOCX and HTML loaders write their headings.
_MARKED = re.compile(r"#{1,6}\s+\S")
# Section numbering before a heading's words: "1.", "2.3", "4.1.2." ("1. Общие положения").
_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})*)\.?\s+(?=\S)")


def _depth(paragraph: str) -> int:
    """How many parts the numbering of a short numbered line without a final stop has (0: none)."""
    m = _NUMBER.match(paragraph)
    if m is None or "\n" in paragraph or len(paragraph) > _HEADING_MAX or paragraph[-1] in ".!?:;,…":
        return 0
    return m.group(1).count(".") + 1


def _looks_like_heading(paras: list[str], k: int) -> bool:
    """Whether the one-line paragraph ``paras[k]`` is a heading by its shape: short, no final stop,
    capitalised after any section number, not mostly figures; a numbered line is not one when a
    neighbour is a line numbered at the same depth (then they are the items of a list)."""
    line = paras[k]
    if not line or _CAPTION.match(line) or len(line) > _HEADING_MAX or line[-1] in ".!?:;,…":
        return False
    depth, number = _depth(line), _NUMBER.match(line)
    if depth and number is not None:
        if any(0 <= n < len(paras) and _depth(paras[n]) == depth for n in (k - 1, k + 1)):
            return False
        line = line[number.end() :]
    words = line.split()
    figures = sum(1 for w in words if any(c.isdigit() for c in w))
    if figures >= 3 and 3 * figures >= len(words):
        return False  # a row of figures ("Hilltop 15,500 34 1988"): a table's, as a PDF's arrive
    return line[:1].isupper()


def _headings(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """(offset, heading) for every paragraph (``spans``, as ``_paragraphs`` finds them) that is a section heading.

    A text that marks two headings or more as Markdown (``#`` lines: the DOCX and HTML loaders write
    their headings so) has only those: its other short lines are list items, table rows, captions.
    Otherwise one-line paragraphs that look like headings are taken, and ``#`` lines.
    """
    paras = [text[s:e] for s, e in spans]
    marked = [k for k, p in enumerate(paras) if "\n" not in p and _MARKED.match(p)]
    if len(marked) >= 2:
        picked = marked
    else:
        picked = [
            k for k, p in enumerate(paras) if "\n" not in p and (p.startswith("#") or _looks_like_heading(paras, k))
        ]
    out = []
    for k in picked:
        line = paras[k].lstrip("#").strip()
        if line and not _CAPTION.match(line):
            out.append((spans[k][0], line))
    return out


def _section_title(doc: Document, headings: list[tuple[int, str]], start: int) -> str:
    current = ""
    for offset, heading in headings:
        if offset > start:
            break
        current = heading
    return doc.title if not current or current == doc.title else f"{doc.title} — {current}"


def reporting(count: Counter, report: Callable[[], None], every: int = 4096) -> Counter:
    """``count``, reporting progress every ``every`` calls: chunking a document of tens of MB takes
    up to minutes (a text without sentence ends is cut word by word), and a progress report is where
    a stopping server's job ends, so chunking must report, not only whole documents."""
    calls = 0

    def counted(text: str) -> int:
        nonlocal calls
        calls += 1
        if calls % every == 0:
            report()
        return count(text)

    return counted


def _split_long(text: str, start: int, end: int, max_tokens: int, count: Counter) -> list[tuple[int, int]]:
    """Cut an over-long sentence at whitespace into pieces within the budget.

    Words are counted one at a time (each distinct word once) and summed, which is what a word-piece
    tokenizer gives for whitespace-separated words; each piece is then counted whole and shortened
    if the sum fell short. Counting the growing piece after every word instead cost 22 s per 100 KB
    of text without a sentence end (a hostile upload of 50 MB: hours)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    overhead = 2 * count("a") - count("a a")  # what the counter adds to any text (special tokens)
    sizes: dict[str, int] = {}

    def size(k: int) -> int:
        word = " " + text[words[k][0] : words[k][1]]  # as it follows another word (byte-pair counters)
        if word not in sizes:
            sizes[word] = max(count(word) - overhead, 1)
        return sizes[word]

    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        j, total = i, overhead + size(i)
        while j + 1 < len(words) and total + size(j + 1) <= max_tokens:
            j += 1
            total += size(j)
        if j > i and count(text[words[i][0] : words[j][1]]) > max_tokens:
            # The words joined into more pieces than they make apart: the longest run that fits.
            lo, hi = i, j - 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if count(text[words[i][0] : words[mid][1]]) <= max_tokens else (lo, mid - 1)
            j = lo
        pieces.append((words[i][0], words[j][1]))
        i = j + 1
    return pieces


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank paragraph, surrounding whitespace left out."""
    out, pos = [], 0
    for m in PARAGRAPH_BREAK.finditer(text + "\n\n"):
        seg = text[pos : m.start()]
        if seg.strip():
            out.append((pos + len(seg) - len(seg.lstrip()), pos + len(seg.rstrip())))
        pos = m.end()
    return out


def _sentence_windows(
    text: str, start: int, end: int, max_tokens: int, overlap: int, count: Counter
) -> list[tuple[int, int]]:
    """Windows of whole sentences of ``text[start:end]`` within the budget, sharing ``overlap`` sentences."""
    spans: list[tuple[int, int]] = []
    sizes: list[int] = []
    for s, e in split_sentences(text[start:end]):
        s, e = s + start, e + start
        size = count(text[s:e])
        pieces = _split_long(text, s, e, max_tokens, count) if size > max_tokens else [(s, e)]
        spans.extend(pieces)
        sizes.extend([size] if len(pieces) == 1 else [count(text[a:b]) for a, b in pieces])
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j, total = i, sizes[i]
        while j + 1 < len(spans) and total + sizes[j + 1] + 1 <= max_tokens:
            j += 1
            total += sizes[j] + 1
        windows.append((spans[i][0], spans[j][1]))
        if j + 1 >= len(spans):
            break
        i = max(j + 1 - overlap, i + 1)  # keep `overlap` sentences, but always make progress
    return windows


def chunk_document(
    doc: Document,
    max_tokens: int = 512,
    overlap: int = 1,
    count: Counter = count_tokens,
    min_tokens: int = MIN_TOKENS,
) -> list[Chunk]:
    """Passages of ``doc`` that follow its paragraphs, each within ``max_tokens`` as ``count`` counts.

    A paragraph that fits is one passage; a longer one becomes windows of whole sentences that
    share ``overlap`` sentences; a paragraph under ``min_tokens`` (a heading, a caption) is joined
    to the paragraph after it when both fit, and so is one that ends with a colon (it introduces
    the list or table after it), unless that one is a heading and the first is not (a heading
    starts the passage of its section, not the end of the one before).
    """
    units: list[tuple[int, int, int]] = []  # start, end, tokens (0 for windows of a split paragraph)
    paragraphs = _paragraphs(doc.text)
    for ps, pe in paragraphs:
        size = count(doc.text[ps:pe])
        if size <= max_tokens:
            units.append((ps, pe, size))
        else:
            units.extend((s, e, 0) for s, e in _sentence_windows(doc.text, ps, pe, max_tokens, overlap, count))
    headings = _headings(doc.text, paragraphs)
    starts_section = {offset for offset, _ in headings}
    groups: list[tuple[int, int]] = []
    held: tuple[int, int, int] | None = None  # a short paragraph waiting to be joined to the next
    held_body = False  # whether it holds more than headings
    for s, e, size in units:
        heading = s in starts_section
        if held is not None and held_body and heading:
            groups.append(held[:2])  # a heading starts the next passage, it never ends one
            held = None
        body = not heading
        if held is not None:
            if size and count(doc.text[held[0] : e]) <= max_tokens:
                s, size, body = held[0], count(doc.text[held[0] : e]), body or held_body
            else:
                groups.append(held[:2])
            held = None
        # Short paragraphs, headings however long, and "…as follows:" lead into what follows.
        if size and (size < min_tokens or not body or doc.text[e - 1] == ":"):
            held, held_body = (s, e, size), body
        else:
            groups.append((s, e))
    if held is not None:
        groups.append(held[:2])
    # A passage is titled by the section its text falls under: one that opens with the document's
    # heading and then a section's ("# Регламент", "## 1. Общие положения", text) by the latter.
    unit_starts = [u[0] for u in units]
    titled_at = {}
    for s, e in groups:
        k = bisect.bisect_left(unit_starts, s)
        while k + 1 < len(unit_starts) and unit_starts[k] in starts_section and unit_starts[k + 1] < e:
            k += 1
        titled_at[s] = unit_starts[k] if k < len(unit_starts) else s
    return [
        Chunk(
            f"{doc.doc_id}#{n}",
            doc.doc_id,
            doc.source,
            _section_title(doc, headings, titled_at[s]),
            doc.text[s:e],
            s,
            e,
            n,
            doc.page_at(s),
        )
        for n, (s, e) in enumerate(groups)
    ]
