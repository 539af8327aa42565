"""Tokenizing from many threads at once gives the same stems as one thread: the server answers
several questions in parallel, and a wrong stem would stay in the stem cache for the process."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import snowballstemmer

from rag.text import terms


def _words() -> list[str]:
    """Distinct Russian and English words with long endings (work for the stemmer)."""
    ru = itertools.product(
        ("пере", "вы", "при", "за", "недо"),
        ("дума", "счита", "работа", "смотре"),
        ("вшимися", "ющими", "нность", "вшая"),
    )
    en = itertools.product(("re", "over", "under"), ("think", "work", "build", "read"), ("ingly", "ations", "fulness"))
    return ["".join(p) for p in itertools.chain(ru, en)]


def test_stems_from_many_threads_match_one_thread() -> None:
    words = _words()
    ru, en = snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")
    expected = {w: (ru if terms.CYRILLIC.search(w) else en).stemWord(w) for w in words}
    for _ in range(50):
        terms._stem.cache_clear()  # every round stems every word again, 8 threads at once
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda w: (w, terms._stem(w)), words * 8))
        assert all(stem == expected[w] for w, stem in results)
