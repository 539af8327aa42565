"""Question language, decided by script: Russian ("ru") or English ("en").

The users ask in Russian or English, so counting words per script is enough. Capitalised Latin
words inside a sentence are usually names ("Green Corridor Union LLC", "Tenge Bank") that Russian
questions quote as they are, so they do not vote; a tie goes to the script of the first word.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# "Is this Cyrillic": the whole Cyrillic block, both cases, so ё, Ukrainian і and capitals count.
# The one definition: language detection, the stemmer choice per word and relevance all use it.
CYRILLIC = re.compile(r"[\u0400-\u04ff]")

LANGUAGES = ("ru", "en")


def detect_language(text: str) -> str:
    """The language of ``text``: "ru" or "en" (also "en" when it has no letters)."""
    words = _WORD.findall(text)
    if not words:
        return "en"
    cyrillic = latin = 0
    for i, word in enumerate(words):
        if CYRILLIC.search(word):
            cyrillic += 1
        elif i == 0 or not word[0].isupper():
            latin += 1
    if cyrillic != latin:
        return "ru" if cyrillic > latin else "en"
    return "ru" if CYRILLIC.search(words[0]) else "en"
