"""The embed step of an ingest: sentence vectors for the fresh chunks, and the rows a store writes
(chunks, vectors and sentence vectors grouped by document, with each document's record)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.embed import Embedder
from rag.embed.batch import Progress, embed_passages
from rag.embed.resume import ResumeCache
from rag.store import DocumentRows, Sentences
from rag.text.sentences import passage_sentences
from rag.types import Chunk, Document


def embed_sentences(
    embedder: Embedder,
    chunks: Sequence[Chunk],
    titles: bool,
    progress: bool,
    resume: ResumeCache,
    on_batch: Progress | None,
) -> list[Sentences]:
    """Spans and vectors of every chunk's sentences (each under its passage's title, see
    ``Chunk.sentence_text``), for search and answer scoring at question time."""
    spans = [tuple(passage_sentences(c.text)) for c in chunks]
    texts = [c.sentence_text(a, b, titles) for c, sp in zip(chunks, spans, strict=True) for a, b in sp]
    vecs = embed_passages(embedder, texts, "embedding sentences", progress, resume, on_batch)
    out: list[Sentences] = []
    pos = 0
    for sp in spans:
        out.append((sp, vecs[pos : pos + len(sp)]))
        pos += len(sp)
    return out


def document_rows(
    docs: dict[str, Document], chunks: Sequence[Chunk], vectors: np.ndarray, sentences: Sequence[Sentences | None]
) -> list[DocumentRows]:
    """The fresh chunks grouped by document, with each document's record for the manifest."""
    by_doc: dict[str, list[int]] = {d: [] for d in docs}
    for i, c in enumerate(chunks):
        by_doc[c.doc_id].append(i)
    out = []
    for doc_id, rows in by_doc.items():
        d = docs[doc_id]
        meta = {
            "hash": d.content_hash,
            "source": d.source,
            "title": d.title,
            "chunks": len(rows),
            "chars": len(d.text),
            **({"pages": len(d.pages)} if d.pages else {}),
            **({"path": d.path} if d.path else {}),
        }
        vecs = vectors[rows] if rows else np.empty((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
        out.append(DocumentRows(doc_id, meta, [chunks[i] for i in rows], vecs, [sentences[i] for i in rows]))
    return out
