"""From positioned lines to paragraphs: how a PDF page is read back into text.

A PDF holds glyphs at positions, not paragraphs. Given each page's lines in the order the library
reads them (content order: right for the columns of Chromium, Word and LaTeX output), this module

- drops running headers and footers: a line among the two top-most or two bottom-most of its page
  whose text repeats on at least half of the pages (two at least), any number in it fixed or
  moving with the page ("3/12", "стр. 4"; larger type, as in "Глава 2", is a heading and stays),
  a bare page number at either edge of any page, and what a browser prints there on any page (a
  page counter "k/N" ending the line, a smaller line opening with the date and time of printing);
- starts a new paragraph where the gap between lines is clearly wider than the page's usual line
  pitch for text of their size (a heading wrapped over two lines at its own larger pitch is one),
  where the text size changes (a heading), where a line jumps up or across (a new column), or
  where an indented line follows a sentence's end; a paragraph whose last line ends mid-sentence
  and whose next line starts in lower case or with a digit carries on across columns and pages;
- marks words hyphenated at line ends, for ``hyphens`` to join with or without their hyphen.

Pages are joined with a form feed after each page but the last, so a character's page is the
number of form feeds before it, and offsets into the text stay plain offsets.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rag.ingest.loaders.hyphens import HYPHEN, dehyphenate
from rag.ingest.loaders.tables import table_rows

_BREAK_GAP = 1.3  # pitch over the usual one that starts a paragraph
_SIZE_CHANGE = 0.15  # relative change of line height that starts one (headings)
_EDGE_LINES = 2  # lines at the top and bottom of a page that may be running headers or footers
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|стр\.?|страница|с\.)\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|из|/)\s*\d{1,4})?$", re.I
)
# What a browser prints at the page's edges, which a document of one page cannot show repeating:
# a page counter "k/N" or "Page k of N" ending the line (Chromium: the page's address and "1/1"),
# and a date and time opening a line set smaller than the text (Chromium: "11/27/26, 8:41 AM Title").
_COUNTER = re.compile(r"(?:^|\s)(?:(?:page|стр\.?|страница)\s*)?(\d{1,4})\s*(?:/|of|из)\s*(\d{1,4})$", re.I)
_PRINTED_AT = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}\b")
_BULLET = re.compile(r"^(?:[•◦▪●■–—*-]\s|\d{1,3}[.)]\s)")
_END = '.!?…:;»")'


@dataclass(frozen=True)
class Line:
    """One line of a page: its text and where it sits (PDF points, y grows upwards)."""

    text: str
    x0: float
    x1: float
    baseline: float  # of its first character
    height: float  # of the font's box: the text size, robust to which letters the line has
    end_baseline: float | None = None  # of its last one, when a hyphenated word ran on to the next line
    # Where each word of ``text`` (split at spaces) starts and how far it is from the word before (0
    # for the first); empty when not known. ``tables`` finds a table's cells by them.
    words: tuple[tuple[float, float], ...] = ()

    @property
    def last_baseline(self) -> float:
        return self.baseline if self.end_baseline is None else self.end_baseline


def _edge_key(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text)).strip().casefold()


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:8])


def _runs_with_pages(seen: Sequence[tuple[int, tuple[int, ...]]]) -> bool:
    """Whether every number in lines of one pattern is fixed or moves with the page ("3/12", "стр. 4")."""
    for column in zip(*(numbers for _, numbers in seen), strict=False):
        if len(set(column)) > 1 and len({n - page for n, (page, _) in zip(column, seen, strict=True)}) > 1:
            return False
    return True


def strip_running(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """Pages without their running headers, footers and page numbers."""
    edges: list[set[int]] = []
    seen: dict[str, dict[int, tuple[int, ...]]] = defaultdict(dict)  # pattern -> page -> its numbers
    for k, lines in enumerate(pages):
        order = sorted(range(len(lines)), key=lambda i: -lines[i].baseline)
        edges.append(set(order[:_EDGE_LINES] + order[-_EDGE_LINES:]))
        for i in edges[-1]:
            seen[_edge_key(lines[i].text)].setdefault(k, _numbers(lines[i].text))
    need = max(2, (len(pages) + 1) // 2)
    sizes = [line.height for lines in pages for line in lines]
    body = statistics.median(sizes) if sizes else 0.0

    def running(line: Line, page: int) -> bool:
        counter = _COUNTER.search(line.text)
        if _PAGE_NUMBER.match(line.text) or (counter and counter.groups() == (str(page + 1), str(len(pages)))):
            return True
        if _PRINTED_AT.match(line.text) and line.height < 0.9 * body:
            return True
        found = seen[_edge_key(line.text)]
        if len(found) < need or not _runs_with_pages(list(found.items())):
            return False
        # Numbered headings ("Глава 1", "Глава 2" on pages 1 and 2) also move with the pages; they
        # are set larger than the body text, page numbers and running titles are not.
        return len(set(found.values())) == 1 or line.height <= body * 1.05

    return [
        [x for i, x in enumerate(lines) if i not in edge or not running(x, k)]
        for k, (lines, edge) in enumerate(zip(pages, edges, strict=True))
    ]


def continues(before: str, after: str) -> bool:
    """Whether text ``after`` carries on the sentence that ``before`` left unfinished."""
    before, after = before.rstrip(), after.lstrip()
    if not (before and after) or before[-1] in _END:
        return False
    return after[0].islower() or after[0].isdigit() or before[-1] in f"-{HYPHEN}"


def _breaks(prev: Line, cur: Line, pitch: float | None) -> bool:
    """Whether ``cur`` starts a new paragraph; ``pitch`` is the usual line step per point of text height."""
    if abs(cur.height - prev.height) > _SIZE_CHANGE * max(cur.height, prev.height):
        return True
    step = prev.last_baseline - cur.baseline
    if step < 0.5 * prev.height or step > 3 * prev.height:  # another column, or a block far below
        return not continues(prev.text, cur.text)
    # Lines are spaced in proportion to their size: a heading set twice as large as the body text
    # wraps at twice its pitch, which is no paragraph gap.
    if pitch is not None and step > _BREAK_GAP * pitch * prev.height:
        return True
    if _BULLET.match(cur.text) and (cur.text[0] in "•◦▪●■*" or prev.text.rstrip()[-1:] in ".!?…:;"):
        return True  # a dash opening a line is a list item only after a finished line
    indented = cur.x0 - prev.x0 > 0.8 * prev.height
    return indented and prev.text.rstrip()[-1:] in ".!?…"


def _join(lines: Sequence[str]) -> str:
    out = lines[0].strip()
    for line in lines[1:]:
        line = line.strip()
        if re.search(r"[^\W\d_]-$", out) and line[:1].islower():
            out = out[:-1] + HYPHEN + line  # decided later, with the whole document's words
        elif out.endswith(HYPHEN):
            out += line
        else:
            out += " " + line
    return out


def paragraphs(lines: Sequence[Line]) -> list[str]:
    """The paragraphs of one page's lines (words hyphenated at line ends still marked)."""
    if not lines:
        return []
    steps = [
        (p.last_baseline - c.baseline) / p.height
        for p, c in zip(lines, lines[1:], strict=False)
        if abs(p.height - c.height) < 0.05 * p.height and 0.5 * p.height < p.last_baseline - c.baseline < 3 * p.height
    ]
    pitch = statistics.median(steps) if steps else None
    rows = table_rows(lines)  # a table is a block of its own, a row a line
    groups: list[list[str]] = [[rows.get(0, lines[0].text)]]
    tables = [0 in rows]
    for k, (prev, cur) in enumerate(zip(lines, lines[1:], strict=False), 1):
        if k in rows and k - 1 in rows:
            groups[-1].append(rows[k])
        elif k in rows or k - 1 in rows or _breaks(prev, cur, pitch):
            groups.append([rows.get(k, cur.text)])
            tables.append(k in rows)
        else:
            groups[-1].append(cur.text)
    return [p for p in ("\n".join(g) if table else _join(g) for g, table in zip(groups, tables, strict=True)) if p]


def join_pages(pages: Sequence[Sequence[str]]) -> tuple[str, tuple[int, ...]]:
    """The document's text and the offset where each page starts.

    A paragraph cut by a page break is joined across it (the form feed then sits inside it); a
    word hyphenated across it is moved whole onto the page where it starts.
    """
    paged = [list(p) for p in pages]
    for k in range(len(paged) - 1):
        here, there = paged[k], paged[k + 1]
        if here and there and re.search(rf"[^\W\d_][-{HYPHEN}]$", here[-1]) and there[0][:1].islower():
            word, _, rest = there[0].partition(" ")
            here[-1] = here[-1][:-1] + HYPHEN + "\f" + word
            there[0] = rest
    text, starts = "", []
    for k, paras in enumerate(dehyphenate(paged)):
        if k:
            moved = text.endswith("\f")  # the page's first word went to the page before
            first = next((p for p in paras if p), "")
            glue = " " if moved or continues(text, first) else "\n\n"
            text = text if moved else text + "\f"
            starts.append(len(text))
            text += glue
        else:
            starts.append(0)
        text += "\n\n".join(p for p in paras if p)
    return text, tuple(starts)
