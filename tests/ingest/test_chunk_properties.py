"""Chunking invariants on generated text (hypothesis): whatever the paragraphs, sentences and words,
every chunk is a slice of the document within the budget, and no word is lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.chunk import chunk_document
from rag.ingest.load import content_hash
from rag.text.tokens import count_tokens
from rag.types import Document

WORD = st.one_of(
    st.sampled_from("Казахстан Узбекистан торговля млрд 3,39 т.е. г. К.-Ж. (ОТГ) «Артель» — trade U.S. 2025".split()),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Z", "Cc")), min_size=1, max_size=12),
)
SEP = st.sampled_from([" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n", "\n\n# ", " … ", "\t"])
TEXT = st.lists(st.tuples(WORD, SEP), min_size=1, max_size=400).map(lambda parts: "".join(w + s for w, s in parts))


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(text=TEXT, budget=st.integers(16, 120), overlap=st.integers(0, 2))
def test_chunks_are_slices_within_the_budget_and_keep_every_word(text: str, budget: int, overlap: int) -> None:
    doc = Document("d.txt", "d.txt", "Заголовок", text, content_hash(text))
    chunks = chunk_document(doc, max_tokens=budget, overlap=overlap, count=count_tokens)
    if not text.strip():
        assert chunks == []
        return
    for c in chunks:
        assert c.text == text[c.start : c.end] and c.text.strip()
        words = c.text.split()
        assert count_tokens(c.text) <= budget or len(words) == 1, (budget, c.text)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())
