"""Citation markers: find ``[n]`` in answer text, drop the ones that point at no passage, and
turn the rest into ``Citation`` objects.

Models cite as ``[1]``, ``[1][2]`` or ``[1, 2]``; all three are understood. Only 1-3 digit numbers
count as markers, so a bracketed year such as ``[2025]`` is left alone. :class:`MarkerFilter` does
the same cleaning on a stream, holding back an unfinished ``[..`` so that text already sent to a
client never contains a marker that is later found to be bad.

Citations come only from the service: marker-like text inside a document (footnotes ``[2]``, or
``[2][3]`` planted to point at other documents) is rewritten by :func:`neutralize_markers` before it
is quoted in an answer or shown to an LLM, so the parser above never reads it as a citation.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Sequence

from rag.types import Citation, Passage

log = logging.getLogger(__name__)

_MARKER = re.compile(r"(?P<ws>[ \t]*)\[(?P<nums>\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*)\]")
# A quote is recognised by its first _PROBE characters, once at least _MIN_QUOTE were said.
_PROBE, _MIN_QUOTE = 60, 15
_OPEN = re.compile(r"\[[\d\s,;]*")
# Longest marker prefix worth holding back while streaming, e.g. "[12, 13, 14".
_MAX_OPEN = 16


# What marker-like brackets in source text become: fullwidth brackets read the same to people and
# models, are one character each (so offsets into the text stay valid), and are not ``[``/``]``.
_NEUTRAL = str.maketrans({"[": "\uff3b", "]": "\uff3d"})


def neutralize_markers(text: str) -> str:
    """``text`` with every citation-like ``[n]`` written as ``［n］``, same length, never parsed as a marker."""
    return _MARKER.sub(lambda m: m.group(0).translate(_NEUTRAL), text)


def clean_markers(text: str, n_passages: int) -> str:
    """``text`` without marker numbers outside 1..n_passages (each one dropped is logged)."""

    def repl(m: re.Match[str]) -> str:
        nums = [int(x) for x in re.findall(r"\d+", m.group("nums"))]
        good = [n for n in nums if 1 <= n <= n_passages]
        if len(good) == len(nums):
            return m.group(0)
        bad = [n for n in nums if n not in good]
        log.warning("dropped citation marker(s) %s: the answer was given %d passage(s)", bad, n_passages)
        if not good:
            return ""
        return m.group("ws") + "[" + ", ".join(str(n) for n in good) + "]"

    return _MARKER.sub(repl, text)


def cited_numbers(text: str, n_passages: int) -> list[int]:
    """Passage numbers cited in ``text`` that point at a passage, ascending, without repeats."""
    found = {int(x) for m in _MARKER.finditer(text) for x in re.findall(r"\d+", m.group("nums"))}
    return sorted(n for n in found if 1 <= n <= n_passages)


def quoted_at(text: str, n: int, passage_text: str) -> int:
    """Where in ``passage_text`` the answer's words cited as ``[n]`` start, when they quote it; else 0.

    This picks the page a citation shows: a passage may run over a page break, and the quoted
    sentence may sit on the later page. Answers that paraphrase cite the passage's first page.
    """
    flat, where = [], []
    for m in re.finditer(r"\S+", passage_text):  # whitespace runs (page breaks too) as one space
        flat.append(m.group())
        where.append(m.start())
    starts = list(itertools.accumulate((len(w) + 1 for w in flat), initial=0))
    joined = " ".join(flat)
    prev = 0
    for m in _MARKER.finditer(text):
        said = " ".join(text[prev : m.start()].split())
        prev = m.end()
        if n not in {int(x) for x in re.findall(r"\d+", m.group("nums"))} or len(said) < _MIN_QUOTE:
            continue
        at = joined.find(said[:_PROBE])
        if at >= 0:
            word = bisect.bisect_right(starts, at) - 1
            return where[word] + at - starts[word]
    return 0


def build_citations(text: str, passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """One Citation per valid passage number cited in ``text``."""
    return tuple(
        Citation.from_passage(n, passages[n - 1], quoted_at(text, n, passages[n - 1].chunk.text))
        for n in cited_numbers(text, len(passages))
    )


def context_citations(passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """Every passage given to the generator, numbered as in the prompt."""
    return tuple(Citation.from_passage(n, p) for n, p in enumerate(passages, start=1))


class MarkerFilter:
    """Streaming :func:`clean_markers`: feed pieces, get cleaned text; the outputs join to the answer.

    Leading whitespace is dropped and trailing whitespace held until more text comes, so the
    concatenated output equals the stripped, cleaned answer.
    """

    def __init__(self, n_passages: int) -> None:
        self.n_passages = n_passages
        self._buf = ""
        self._started = False

    def feed(self, piece: str) -> str:
        """Cleaned text that is safe to send now."""
        self._buf += piece
        end = len(self._buf)
        i = self._buf.rfind("[")
        if i != -1 and len(self._buf) - i <= _MAX_OPEN and _OPEN.fullmatch(self._buf, i):
            end = i  # maybe the start of a marker: wait for its "]"
        while end > 0 and self._buf[end - 1].isspace():
            end -= 1  # a dropped marker takes the space before it with it
        out = clean_markers(self._buf[:end], self.n_passages)
        self._buf = self._buf[end:]
        return self._emit(out)

    def flush(self) -> str:
        """Whatever is left at the end of the stream, cleaned, without trailing whitespace."""
        out = clean_markers(self._buf, self.n_passages).rstrip()
        self._buf = ""
        return self._emit(out)

    def _emit(self, out: str) -> str:
        if not self._started:
            out = out.lstrip()
            self._started = bool(out)
        return out
