"""What one upload and one delete cost in a large index, per store.

Builds an index of ``--chunks`` synthetic chunks (random unit vectors of the embedder's dimension
and generated Russian-like text, written straight through the store, so the base needs no
embedding), then times adding one small document through ``update_index`` (as an API upload
does) and deleting it. The hashing embedder makes the document's own embedding negligible, so
the times are the store's.

    .venv/bin/python evals/bench_upload.py --chunks 20000 [--stores faiss milvus]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import load_settings  # noqa: E402
from rag.embed import get_embedder  # noqa: E402
from rag.ingest.chunk import chunk_document  # noqa: E402
from rag.ingest.load import load_bytes  # noqa: E402
from rag.ingest.pipeline import _chunking, update_index  # noqa: E402
from rag.store import Change, DocumentRows, open_store  # noqa: E402
from rag.types import Chunk  # noqa: E402

WORDS = "торговля вода энергия мост регион договор визит рост транспорт граница рынок зерно хлопок газ".split()
PER_DOC = 50


def synthetic(n_chunks: int, dim: int, rng: np.random.Generator) -> list[DocumentRows]:
    docs = []
    for d in range(0, n_chunks, PER_DOC):
        doc_id = f"synthetic/{d // PER_DOC}.txt"
        chunks, offset = [], 0
        for i in range(min(PER_DOC, n_chunks - d)):
            text = " ".join(rng.choice(WORDS, 40)) + f" {d + i}."
            chunks.append(Chunk(f"{doc_id}#{i}", doc_id, doc_id, doc_id, text, offset, offset + len(text), i))
            offset += len(text) + 1
        vecs = rng.standard_normal((len(chunks), dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        meta = {"hash": doc_id, "source": doc_id, "title": doc_id, "chunks": len(chunks), "chars": offset}
        docs.append(DocumentRows(doc_id, meta, chunks, vecs))
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=20000)
    ap.add_argument("--stores", nargs="+", default=["faiss", "milvus"])
    args = ap.parse_args()
    embedder = get_embedder("hashing:384")
    rows = synthetic(args.chunks, embedder.dim, np.random.default_rng(0))
    upload = load_bytes("upload.txt", ("Новый документ о мосте через реку. " * 20).encode())
    chunk_document(upload, 200, 1)  # loads the tokenizer once, outside the timings
    print("| store | chunks | build s | add one document s | delete it s |\n|---|---|---|---|---|")
    for kind in args.stores:
        with tempfile.TemporaryDirectory() as tmp:
            s = load_settings(index_dir=Path(tmp), store=kind, embedder=embedder.name, sentence_vectors=False)
            store = open_store(s)
            try:
                t = time.perf_counter()
                change = Change(embedder.name, embedder.dim, _chunking(s), s.vector_index, rows)
                store.write(change)
                build = time.perf_counter() - t
                t = time.perf_counter()
                update_index(s, embedder, add=[upload], store=store)
                add = time.perf_counter() - t
                t = time.perf_counter()
                update_index(s, embedder, remove=["upload.txt"], store=store)
                delete = time.perf_counter() - t
            finally:
                store.close()
        print(f"| {kind} | {args.chunks} | {build:.1f} | {add:.2f} | {delete:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
