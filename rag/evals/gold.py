"""Which retrieved passages count as right for a question, and at what rank the first one comes.

With a gold document (SQuAD layouts), a passage is relevant when it comes from that document and
holds a gold answer text: what a reader of the passage needs (a passage of the right paragraph that
lacks the answer is a miss). Otherwise the gold is the source quote: a chunk is relevant when it
holds the whole quote; when chunking split the quote across chunks (no chunk holds it), the chunks
holding every required fact count instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evals.dataset import EvalQuestion
from rag.evals.metrics import supports
from rag.evals.normalize import facts_found, normalize
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


def holds_answer(question: EvalQuestion, doc_id: str, text: str) -> bool:
    """True when a passage (``doc_id``, ``text``) answers ``question``: a passage of its gold document
    with a gold answer in it, or (without a gold document) one with the source quote or every fact."""
    if question.doc_id:
        return doc_id == question.doc_id and all(facts_found(question.facts, text))
    return supports(text, question.facts, question.source_quote)


def gold_rank(retriever: Retriever, question: EvalQuestion, gold: frozenset[str], mode: str) -> int:
    """1-based rank of the first relevant passage in ``mode``, 0 when not in the first DEPTH."""
    for p in retriever.search(question.question, top_k=DEPTH, mode=mode):
        if p.chunk.chunk_id in gold if not question.doc_id else holds_answer(question, p.chunk.doc_id, p.chunk.text):
            return p.rank
    return 0
