"""Which retrieved passages count as right for a question, and at what rank the first one comes.

With a gold document (SQuAD), the lead's document-level ranking applies. Otherwise the gold is the
source quote: a chunk is relevant when it holds the whole quote; when chunking split the quote
across chunks (no chunk holds it), the chunks holding every required fact count instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evals.dataset import EvalQuestion
from rag.evals.metrics import supports
from rag.evals.normalize import normalize
from rag.evals.retrieval import doc_rank
from rag.search.retrieve import Retriever
from rag.types import Chunk

DEPTH = 10  # ranks beyond this count as misses (hit@10 and MRR@10)


def gold_chunks(question: EvalQuestion, chunks: Sequence[Chunk], normalized: Sequence[str]) -> frozenset[str]:
    """Chunk ids that answer ``question`` (``normalized`` holds each chunk's normalized text)."""
    if not question.answerable or question.doc_id:
        return frozenset()  # a gold document is ranked by document id (see gold_rank)
    quote = normalize(question.source_quote)
    found = frozenset(c.chunk_id for c, text in zip(chunks, normalized, strict=True) if quote and quote in text)
    if found:
        return found
    return frozenset(c.chunk_id for c in chunks if supports(c.text, question.facts))


def gold_rank(retriever: Retriever, question: EvalQuestion, gold: frozenset[str], mode: str) -> int:
    """1-based rank of the first relevant result in ``mode``, 0 when not in the first DEPTH."""
    if question.doc_id:
        return doc_rank(retriever, question.question, question.doc_id, mode, DEPTH)
    for p in retriever.search(question.question, top_k=DEPTH, mode=mode):
        if p.chunk.chunk_id in gold:
            return p.rank
    return 0
