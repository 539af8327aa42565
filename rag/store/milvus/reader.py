"""Search over the Milvus store: every call is a query to Milvus; nothing is held in memory
beyond the manifest row, so any number of replicas read the same index.

A hybrid search costs four round trips: a dense search, the document frequencies of the query's
terms, a sparse (BM25) search, and the exact BM25 scores of the dense candidates the sparse top
list missed (fusion needs every candidate's score); then one fetch each for the passages' fields
and their sentence vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.store.base import IndexInfo, Sentences
from rag.store.milvus.schema import CHUNK_FIELDS
from rag.store.milvus.terms import idf_answer, idf_bm25, query_counts, term_id
from rag.text.terms import tokenize
from rag.types import Chunk

if TYPE_CHECKING:
    from rag.store.milvus.backend import MilvusBackend

_FIELDS = list(CHUNK_FIELDS)
_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class MilvusReader:
    """One version of the index in Milvus (the manifest as of opening)."""

    def __init__(self, backend: MilvusBackend, info: IndexInfo, meta: dict[str, Any]) -> None:
        self.info = info
        self._client: Any = backend.client
        self._chunks, self._sentences, self._kv = backend.chunks_col, backend.sentences_col, backend.kv_col
        self._n = int(meta["chunks"])
        ef = backend.ef_search
        self._dense_params: dict[str, Any] = {
            "metric_type": "IP",
            "params": {"ef": ef} if meta.get("vector_index") == "hnsw" else {},
        }

    def __len__(self) -> int:
        return self._n

    def dense(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        params = self._dense_params
        if "ef" in params["params"]:
            params = {**params, "params": {"ef": max(params["params"]["ef"], k)}}
        hits = self._client.search(
            self._chunks, data=[query.astype(np.float32).tolist()], anns_field="vector", limit=k, search_params=params
        )[0]
        return _arrays(hits)

    def _df(self, terms: Iterable[int]) -> dict[int, int]:
        keys = [f"df:{t}" for t in set(terms)]
        if not keys:
            return {}
        rows = self._client.get(self._kv, ids=keys, output_fields=["num"])
        return {int(r["key"][3:]): int(r["num"]) for r in rows}

    def lexical(self, query: str, k: int, also: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        counts = query_counts(tokenize(query))
        df = self._df(counts)
        weights = {t: c * idf_bm25(df[t], self._n) for t, c in counts.items() if t in df}
        if not weights:
            return np.asarray(also, dtype=np.int64), np.zeros(len(also), dtype=np.float32)
        hits = self._client.search(self._chunks, data=[weights], anns_field="terms", limit=k)[0]
        keys, scores = _arrays(hits)
        rest = sorted(set(map(int, also)) - set(map(int, keys)))
        if rest:
            found = self._client.search(
                self._chunks, data=[weights], anns_field="terms", limit=len(rest), filter=f"id in {rest}"
            )[0]
            exact = {int(h["id"]): float(h["distance"]) for h in found}
            keys = np.concatenate([keys, np.asarray(rest, dtype=np.int64)])
            scores = np.concatenate([scores, np.asarray([exact.get(r, 0.0) for r in rest], dtype=np.float32)])
        return keys, scores

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        tokens = list(tokens)
        df = self._df(term_id(t) for t in tokens)
        return {t: idf_answer(df.get(term_id(t), 0), self._n) for t in tokens}

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        tokens = list(tokens)
        df = self._df(term_id(t) for t in tokens)
        return {t: df.get(term_id(t), 0) for t in tokens}

    def chunks(self, keys: Sequence[int]) -> list[Chunk]:
        if not keys:
            return []
        rows = {int(r["id"]): r for r in self._client.get(self._chunks, ids=list(keys), output_fields=_FIELDS)}
        return [_chunk(rows[int(k)]) for k in keys]

    def sentences(self, keys: Sequence[int]) -> list[Sentences | None]:
        if not keys:
            return []
        rows = self._client.query(
            self._sentences,
            filter=f"chunk in {[int(k) for k in keys]}",
            output_fields=["chunk", "start", "end", "vector"],
        )
        by_chunk: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            by_chunk.setdefault(int(r["chunk"]), []).append(r)
        out: list[Sentences | None] = []
        for k in keys:
            got = sorted(by_chunk.get(int(k), []), key=lambda r: (r["start"], r["end"]))
            if not got:
                out.append(None)
                continue
            spans = tuple((int(r["start"]), int(r["end"])) for r in got)
            out.append((spans, np.asarray([r["vector"] for r in got], dtype=np.float32)))
        return out

    def all_chunks(self) -> Iterator[Chunk]:
        rows: list[dict[str, Any]] = []
        it = self._client.query_iterator(self._chunks, batch_size=1000, output_fields=["id", *_FIELDS])
        try:
            while batch := it.next():
                rows.extend(batch)
        finally:
            it.close()
        return (_chunk(r) for r in sorted(rows, key=lambda r: int(r["id"])))


def _arrays(hits: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    if not hits:
        return _NONE
    keys = np.asarray([int(h["id"]) for h in hits], dtype=np.int64)
    return keys, np.asarray([float(h["distance"]) for h in hits], dtype=np.float32)


def _chunk(row: dict[str, Any]) -> Chunk:
    return Chunk(**{name: row[name] for name in _FIELDS})
