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

_PARA = re.compile(r"\n\s*\n")
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


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, in order."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in _PARA.split(text):
        base = text.index(para, pos) if para else pos
        pos = base + len(para)
        pieces = [(s.start, s.stop) for s in sentenize(para) if s.text.strip()]
        spans.extend((base + a, base + b) for a, b in _merge(para, _cut_after_numbers(para, pieces)))
    return spans


def passage_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a chunk's text as answers quote them (leading dashes of speech dropped)."""
    spans = []
    for s, e in split_sentences(text):
        while s < e and text[s] in "–—- \u00a0":
            s += 1
        if s < e:
            spans.append((s, e))
    return spans
