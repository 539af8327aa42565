"""One phase of one scale-benchmark cell, in a process of its own: ``python -m bench.scale_cell PHASE CELL``.

``bench.scale`` runs each phase as a subprocess so that a phase can be stopped at the cell's time
limit, and so that the serving process's memory is its own (not the builder's). ``CELL`` is a JSON
object (store, index, size, dir, seed, vectors, queries, hybrid_queries); the phase prints its measurements
as one JSON line, last on stdout.

- ``build``: the synthetic corpus written straight through ``Store.write`` (no embedding).
- ``serve``: a reader opened as a serving process opens it; dense searches through ``Reader.dense``
  and hybrid ones through the product's ``Retriever`` with precomputed query vectors, so neither
  includes query embedding; resident memory; recall@10 against exact search.
- ``update``: one small document added, then deleted, through ``update_index`` with the hashing
  embedder, as an API upload does (its embedding is negligible: the times are the store's); and
  how long a serving process that already holds the index takes to reopen it after the add.
- ``churn``: ``CHURN_SHARE`` of the corpus deleted and as much added in one write (a FAISS delta
  segment near its compaction limit), then the reopen and the searches timed again.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import synthetic
from rag.config import Settings, load_settings
from rag.embed import get_embedder
from rag.ingest.chunk import chunk_document
from rag.ingest.index import _chunking, update_index
from rag.ingest.load import load_bytes
from rag.search.retrieve import CANDIDATES, Retriever
from rag.store import Change, open_store

DIM = 384  # e5-small's dimension
EMBEDDER = f"hashing:{DIM}"
RECALL_K = 10
CHURN_SHARE = 0.045  # deleted, and as much added: 9% of the base in a FAISS delta (compaction at 10%)


def settings(cell: dict[str, Any]) -> Settings:
    # No sentence vectors: the synthetic corpus has none to store (docs/store.md).
    return load_settings(
        env={},
        index_dir=Path(cell["dir"]),
        store=cell["store"],
        embedder=EMBEDDER,
        sentence_vectors=False,
        vector_index=cell["index"],
    )


def memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return {"rss": round(out["VmRSS"], 1), "peak": round(out["VmHWM"], 1)}


def disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def build(cell: dict[str, Any]) -> dict[str, Any]:
    t = time.perf_counter()
    docs = synthetic.documents(cell["size"], DIM, cell["seed"], kind=cell["vectors"])
    generate = time.perf_counter() - t
    s = settings(cell)
    store = open_store(s)
    try:
        t = time.perf_counter()
        store.write(Change(EMBEDDER, DIM, _chunking(s), s.vector_index, docs))
        seconds = time.perf_counter() - t
    finally:
        store.close()
    return {
        "generate_s": round(generate, 2),
        "build_s": round(seconds, 2),
        "disk_mb": disk_mb(Path(cell["dir"])),
        "builder_peak_mb": memory_mb()["peak"],
    }


class PrecomputedEmbedder:
    """Query vectors looked up by text, so a timed search pays nothing for embedding."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.name, self.dim, self._vectors = EMBEDDER, DIM, vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vectors[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError("the scale benchmark embeds no passages at search time")


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(x * 1000 for x in seconds)
    return round(statistics.median(ms), 3), round(ms[int(0.95 * (len(ms) - 1))], 3)


def _exact(cell: dict[str, Any], q: np.ndarray) -> np.ndarray:
    """Exact top-10 positions for the queries, cached beside the cells (the same for every store)."""
    path = Path(cell["exact"])
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    top = synthetic.exact_top(cell["size"], DIM, cell["seed"], q, RECALL_K, kind=cell["vectors"])
    np.save(path, top)
    return top


def _searches(reader: Any, cell: dict[str, Any], q: np.ndarray) -> dict[str, Any]:
    """Dense searches for ``q[:-1]`` (and their top 10 keys) and hybrid ones, timed."""
    reader.dense(q[-1], CANDIDATES)  # the first search pays one-off costs (Milvus: the connection)
    dense_times, found = [], []
    for v in q[:-1]:
        t = time.perf_counter()
        keys, _ = reader.dense(v, CANDIDATES)
        dense_times.append(time.perf_counter() - t)
        found.append(keys[:RECALL_K])
    texts = synthetic.query_texts(cell["hybrid_queries"], cell["seed"])
    retriever = Retriever(PrecomputedEmbedder(dict(zip(texts, q, strict=False))), reader)
    hybrid_times = []
    for text in texts:
        t = time.perf_counter()
        retriever.search(text, top_k=5, mode="hybrid")
        hybrid_times.append(time.perf_counter() - t)
    out: dict[str, Any] = {"found": found}
    out["dense_p50_ms"], out["dense_p95_ms"] = _percentiles(dense_times)
    if hybrid_times:
        out["hybrid_p50_ms"], out["hybrid_p95_ms"] = _percentiles(hybrid_times)
    return out


def serve(cell: dict[str, Any]) -> dict[str, Any]:
    base = memory_mb()["rss"]
    q = synthetic.queries(cell["queries"] + 1, DIM, cell["seed"], cell["size"], cell["vectors"])
    t = time.perf_counter()
    store = open_store(settings(cell))
    try:
        reader = store.reader()
        opened = time.perf_counter() - t
        after_open = memory_mb()["rss"]
        timed = _searches(reader, cell, q)
        mem = memory_mb()  # before anything not part of serving (the exact search below)
        found = timed.pop("found")
        positions = [[synthetic.position(c.chunk_id) for c in reader.chunks(k.tolist())] for k in found]
    finally:
        store.close()
    exact = _exact(cell, q[:-1])
    recall = np.mean([len(set(p) & set(e.tolist())) / RECALL_K for p, e in zip(positions, exact, strict=True)])
    return {
        "open_s": round(opened, 2),
        "base_mb": base,
        "opened_mb": after_open,
        "rss_mb": mem["rss"],
        "peak_mb": mem["peak"],
        "recall_at_10": round(float(recall), 4),
        **timed,
    }


def update(cell: dict[str, Any]) -> dict[str, Any]:
    s = settings(cell)
    embedder = get_embedder(EMBEDDER)
    upload = load_bytes("upload.txt", synthetic.upload_text(cell["seed"]).encode())
    chunk_document(upload, s.chunk_tokens, s.chunk_overlap)  # loads the tokenizer outside the timings
    t = time.perf_counter()
    store = open_store(s)
    opened = time.perf_counter() - t
    try:
        store.reader()  # as a serving process holds it
        t = time.perf_counter()
        report = update_index(s, embedder, add=[upload], store=store)
        add = time.perf_counter() - t
        t = time.perf_counter()
        reader = store.reader()
        reopen = time.perf_counter() - t
        if len(reader) != cell["size"] + report.embedded_chunks:
            raise RuntimeError(f"the reopened index holds {len(reader)} chunks, not the upload's too")
        t = time.perf_counter()
        update_index(s, embedder, remove=["upload.txt"], store=store)
        delete = time.perf_counter() - t
    finally:
        store.close()
    return {
        "update_open_s": round(opened, 2),
        "add_s": round(add, 3),
        "reopen_s": round(reopen, 3),
        "delete_s": round(delete, 3),
        "upload_chunks": report.embedded_chunks,
    }


def churn(cell: dict[str, Any]) -> dict[str, Any]:
    s = settings(cell)
    n_docs = max(1, round(cell["size"] * CHURN_SHARE / synthetic.PER_DOC))
    new = synthetic.documents(n_docs * synthetic.PER_DOC, DIM, cell["seed"] + 1, "churn", cell["vectors"])
    gone = frozenset(f"synthetic/{i}.txt" for i in range(n_docs))
    q = synthetic.queries(cell["queries"] + 1, DIM, cell["seed"], cell["size"], cell["vectors"])
    store = open_store(s)
    try:
        store.reader()  # as a serving process holds it
        t = time.perf_counter()
        store.write(Change(EMBEDDER, DIM, _chunking(s), s.vector_index, new, gone))
        wrote = time.perf_counter() - t
        t = time.perf_counter()
        reader = store.reader()
        reopen = time.perf_counter() - t
        timed = _searches(reader, cell, q)
    finally:
        store.close()
    return {
        "churn_chunks": 2 * n_docs * synthetic.PER_DOC,
        "churn_write_s": round(wrote, 2),
        "churn_reopen_s": round(reopen, 2),
        **{f"churn_{k}": v for k, v in timed.items() if k != "found"},
    }


PHASES = {"build": build, "serve": serve, "update": update, "churn": churn}


def main(argv: list[str]) -> int:
    phase, cell = argv[0], json.loads(argv[1])
    print(json.dumps(PHASES[phase](cell)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
