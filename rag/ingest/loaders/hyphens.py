"""Words hyphenated at line ends, joined with or without their hyphen.

Whether "культурно-" + "гуманитарный" keeps its hyphen and "инфор-" + "мация" loses it is decided
by the document's own words: the joined word, or its Snowball stem, seen elsewhere means join; the
hyphenated compound seen elsewhere, or both halves seen as words, means keep; without evidence a
Russian compound-adjective stem ("торгово-", "социально-") keeps it, and anything else is joined
(hyphenation splits syllables far more often than a compound happens to break at its hyphen).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text.terms import tokenize

HYPHEN = "\ufffe"  # a hyphen at a line end, undecided yet (PDFium's own marker for one)
# left part, a page break the word was carried over, right part, what follows it up to a space
_SPLIT_WORD = re.compile(rf"([^\W\d_]+){HYPHEN}(\f?)([^\W\d_]+)(\S*)")
_COMPOUND_STEM = re.compile(r"[а-яё]{2,}(?:но|ско|цко|ово|ево|ено|ико)$")


def _vocabulary(pages: Sequence[Sequence[str]]) -> tuple[set[str], set[str]]:
    """Words (lower case, hyphenated compounds kept whole) and stems of the text, split words aside."""
    text = " ".join(" ".join(p) for p in pages)
    text = _SPLIT_WORD.sub(" ", text)
    words = set(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.lower()))
    words |= {part for w in words if "-" in w for part in w.split("-")}
    return words, set(tokenize(text))


def _stem(word: str) -> str:
    stems = tokenize(word)
    return stems[0] if stems else word.lower()


def _keep_hyphen(left: str, right: str, words: set[str], stems: set[str]) -> bool:
    joined, compound = (left + right).lower(), f"{left}-{right}".lower()
    if joined in words:
        return False
    if compound in words:
        return True
    if _stem(joined) in stems:
        return False
    if left.lower() in words and (right.lower() in words or _stem(right) in stems):
        return True
    return bool(_COMPOUND_STEM.search(left.lower())) and len(right) >= 4


def dehyphenate(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Every word split at a line end joined, with or without its hyphen."""
    words, stems = _vocabulary(pages)

    def fix(m: re.Match[str]) -> str:
        left, page_break, right, tail = m.groups()
        hyphen = "-" if _keep_hyphen(left, right, words, stems) else ""
        return f"{left}{hyphen}{right}{tail}{page_break}"

    return [[_SPLIT_WORD.sub(fix, p).replace(HYPHEN, "-") for p in paras] for paras in pages]
