"""Writes to the Milvus store: a change touches only the rows of the documents it adds or drops.

Order of a write, so that a process killed at any point leaves the last good state searchable:
new chunk and sentence rows are inserted first, then the replaced documents' old rows are deleted
by primary key, then BM25 statistics, the document records and the manifest (with a new version
token) are written. Every row's id carries the id of the write that made it in its high half, and
a document record names the write that committed it. Killed between the first two steps, a
replaced document is found twice until the next write that touches it; its record still holds
the old hash and write, so the next ingest replaces it again, deletes both generations and takes
off the statistics only what the committed one had added. Writers are serialised within a process;
replicas writing at the same instant can let a document frequency drift by the racing write's
terms (`rag ingest --rebuild` recounts).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymilvus.exceptions import DescribeCollectionException

from rag.config import Settings, ingest_command
from rag.errors import IndexCorruptError, IndexMissingError
from rag.store.base import Change, DocumentRows, IndexInfo
from rag.store.faiss.snapshot import new_version
from rag.store.milvus import schema
from rag.store.milvus.connect import URL_SCHEMES, connect, milvus_uri
from rag.store.milvus.terms import doc_terms, doc_vector

log = logging.getLogger(__name__)

BATCH = 512  # rows per insert call: keeps each gRPC message far below Milvus's 64 MB limit
QUERY_LIMIT = 16_384  # Milvus's cap on one query's rows; past it, a query iterator
META = "meta"


class MilvusBackend:
    """An index held in Milvus collections (Milvus Lite for a local path)."""

    name = "milvus"

    def __init__(self, settings: Settings) -> None:
        self.prefix = settings.milvus_collection
        self.ef_search = settings.hnsw_ef_search
        self.location = f"{milvus_uri(settings)} (collections {self.prefix}_*)"
        self._settings = settings  # for the `rag ingest` command its messages suggest
        self._client: Any = None
        self._release: Callable[[], None] = lambda: None
        self.chunks_col, self.sentences_col, self.kv_col = schema.names(self.prefix)
        self._lock = threading.RLock()
        # Whether the collections exist, once seen: has_collection costs about 55 ms on Lite, and
        # the manifest is read on every write and every version poll.
        self._exists = False
        if not self._absent():
            self.client  # noqa: B018  (connect now: a server that cannot be reached is reported at once)

    @property
    def client(self) -> Any:
        """The Milvus client. Milvus Lite data that does not exist yet is connected to (and so
        created) only by a write: a search or a listing of a missing index says "no index" and
        leaves no empty Milvus Lite directory behind."""
        if self._client is not None:
            return self._client
        with self._lock:
            if self._client is None:
                self._client, self._release = connect(self._settings)
                schema.load(self._client, self.prefix)
            return self._client

    def _absent(self) -> bool:
        """Whether this is Milvus Lite data that does not exist (nothing to connect to yet)."""
        uri = milvus_uri(self._settings)
        return self._client is None and not uri.startswith(URL_SCHEMES) and not Path(uri).expanduser().exists()

    # -- reading -------------------------------------------------------------------------
    def meta(self) -> dict[str, Any] | None:
        """The manifest row, or None when this index was never written."""
        if self._absent():
            return None
        if not self._exists and not self.client.has_collection(self.kv_col):
            return None
        try:
            rows = self.client.get(self.kv_col, ids=[META], output_fields=["value"])
        except DescribeCollectionException:  # dropped since: a rebuild by another process
            self._exists = False
            return None
        self._exists = True
        if not rows:
            return None
        try:
            meta: dict[str, Any] = json.loads(rows[0]["value"])
        except ValueError as exc:
            log.debug("manifest of %s: %s", self.location, exc)
            rebuild = ingest_command(self._settings, "--rebuild")
            raise IndexCorruptError(f"the manifest in {self.location} is damaged: rebuild with {rebuild}") from None
        return meta

    def info(self, doc_ids: Collection[str] | None = None) -> IndexInfo | None:
        meta = self.meta()
        if meta is None:
            return None
        return _info(meta, self._records(doc_ids))

    def _records(self, doc_ids: Collection[str] | None) -> dict[str, dict[str, Any]]:
        """Document records by id: these, or all of them."""
        if doc_ids is None:
            batches: Iterable[list[dict[str, Any]]] = _iterate(
                self.client, self.kv_col, 'kind == "doc"', ["key", "value"]
            )
        else:
            keys = [f"doc:{d}" for d in sorted(doc_ids)]
            batches = (
                self.client.get(self.kv_col, ids=keys[i : i + BATCH], output_fields=["value"])
                for i in range(0, len(keys), BATCH)
            )
        return {row["key"][4:]: json.loads(row["value"]) for batch in batches for row in batch}

    def version(self) -> str | None:
        meta = self.meta()
        return None if meta is None else str(meta["version"])

    def reader(self) -> Any:
        from rag.store.milvus.reader import MilvusReader

        meta = self.meta()
        if meta is None:
            raise IndexMissingError(f"no index at {self.location}: build it with {ingest_command(self._settings)}")
        return MilvusReader(self, _info(meta, {}), meta)

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            yield

    def write(self, change: Change) -> IndexInfo:
        with self._lock:
            if change.reset:
                schema.drop(self.client, self.prefix)
                self._exists = False
            if not self._exists:
                schema.create(self.client, self.prefix, change.dim, change.vector_index)
            meta = self.meta() or {"chunks": 0, "tokens": 0, "documents": 0}
            n, total = int(meta["chunks"]), int(meta["tokens"])
            gone = sorted({d.doc_id for d in change.add} | set(change.remove))
            old_ids, df, existed = self._old_rows(gone)
            added = {d.doc_id for d in change.add}
            n_docs = int(meta["documents"]) + len(added - existed) - len(set(change.remove) & existed)
            n -= sum(1 for length in old_ids.values() if length)  # counted rows have >= 1 token (EMPTY)
            total -= sum(old_ids.values())
            titles = bool(change.chunking.get("passage_titles"))
            fresh = [doc_terms(c.indexed_text(titles)) for d in change.add for c in d.chunks]
            n += len(fresh)
            total += sum(length for _, length in fresh)
            avgdl = total / n if n else 1.0
            for tf, _ in fresh:
                df.update(dict.fromkeys(tf, 1))
            write_id = secrets.randbits(31)  # the high half of every new row's id
            self._insert(change.add, fresh, avgdl, write_id << 32)
            if old_ids:
                self._delete_ids(self.chunks_col, "id", list(old_ids))
                self._delete_ids(self.sentences_col, "chunk", list(old_ids))
            self._update_df(df)
            docs = [
                schema.kv_row(f"doc:{d.doc_id}", "doc", json.dumps(d.meta, ensure_ascii=False), write_id)
                for d in change.add
            ]
            for i in range(0, len(docs), BATCH):
                self.client.upsert(self.kv_col, docs[i : i + BATCH])
            removed = [f"doc:{d}" for d in change.remove]
            if removed:
                self.client.delete(self.kv_col, ids=removed)
            meta = {
                "version": new_version(),
                "embedder": change.embedder,
                "dim": change.dim,
                "chunking": change.chunking,
                "vector_index": change.vector_index,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "chunks": n,
                "tokens": total,
                "documents": n_docs,
            }
            self.client.upsert(self.kv_col, [schema.kv_row(META, "meta", json.dumps(meta, ensure_ascii=False))])
            for col in (self.chunks_col, self.sentences_col, self.kv_col):
                self.client.flush(col)  # searches right after unflushed inserts are slow on Lite
            return _info(meta, {d.doc_id: d.meta for d in change.add})

    def _old_rows(self, doc_ids: list[str]) -> tuple[dict[int, int], Counter[int], set[str]]:
        """Chunk ids of these documents with the token lengths to take off the statistics, and
        minus their document frequencies. Rows left by a write that died before its commit are
        deleted too but were never counted: only rows of the write a document record names
        (the high half of their id) are. Also which of these documents have a record."""
        ids: dict[int, int] = {}
        df: Counter[int] = Counter()
        existed: set[str] = set()
        for i in range(0, len(doc_ids), BATCH):
            part = doc_ids[i : i + BATCH]
            recs = self.client.get(self.kv_col, ids=[f"doc:{d}" for d in part], output_fields=["num"])
            committed = {r["key"][4:]: int(r["num"]) for r in recs}
            existed |= set(committed)
            expr = f"doc_id in {json.dumps(part, ensure_ascii=False)}"
            for batch in _rows(self.client, self.chunks_col, expr, ["id", "doc_id", "length", "terms"]):
                for row in batch:
                    key = int(row["id"])
                    counted = committed.get(row["doc_id"]) == key >> 32
                    ids[key] = int(row["length"]) if counted else 0
                    if counted:
                        df.subtract(dict.fromkeys((int(t) for t in _sparse_keys(row["terms"])), 1))
        return ids, df, existed

    def _insert(self, docs: Any, fresh: list[tuple[Counter[int], int]], avgdl: float, base: int) -> None:
        rows: list[dict[str, Any]] = []
        sents: list[dict[str, Any]] = []
        pos = n_sent = 0
        for d in docs:
            assert isinstance(d, DocumentRows)
            for j, c in enumerate(d.chunks):
                key = base + pos
                tf, length = fresh[pos]
                pos += 1
                rows.append(
                    {
                        **{name: getattr(c, name) for name in schema.CHUNK_FIELDS},
                        "id": key,
                        "length": length,
                        "vector": d.vectors[j].tolist(),
                        "terms": doc_vector(tf, length, avgdl),
                    }
                )
                sent = d.sentences[j] if j < len(d.sentences) else None
                if sent is not None:
                    spans, vecs = sent
                    for (a, b), v in zip(spans, vecs, strict=True):
                        sents.append({"id": base + n_sent, "chunk": key, "start": a, "end": b, "vector": v.tolist()})
                        n_sent += 1
                if len(rows) >= BATCH:
                    self.client.insert(self.chunks_col, rows)
                    rows = []
                if len(sents) >= BATCH:
                    self.client.insert(self.sentences_col, sents)
                    sents = []
        if rows:
            self.client.insert(self.chunks_col, rows)
        if sents:
            self.client.insert(self.sentences_col, sents)

    def _delete_ids(self, collection: str, field: str, ids: list[int]) -> None:
        for i in range(0, len(ids), BATCH):
            self.client.delete(collection, filter=f"{field} in {ids[i : i + BATCH]}")

    def _update_df(self, delta: Counter[int]) -> None:
        delta = Counter({t: v for t, v in delta.items() if v})
        terms = sorted(delta)
        for i in range(0, len(terms), BATCH):
            part = terms[i : i + BATCH]
            keys = [f"df:{t}" for t in part]
            have = {r["key"]: int(r["num"]) for r in self.client.get(self.kv_col, ids=keys, output_fields=["num"])}
            upsert, delete = [], []
            for t, key in zip(part, keys, strict=True):
                value = have.get(key, 0) + delta[t]
                if value > 0:
                    upsert.append(schema.kv_row(key, "df", num=value))
                elif key in have:
                    delete.append(key)
            if upsert:
                self.client.upsert(self.kv_col, upsert)
            if delete:
                self.client.delete(self.kv_col, ids=delete)

    def close(self) -> None:
        self._release()


def _info(meta: dict[str, Any], docs: dict[str, dict[str, Any]]) -> IndexInfo:
    chunking = meta.get("chunking") or {}
    n_docs = int(meta.get("documents", 0))
    return IndexInfo(
        str(meta["version"]), meta["embedder"], int(meta["dim"]), chunking, docs, int(meta["chunks"]), n_docs
    )


def _sparse_keys(vector: Any) -> list[int]:
    """The dimensions of a sparse vector as pymilvus returns it (a dict, or a scipy-like row)."""
    if isinstance(vector, dict):
        return [int(k) for k in vector]
    return [int(k) for k in vector.indices]


def _rows(client: Any, collection: str, expr: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Every row matching ``expr``: one query when they fit in one (setting up an iterator costs
    about 0.45 s on Lite), else in batches."""
    rows = client.query(collection, filter=expr, output_fields=fields, limit=QUERY_LIMIT)
    if len(rows) < QUERY_LIMIT:
        yield rows
    else:
        yield from _iterate(client, collection, expr, fields)


def _iterate(client: Any, collection: str, expr: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Every row matching ``expr``, in batches (query alone stops at 16,384 rows)."""
    it = client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
    try:
        while batch := it.next():
            yield batch
    finally:
        it.close()
