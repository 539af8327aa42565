"""Packing passages into the context budget keeps stored sentence data consistent with the text."""

from __future__ import annotations

import numpy as np

from rag.answer.prompt import pack_passages
from rag.text.sentences import passage_sentences
from rag.types import Chunk, Passage


def _passage(text: str) -> Passage:
    spans = tuple(passage_sentences(text))
    vecs = np.eye(len(spans), 8, dtype=np.float32)
    chunk = Chunk("d#0", "d", "d.txt", "Заголовок", text, 0, len(text), 0)
    return Passage(chunk, 0.9, 1, spans, vecs)


def test_truncated_first_passage_keeps_only_whole_sentences() -> None:
    text = " ".join(f"Предложение номер {i} рассказывает о торговле и транспорте." for i in range(60))
    packed = pack_passages([_passage(text)], budget=120)
    p = packed[0]
    assert len(p.chunk.text) < len(text)
    assert p.sentences and all(end <= len(p.chunk.text) for _, end in p.sentences)
    assert p.sentence_vectors is not None and len(p.sentence_vectors) == len(p.sentences)
    assert np.array_equal(p.sentence_vectors, np.eye(60, 8, dtype=np.float32)[: len(p.sentences)])


def test_cut_inside_the_first_sentence_drops_stored_sentences() -> None:
    text = "Очень " * 400 + "длинное предложение."
    p = pack_passages([_passage(text)], budget=60)[0]
    assert p.sentences == () and p.sentence_vectors is None
