"""Sentence spans of Russian and English text (``razdel``; paragraph breaks are hard boundaries).

Two corrections to razdel, both common in encyclopedic and news text: a boundary inside an open
parenthesis is none ("Голикова (род. 9 февраля 1966, Мытищи) — ..." and "Беньямин (German: Walter
Benjamin; 15 июля 1892 — ...)" are one sentence each: razdel cut them after "род." and ";", leaving
the dates without the name they belong to), and an abbreviation that introduces a number ("род.",
"ум.", "ок.", "см.") does not end a sentence before that number.
"""

from __future__ import annotations

import re

from razdel import sentenize

_PARA = re.compile(r"\n\s*\n")
# Abbreviations that introduce a number; razdel ends a sentence after them when a digit follows.
_BEFORE_NUMBER = re.compile(r"(?:^|[\s(])(?:род|ум|ок|прибл|см|им|ст|тт?|b|d|ca|c|approx|no|nos)\.$", re.IGNORECASE)
_MAX_JOINED = 1200  # characters: a joined sentence never grows past this
_MAX_PARTS = 4  # razdel pieces one parenthesis may span


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
            if nxt[:1].isdigit() and _BEFORE_NUMBER.search(text.rstrip()) and stop - start + len(nxt) <= _MAX_JOINED:
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
        spans.extend((base + a, base + b) for a, b in _merge(para, pieces))
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
