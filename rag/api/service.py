"""What the app shares between requests: settings, the embedder, the live ``Retriever`` and
the generators, built once in the lifespan.

The retriever reference is swapped, never mutated: a request takes the current one when it starts
and keeps it to the end, so an ingest that lands mid-request cannot mix two snapshots in one answer.
Ingests through the API are serialised by a lock (and by the index's own writer lock across
processes). Other workers, other replicas on one Milvus, or a `rag ingest` run beside the server, are noticed
by polling the store's version token at most once a second and reopening when it moved.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from rag.answer.generate import REGISTRY, Generator, get_generator
from rag.answer.generate.cancel import cancellable_transport
from rag.api.errors import public_message
from rag.api.jobs import Jobs
from rag.api.limits import GenerationLimits
from rag.config import Settings
from rag.embed import Embedder, get_embedder
from rag.embed.batcher import QueryBatcher
from rag.errors import DocumentError, IndexMissingError, RagError
from rag.ingest import uploads
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import StageProgress, list_documents, update_index
from rag.search.retrieve import Retriever, open_retriever
from rag.store import Store, open_store
from rag.types import Document

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0
# How long a readiness probe of the generator's server is trusted (probes come every few seconds).
PROBE_TTL_SECONDS = 5.0


class Service:
    """Shared state of one app instance."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        # Questions and searches embed their query through this batcher, so concurrent requests
        # share embedder calls; ingest uses ``embedder`` directly.
        self.queries: QueryBatcher | None = None
        self._retriever: Retriever | None = None
        self._load_error: RagError | None = None
        self._generators: dict[str, Generator] = {}
        self._gen_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._checked = 0.0
        self._probe: tuple[float, dict[str, Any]] | None = None
        self._http: httpx.Client | None = None
        self._store: Store | None = None
        self.limits = GenerationLimits(settings)
        self.jobs = Jobs(settings.index_dir, settings.upload_queue_bytes)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Load the embedder and the index (a missing index is reported by /readyz, not fatal)."""
        # One HTTP client for every HTTP generator, so connections to the LLM server are pooled.
        timeout = httpx.Timeout(self.settings.llm_timeout, connect=min(10.0, self.settings.llm_timeout))
        # Its connections can be cut when a client leaves mid-answer (rag.answer.generate.cancel).
        self._http = httpx.Client(timeout=timeout, transport=cancellable_transport())
        if self.embedder is None:
            self.embedder = get_embedder(self.settings.embedder)
        s = self.settings
        self.queries = QueryBatcher(self.embedder, s.query_batch_size, s.query_batch_window_ms / 1000)
        self._store = open_store(self.settings)
        self._reopen()
        self.generator(self.settings.generator)  # fail at start-up on a bad RAG_GENERATOR
        self.jobs.recover(self._unindexed_uploads, self._recovery)

    def close(self) -> None:
        """Finish the running upload job, release the generators and the shared HTTP client."""
        self.jobs.close()
        for gen in self._generators.values():
            gen.close()
        self._generators.clear()
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def _unindexed_uploads(self) -> list[str]:
        """Uploads kept with the index but missing from it: the server that took them was killed
        mid-ingest. Without an index, the ingest that builds one takes every kept upload in."""
        kept = uploads.stored(self.settings.index_dir)
        if not kept:
            return []
        try:
            info = self.store.info(set(kept))
        except RagError as exc:
            log.warning("kept uploads not checked against the index: %s", exc.message)
            return []
        if info is None:
            return []
        return sorted(d for d, text_hash in kept.items() if info.documents.get(d, {}).get("hash") != text_hash)

    def _recovery(self, doc_id: str) -> tuple[int, Any]:
        """The size and the job that ingests the kept upload ``doc_id`` again."""
        data = uploads.read(self.settings.index_dir, doc_id)

        def work(on_progress: StageProgress) -> dict[str, Any]:
            if data is None:
                raise DocumentError(doc_id, "the kept upload is unreadable; upload it again")
            return self.ingest_document(load_bytes(doc_id, data), data, on_progress)

        return len(data or b""), work

    @property
    def http(self) -> httpx.Client:
        """The shared HTTP client (exists between start() and close())."""
        if self._http is None:
            raise RuntimeError("Service.start() has not run")
        return self._http

    @property
    def store(self) -> Store:
        """The index's store (exists between start() and close())."""
        if self._store is None:
            raise RuntimeError("Service.start() has not run")
        return self._store

    def _reopen(self) -> None:
        try:
            self._retriever = open_retriever(self.settings, self.queries, self.store)
            self._load_error = None
        except RagError as exc:
            if self._retriever is not None:
                # A broken new snapshot (or CURRENT) must not take down the one being served.
                log.warning(
                    "index changed but cannot be loaded (%s); still serving %s",
                    exc.message,
                    self._retriever.index_version,
                )
            else:
                log.warning("index not loaded: %s", exc.message)
                self._load_error = exc
        self._checked = time.monotonic()

    # -- reading ---------------------------------------------------------------------------
    def retriever(self) -> Retriever:
        """The live retriever, or the error that keeps the index from loading (503)."""
        self._maybe_refresh()
        current = self._retriever
        if current is None:
            raise self._load_error or IndexMissingError(f"no index at {self.settings.index_dir}")
        return current

    def _maybe_refresh(self) -> None:
        if time.monotonic() - self._checked < REFRESH_SECONDS:
            return
        self._checked = time.monotonic()
        try:
            live = self.store.version()
        except RagError:
            live = None
        current = self._retriever.index_version if self._retriever is not None else None
        # Only one thread reopens; the others keep answering from the snapshot they have.
        if live != current and self._write_lock.acquire(blocking=False):
            try:
                self._reopen()
            finally:
                self._write_lock.release()

    def index_status(self) -> dict[str, Any]:
        """Whether the index is loaded, its version and size (for /readyz)."""
        try:
            r = self.retriever()
        except RagError as exc:
            return {"ok": False, "code": exc.code, "message": public_message(exc.code, exc.message)}
        return {"ok": True, "version": r.index_version, "chunks": len(r.reader)}

    def chunk_count(self) -> float:
        """Chunks in the live snapshot (0 when none is loaded), for the metrics gauge."""
        current = self._retriever
        return float(len(current.reader)) if current is not None else 0.0

    def generator(self, name: str | None = None) -> Generator:
        """The generator called ``name`` (default: the configured one), built once and shared."""
        name = name or self.settings.generator
        with self._gen_lock:
            if name not in self._generators:
                # Extractive scores sentences with the query batcher, so concurrent answers share calls.
                self._generators[name] = get_generator(name, self.settings, embedder=self.queries, client=self.http)
            return self._generators[name]

    def generator_status(self) -> dict[str, Any]:
        """Whether the default generator's server answers HTTP at all (any status counts)."""
        now = time.monotonic()
        if self._probe is not None and now - self._probe[0] < PROBE_TTL_SECONDS:
            return self._probe[1]
        name = self.settings.generator
        # HTTP backends are configured by a ``<name>_base_url`` setting; local ones have none.
        url = getattr(self.settings, f"{name}_base_url", None)
        status: dict[str, Any] = {"ok": True, "name": name}
        if url:
            try:
                self.http.get(url, timeout=2.0)
            except httpx.HTTPError as exc:
                # The URL may carry credentials or name internal hosts: logged, not shown.
                log.warning("generator %r at %s is unreachable: %s", name, url, exc or type(exc).__name__)
                status = {"ok": False, "name": name, "message": f"the {name!r} generator's server does not answer"}
        self._probe = (now, status)
        return status

    @staticmethod
    def generator_names() -> list[str]:
        """Every registered generator name."""
        return list(REGISTRY)

    def documents(self) -> list[dict[str, Any]]:
        """The documents in the live snapshot, without the server's own file paths."""
        try:
            docs = list_documents(self.settings, self.store)
        except IndexMissingError:
            return []
        return [
            {
                **{k: v for k, v in d.items() if k != "path"},
                "source": d["doc_id"] if Path(str(d.get("source", ""))).is_absolute() else d.get("source"),
            }
            for d in docs
        ]

    # -- writing ---------------------------------------------------------------------------
    def ingest(self, name: str, data: bytes) -> dict[str, Any]:
        """Add or replace one uploaded document, then swap in the new snapshot."""
        return self.ingest_document(load_bytes(name, data), data)

    @staticmethod
    def read_upload(name: str, data: bytes) -> Document:
        """The uploaded file as a Document; DocumentError (415) for binary, undecodable or unsupported files."""
        return load_bytes(name, data)

    def ingest_document(self, doc: Document, data: bytes, on_progress: StageProgress | None = None) -> dict[str, Any]:
        """Add or replace ``doc`` (uploaded as ``data``), then swap in the new snapshot; ``on_progress``
        hears each stage."""
        # The bytes are kept with the index, so a rebuild or a new embedder brings the document back.
        return self._update(add=[doc], uploaded={doc.doc_id: data}, on_progress=on_progress)

    def delete(self, doc_id: str) -> dict[str, Any]:
        """Remove one document, then swap in the new snapshot."""
        return self._update(remove=[doc_id])

    def _update(self, **change: Any) -> dict[str, Any]:
        assert self.embedder is not None, "start() loads the embedder"
        with self._write_lock:
            report = update_index(self.settings, self.embedder, store=self.store, **change)
            retriever = open_retriever(self.settings, self.queries, self.store)
            self._retriever, self._load_error = retriever, None  # the swap: one reference assignment
            self._checked = time.monotonic()
        return report.to_dict()
