"""Sentence spans of Russian and English text (``razdel``; paragraph breaks are hard boundaries)."""

from __future__ import annotations

import re

from razdel import sentenize

_PARA = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, in order."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in _PARA.split(text):
        base = text.index(para, pos) if para else pos
        pos = base + len(para)
        for s in sentenize(para):
            if s.text.strip():
                spans.append((base + s.start, base + s.stop))
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
