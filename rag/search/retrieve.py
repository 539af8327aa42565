"""Retrieval: dense, lexical (BM25) or hybrid (both, fused; see ``rag.search.fuse``).

A ``Retriever`` searches one ``Reader`` of the store (``rag.store``): a FAISS snapshot loaded
into memory, or a view of Milvus collections. The store hands back candidates with their scores;
ranking and fusion happen here, the same for every store. After an ingest, open a new retriever
and swap the reference; queries in flight keep the old one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rag.config import Settings, ingest_command
from rag.embed import Embedder, check_name, embed_query, get_embedder, mismatch
from rag.errors import EmbedderMismatchError
from rag.search.fuse import CONVEX_WEIGHT, DEFAULT, Ranked, fuse
from rag.store import Reader, Store, open_store
from rag.text.terms import tokenize
from rag.types import Chunk, Passage

log = logging.getLogger(__name__)

CANDIDATES = 50  # depth of each ranker's list before fusion


@dataclass(frozen=True)
class Retriever:
    """Search over one version of the index."""

    embedder: Embedder
    reader: Reader
    fusion: str = DEFAULT
    weight: float = CONVEX_WEIGHT  # dense share in convex fusion

    @property
    def index_version(self) -> str:
        return self.reader.info.version

    @property
    def lexical(self) -> Reader:
        """What answers weigh question words with (``idf`` over the whole corpus)."""
        return self.reader

    @cached_property
    def chunks(self) -> tuple[Chunk, ...]:
        """Every chunk of the index (read once; for evals and small corpora)."""
        return tuple(self.reader.all_chunks())

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        return self.reader.idf(tokens)

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid") -> list[Passage]:
        """The ``top_k`` best passages for ``query``, best first.

        The arguments are trusted: `rag search` and ``/v1/search`` check a user's with ``rag.validate``.
        """
        if not len(self.reader):
            return []
        if mode == "lexical":
            return self._passages(*self.reader.lexical(query, top_k))
        qv = embed_query(self.embedder, query)
        depth = max(CANDIDATES, top_k)
        d_keys, d_scores = self.reader.dense(qv, depth)
        if mode == "dense":
            return self._passages(d_keys[:top_k], d_scores[:top_k])
        if mode != "hybrid":
            raise ValueError(f"unknown search mode {mode!r}")  # a caller skipped validation
        l_keys, l_scores = self.reader.lexical(query, depth, also=d_keys.tolist())
        # Fusion works on positions in one array of candidates kept in key order, so ties fall
        # the way they would over the whole corpus; every candidate carries its exact BM25 score.
        cand = np.unique(np.concatenate([d_keys, l_keys]).astype(np.int64))
        lexical = np.zeros(len(cand), dtype=np.float32)
        lexical[np.searchsorted(cand, l_keys)] = l_scores
        dense = Ranked(np.searchsorted(cand, d_keys), d_scores)
        sentence = self._sentence_signal(qv, cand)
        coverage = self._coverage(query)
        ids, scores = fuse(dense, lexical, depth, self.fusion, sentence, coverage, self.weight)
        return self._passages(cand[ids[:top_k]], scores[:top_k])

    def _sentence_signal(self, qv: np.ndarray, cand: np.ndarray) -> Callable[[np.ndarray], np.ndarray] | None:
        """For candidates (positions in ``cand``): the best cosine of the question and one of the
        passage's stored sentences; None when the index stored no sentence vectors."""
        stored = self.reader.sentences([int(k) for k in cand])
        best = np.array([float((s[1] @ qv).max()) if s is not None and len(s[1]) else np.nan for s in stored])
        if np.isnan(best).all():
            return None
        best[np.isnan(best)] = np.nanmin(best)  # a passage without sentences scores as the worst that has them

        def lookup(positions: np.ndarray) -> np.ndarray:
            return np.asarray(best[positions], dtype=np.float64)

        return lookup

    def _coverage(self, query: str) -> float:
        """Idf-weighted share of the query's terms found anywhere in the corpus (the lexical vote)."""
        terms = sorted(set(tokenize(query)))
        idf = self.reader.idf(terms)
        total = sum(idf.values())
        if total <= 0:
            return 0.0
        df = self.reader.document_frequencies(terms)
        return sum(idf[t] for t in terms if df.get(t, 0) > 0) / total

    def _passages(self, keys: np.ndarray, scores: np.ndarray) -> list[Passage]:
        ids = [int(k) for k in keys]
        chunks, sentences = self.reader.chunks(ids), self.reader.sentences(ids)
        out = []
        for rank, (c, sent, s) in enumerate(zip(chunks, sentences, scores, strict=True), start=1):
            spans, vecs = sent if sent is not None else ((), None)
            out.append(Passage(c, float(s), rank, spans, vecs))
        return out


def open_retriever(settings: Settings, embedder: Embedder | None = None, store: Store | None = None) -> Retriever:
    """A retriever over the current index of ``store`` (default: the one the settings name),
    checked against the embedder."""
    store = store if store is not None else open_store(settings)
    reader = store.reader()
    built_with = reader.info.embedder
    if embedder is None:
        check_name(settings.embedder)  # a name no backend takes is that, not another embedder
    wanted = embedder.name if embedder is not None else settings.embedder
    if built_with != wanted:
        raise mismatch(store.location, built_with, wanted, settings)
    if embedder is None:
        embedder = get_embedder(settings.embedder)
    if len(reader) and reader.info.dim != embedder.dim:
        raise EmbedderMismatchError(
            f"the index at {store.location} holds vectors of dim {reader.info.dim}, the embedder makes "
            f"{embedder.dim}: rebuild with {ingest_command(settings, '--rebuild')}"
        )
    log.debug("opened index %s: %d chunks", reader.info.version, len(reader))
    return Retriever(embedder, reader)
