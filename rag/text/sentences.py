"""Sentence spans of Russian and English text (``razdel``; paragraph breaks are hard boundaries).

Two corrections to razdel, both common in encyclopedic and news text: a boundary inside an open
parenthesis is none ("Голикова (род. 9 февраля 1966, Мытищи) — ..." and "Беньямин (German: Walter
Benjamin; 15 июля 1892 — ...)" are one sentence each: razdel cut them after "род." and ";", leaving
the dates without the name they belong to), and an abbreviation that introduces a number ("род.",
"ум.", "ок.", "см.", "табл.", "ст.", and in English "ext.", "Jan.", "Fig.", "pp.") does not end a
sentence before that number, and a title before a name ("проф.", "акад.", "св.", "Prof.", "St.",
"Gen.") does not end one before a capitalised word. razdel knows these for Russian only in part and
hardly for English: "He can be reached at ext. 2291." and "certified on Jan. 12, 2025 by Acme Inc.
of St. Louis" came out as three and four pieces, each quoted on its own as an answer.
"""

from __future__ import annotations

import re

from razdel import sentenize

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")  # a blank line: how loaders separate paragraphs
# Abbreviations that introduce a number; razdel ends a sentence after them when a digit follows.
_BEFORE_NUMBER = re.compile(
    r"(?:^|[\s(])(?:род|ум|ок|прибл|см|им|ст|тт?|табл|рис|илл|гл|пп?|ч|с|стр|кв|д|корп|тел|вып|разд|прил"
    r"|b|d|ca|c|approx|no|nos|ext|tel|fig|figs|vol|vols|pp?|sec|art|arts|ch|para|eq|jan|feb|mar|apr|jun|jul"
    r"|aug|sep|sept|oct|nov|dec)\.$",
    re.IGNORECASE,
)
# Titles and place words that stand before a name; razdel ends a sentence after some of them.
_BEFORE_NAME = re.compile(
    r"(?:^|[\s(])(?:проф|акад|св|ген|доц|ул|пер|mr|mrs|ms|dr|prof|st|mt|ft|gen|col|capt|lt|sgt|rev|sen|rep"
    r"|gov|hon|messrs)\.$",
    re.IGNORECASE,
)
_MAX_JOINED = 1200  # characters: a joined sentence never grows past this
_MAX_PARTS = 4  # razdel pieces one parenthesis may span


# After cutting at an abbreviation before a number ("ext." | "2291. The lab is open."), razdel does
# not end the piece that starts with that number at its next full stop, as it would elsewhere. A
# number, a full stop and a capitalised word end it, except a short number right at its start,
# which numbers a list item ("2. Закрыть дверь").
_AFTER_NUMBER = re.compile(
    r"(?:(?<=[^\W\d_]\s\d)|(?<=[^\W\d_]\s\d\d)|(?<=\d\d\d)|(?<=\d[.,]\d))\.\s+(?=[A-ZА-ЯЁ][a-zа-яё])"
)


def _cut_after_numbers(para: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for start, stop in pieces:
        m = _AFTER_NUMBER.search(para, start, stop) if para[start : start + 1].isdigit() else None
        if m is not None:
            out.append((start, m.start() + 1))
            start = m.end()
        out.append((start, stop))
    return out


# A line of a table (cells between bars, or " | " between cells) or a list item (a bullet, or a
# number and a stop).
_ITEM = re.compile(r"[ \t]*(?:\|.*\||[^|\n]*\S \| \S.*|[-*•▪◦–—+] \S.*|\d{1,3}[.)] \S.*)$")
_TABLE_RULE = re.compile(r"[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*")


def _balance(text: str) -> int:
    return text.count("(") - text.count(")")


def _merge(para: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join razdel's pieces where its boundary is not a sentence boundary (see the module doc)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        start, stop = pieces[i]
        i += 1
        while i < len(pieces):
            text = para[start:stop]
            nxt = para[pieces[i][0] : pieces[i][1]]
            if _balance(text) > 0:
                # Join only when the parenthesis closes within a few pieces: an unclosed "(" is a typo.
                ends = [
                    j for j in range(i, min(i + _MAX_PARTS, len(pieces))) if _balance(para[start : pieces[j][1]]) <= 0
                ]
                if ends and pieces[ends[0]][1] - start <= _MAX_JOINED:
                    stop = pieces[ends[0]][1]
                    i = ends[0] + 1
                    continue
            before = _BEFORE_NUMBER if nxt[:1].isdigit() else _BEFORE_NAME if nxt[:1].isupper() else None
            if before is not None and before.search(text.rstrip()) and stop - start + len(nxt) <= _MAX_JOINED:
                stop = pieces[i][1]
                i += 1
                continue
            break
        out.append((start, stop))
    return out


def _items(para: str) -> list[tuple[int, int]]:
    """(start, end) of the blocks of a paragraph written as lines of a table or list: each row or
    item (with the lines that carry it on) is a block, a Markdown table's rule line none; a
    paragraph that is not such a list is one block."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", para)]
    if sum(bool(_ITEM.match(para[a:b])) for a, b in lines) < 2:
        return [(0, len(para))]
    blocks: list[list[int]] = []
    for a, b in lines:
        if _TABLE_RULE.fullmatch(para[a:b]):
            continue
        if not blocks or _ITEM.match(para[a:b]):
            blocks.append([a, b])
        else:
            blocks[-1][1] = b  # a wrapped item carries on
    return [(a, b) for a, b in blocks]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, in order; each line of a table
    and each item of a list is a sentence of its own, or more."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in PARAGRAPH_BREAK.split(text):
        base = text.index(para, pos) if para else pos
        pos = base + len(para)
        for start, stop in _items(para):
            block = para[start:stop]
            pieces = [(s.start, s.stop) for s in sentenize(block) if s.text.strip()]
            spans.extend(
                (base + start + a, base + start + b) for a, b in _merge(block, _cut_after_numbers(block, pieces))
            )
    return spans


# What opens a sentence but is not its text: a dash of speech, a bullet ("* " but not "**bold**"),
# a table row's bar, a heading's marks.
_LEAD = re.compile(r"(?:[–—\-•|#\s\u00a0]|\*(?=\s))*")


def passage_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a chunk's text as answers quote them (leading dashes of speech, list
    bullets and a table row's outer bars dropped)."""
    spans = []
    for s, e in split_sentences(text):
        lead = _LEAD.match(text, s, e)
        s = lead.end() if lead else s
        while e > s and text[e - 1] in "| ":
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans


def _table_line(line: str) -> bool:
    line = line.strip()
    return " | " in line or (len(line) > 1 and line[0] == line[-1] == "|")


def under_table_header(text: str, start: int, end: int) -> str:
    """``text[start:end]``, below its table's header row when it is a row of a table: how a table
    row's sentence is embedded and whose words it offers a question."""
    header = table_header(text, start)
    return f"{header}\n{text[start:end]}" if header else text[start:end]


def table_header(text: str, start: int) -> str:
    """The header row of the table whose row holds ``text[start]`` (the first line of its run of
    table lines, outer bars dropped), or "" when that is no table row or is the header itself.

    A row alone ("Временный | в день обращения | 1 месяц") does not say what its cells are; its
    sentence is embedded under the header ("Тип пропуска | Срок изготовления | Срок действия") as a
    sentence is under its title."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if not _table_line(text[line_start : len(text) if line_end < 0 else line_end]):
        return ""
    top = line_start
    while top > 0:
        above = text.rfind("\n", 0, top - 1) + 1
        if not _table_line(text[above : top - 1]):
            break
        top = above
    if top == line_start:
        return ""
    return text[top : text.find("\n", top)].strip().strip("|").strip()
