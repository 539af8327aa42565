"""Text normalization and fact matching for the eval suite.

A fact is present in a text when one of its variants occurs there after both sides are
normalized: case folded, ``ё`` read as ``е``, decimal commas read as points (``3,39`` = ``3.39``),
thin/no-break spaces inside digit groups dropped (``2 400`` = ``2400``), dashes unified and
whitespace collapsed. Inflection is handled by stem-prefix matching: every word of a variant must
start a word of the text, in order, so the stem ``пшениц`` matches ``пшеницы`` and ``пшеницей``.
Numbers must match whole (``2.5`` does not match ``2.55`` or ``12.5``). This favours recall over
exactness: a short stem can match an unrelated word, so dataset variants use stems of 4+ letters
where possible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# U+00A0 no-break, U+2009 thin, U+202F narrow no-break, U+2007 figure space: used as digit-group
# separators in Russian typography ("2 400", "1 000 000").
_GROUP_SPACE = re.compile(r"(?<=\d)[\u00a0\u2009\u202f\u2007](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_QUOTES = re.compile(r"[«»\"“”„'’‘]")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Fold case, ё→е, number formats, dashes, quotes and whitespace for matching."""
    text = text.replace("\ufeff", "")
    text = _GROUP_SPACE.sub("", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = text.lower().replace("ё", "е")
    text = _DASHES.sub("-", text)
    text = _QUOTES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _variant_pattern(variant: str) -> re.Pattern[str] | None:
    words = normalize(variant).split(" ")
    parts = []
    for word in words:
        if not word:
            continue
        body = re.escape(word)
        # A number must end where the text's number ends; a word stem may be followed by an ending.
        parts.append(body + (r"(?![\d]|[.,]\d)" if word[-1].isdigit() else r"\w*"))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?<!\d[.,])" + r"\W+".join(parts))


def variant_in(variant: str, normalized_text: str) -> bool:
    """True when ``variant`` occurs in an already-normalized text (see module docstring)."""
    pattern = _variant_pattern(variant)
    return pattern is not None and pattern.search(normalized_text) is not None


def fact_in(variants: Sequence[str], text: str) -> bool:
    """True when any variant of one fact occurs in ``text``."""
    norm = normalize(text)
    return any(variant_in(v, norm) for v in variants)


def facts_found(facts: Iterable[Sequence[str]], text: str) -> list[bool]:
    """For each fact (a list of variants), whether it occurs in ``text``."""
    norm = normalize(text)
    return [any(variant_in(v, norm) for v in variants) for variants in facts]
