"""BM25 over stemmed Russian and English tokens (``bm25s`` for scoring, Snowball for stemming).

The language is decided per token by its script: Cyrillic words go to the Russian stemmer, Latin
words to the English one. Mixed texts (a Russian article quoting "OpenAI") therefore stem both
halves right, where a per-document language guess would mangle one of them. ``ё`` folds to ``е``
and decimal commas to points, so "3,39" in a question matches "3.39" in a text.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import snowballstemmer

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-яё]")

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

BM25_DIR = "bm25"
_EMPTY = "\u2205"  # stands in for a text with no content tokens

_stemmers = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    lang = "ru" if _CYRILLIC.search(word) else "en"
    return str(_stemmers[lang].stemWord(word))


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


class LexicalIndex:
    """BM25 scores of a query against every text of a fixed corpus."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        tokenized = [tokenize(t) for t in texts]
        self._df = Counter(t for tokens in tokenized for t in set(tokens))
        if texts:
            # An empty token list would make bm25s skip the document and shift every row id.
            self._bm25.index([tokens or [_EMPTY] for tokens in tokenized], show_progress=False)

    def save(self, directory: Path) -> None:
        """Write the index into ``directory/bm25`` (tokenizing is most of the cost of building it)."""
        if self.size:
            self._bm25.save(str(directory / BM25_DIR))

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """The index saved in ``directory`` for a corpus of ``size`` texts."""
        index = cls.__new__(cls)
        index.size = size
        index._bm25 = bm25s.BM25()
        index._df = Counter()
        if size:
            index._bm25 = bm25s.BM25.load(str(directory / BM25_DIR))
            # Scores are stored per token as a CSC column; its length is the token's document count.
            indptr = np.asarray(index._bm25.scores["indptr"])
            columns = len(indptr) - 1  # bm25s adds an empty token to the vocabulary with no column
            vocab = index._bm25.vocab_dict.items()
            index._df = Counter({t: int(indptr[i + 1] - indptr[i]) for t, i in vocab if t and i < columns})
            index._df.pop(_EMPTY, None)
            if int(index._bm25.scores["num_docs"]) != size:
                raise ValueError(f"BM25 index holds {index._bm25.scores['num_docs']} texts, not {size}")
        return index

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of each token over the whole corpus; unseen tokens weigh most."""
        return {t: math.log((self.size + 1) / (self._df.get(t, 0) + 0.5)) for t in tokens}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score for every text, in corpus order (zeros when nothing matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
