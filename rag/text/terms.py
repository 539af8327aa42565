"""Content terms of a text: lower-cased, stop words dropped, stemmed by script (Snowball).

The language is decided per token by its script: Cyrillic words go to the Russian stemmer, Latin
words to the English one. Mixed texts (a Russian article quoting "OpenAI") therefore stem both
halves right, where a per-document language guess would mangle one of them. ``ё`` folds to ``е``
and decimal commas to points, so "3,39" in a question matches "3.39" in a text.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

from rag.text.lang import CYRILLIC

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)

# Function words that carry no topic; BM25's idf discounts them anyway, dropping them keeps
# short questions from matching on "the"/"и" alone.
STOPWORDS = frozenset(
    """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было
    вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь
    опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам
    чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь
    этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой
    хоть после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо
    свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между это также
    the a an of and or in on at to for from by with as is are was were be been it its this that these
    those which who whom what when where how why do does did has have had not no but if then than so
    such into about over after before under between any all can will would should could""".split()
)

# A Snowball stemmer keeps the word it is working on in its own fields, so one shared between
# threads (the server answers questions in parallel) returns wrong stems, or raises, when two words
# interleave; and a wrong stem would stay in the cache below. Each thread gets its own pair.
_local = threading.local()


def _stemmer(lang: str) -> snowballstemmer.stemmer:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {
            "ru": snowballstemmer.stemmer("russian"),
            "en": snowballstemmer.stemmer("english"),
        }
    return stemmers[lang]


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer("ru" if CYRILLIC.search(word) else "en").stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content tokens of ``text``; numbers kept whole with '.' decimals."""
    out = []
    for m in _TOKEN.finditer(text.lower().replace("ё", "е")):
        tok = m.group()
        if tok[0].isdigit():
            out.append(tok.replace(",", "."))
        elif tok not in STOPWORDS:
            out.append(_stem(tok))
    return out
