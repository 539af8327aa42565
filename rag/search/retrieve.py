"""Retrieval: dense (FAISS), lexical (BM25) or hybrid (both, fused; see ``rag.search.fuse``).

A ``Retriever`` is an immutable view of one index snapshot, loaded whole into memory. After an
ingest, open a new one and swap the reference; queries in flight keep the old one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embed import Embedder, embed_query, get_embedder
from rag.errors import EmbedderMismatchError, IndexCorruptError, InputError
from rag.search.fuse import CONVEX_WEIGHT, DEFAULT, Ranked, fuse
from rag.store import VectorStore, load_store
from rag.store.faiss import snapshot
from rag.store.faiss.chunks import Sentences, read_chunks, read_sentences
from rag.store.lexical import BM25_DIR, LexicalIndex
from rag.text.terms import tokenize
from rag.types import Chunk, Passage

log = logging.getLogger(__name__)
MODES = ("hybrid", "dense", "lexical")
CANDIDATES = 50  # depth of each ranker's list before fusion


@dataclass(frozen=True)
class Retriever:
    """Search over one snapshot of the index."""

    embedder: Embedder
    store: VectorStore
    chunks: tuple[Chunk, ...]
    lexical: LexicalIndex
    index_version: str
    sentences: dict[int, Sentences] = field(default_factory=dict)  # by chunk row, when stored
    fusion: str = DEFAULT
    weight: float = CONVEX_WEIGHT  # dense share in convex fusion

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid") -> list[Passage]:
        """The ``top_k`` best passages for ``query``, best first."""
        query = query.strip() if isinstance(query, str) else ""
        if not query:
            raise InputError("the query is empty")
        if mode not in MODES:
            raise InputError(f"unknown search mode {mode!r}; use one of: {', '.join(MODES)}")
        if top_k < 1:
            raise InputError("top_k must be at least 1")
        if not self.chunks:
            return []
        if mode == "lexical":
            scores = self.lexical.scores(query)
            ids = np.argsort(-scores, kind="stable")[:top_k]
            ids = ids[scores[ids] > 0]
            return self._passages(ids, scores[ids])
        qv = embed_query(self.embedder, query)
        depth = max(CANDIDATES, top_k)
        d_scores, d_ids = self.store.search(qv[None, :], depth)
        keep = d_ids[0] >= 0
        dense = Ranked(d_ids[0][keep], d_scores[0][keep])
        if mode == "dense":
            return self._passages(dense.ids[:top_k], dense.scores[:top_k])
        sentence = self._sentence_signal(qv) if self.sentences else None
        ids, scores = fuse(
            dense, self.lexical.scores(query), depth, self.fusion, sentence, self._coverage(query), self.weight
        )
        return self._passages(ids[:top_k], scores[:top_k])

    def _sentence_signal(self, qv: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """For candidate rows: the best cosine of the question and one of the row's stored sentences."""

        def best(rows: np.ndarray) -> np.ndarray:
            out = np.full(len(rows), -1.0)
            for k, row in enumerate(rows.tolist()):
                got = self.sentences.get(row)
                if got is not None and len(got[1]):
                    out[k] = float((got[1] @ qv).max())
            if (out < -0.5).any():  # rows without sentences score as the worst that has them
                out[out < -0.5] = out[out >= -0.5].min() if (out >= -0.5).any() else 0.0
            return out

        return best

    def _coverage(self, query: str) -> float:
        """Idf-weighted share of the query's terms found anywhere in the corpus (the lexical vote)."""
        terms = sorted(set(tokenize(query)))
        idf = self.lexical.idf(terms)
        total = sum(idf.values())
        if total <= 0:
            return 0.0
        df = self.lexical.document_frequencies(terms)
        return sum(idf[t] for t in terms if df[t] > 0) / total

    def _passages(self, ids: np.ndarray, scores: np.ndarray) -> list[Passage]:
        out = []
        for rank, (i, s) in enumerate(zip(ids, scores, strict=False), start=1):
            spans, vecs = self.sentences.get(int(i), ((), None))
            out.append(Passage(self.chunks[int(i)], float(s), rank, spans, vecs))
        return out


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """Load the live index snapshot of ``settings.index_dir``, checked against the embedder."""
    snap = snapshot.current_dir(settings.index_dir)
    manifest = snapshot.read_manifest(snap)
    built_with = manifest.get("embedder")
    wanted = embedder.name if embedder is not None else settings.embedder
    if built_with != wanted:
        raise EmbedderMismatchError(
            f"the index at {settings.index_dir} was built with embedder {built_with!r} but "
            f"{wanted!r} was asked for: set RAG_EMBEDDER={built_with} (or --embedder), "
            f"or rebuild the index with `rag ingest --rebuild --embedder {wanted}`"
        )
    if embedder is None:
        embedder = get_embedder(settings.embedder)
    store = load_store(snap)
    chunks, _ = read_chunks(snap)
    if len(store) != len(chunks) or (len(chunks) and store.dim != embedder.dim):
        raise IndexCorruptError(
            f"index snapshot {snap.name} is inconsistent ({len(store)} vectors of dim {store.dim}, "
            f"{len(chunks)} chunks, embedder dim {embedder.dim}): rebuild with `rag ingest --rebuild`"
        )
    log.debug("opened snapshot %s: %d chunks", snap.name, len(chunks))
    sentences = read_sentences(snap, embedder.dim)
    return Retriever(embedder, store, tuple(chunks), _lexical(snap, chunks), snap.name, sentences)


def _lexical(snap: Path, chunks: list[Chunk]) -> LexicalIndex:
    """The BM25 index saved with the snapshot; built from the chunks for snapshots without one."""
    if not (snap / BM25_DIR).is_dir():
        return LexicalIndex([c.text for c in chunks])
    try:
        return LexicalIndex.load(snap, len(chunks))
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(
            f"{snap / BM25_DIR} is unreadable ({exc}): rebuild with `rag ingest --rebuild`"
        ) from None
