"""Lexical search on XQuAD-ru four ways: which BM25 the Milvus store should use.

- ``bm25s``: the FAISS store's BM25 (``rag.store.lexical``), the reference.
- ``milvus-stems``: the Milvus store as built: the service's Snowball stems as sparse vectors with
  BM25 weights, document frequencies kept by the store (``rag.store.milvus.terms``).
- ``milvus-bm25-raw``: Milvus's own BM25 function over the chunk text with the ``standard``
  analyzer (Milvus Lite has no other for Russian; a server can add a ``stemmer`` filter).
- ``milvus-bm25-stems``: Milvus's BM25 function fed the service's stems joined by spaces.

Reports hit@1/5/10 and MRR by distinct document (as ``rag eval``) and lexical query latency. No
embedding is involved, so it runs in a minute or two on Milvus Lite.

    .venv/bin/python evals/bench_store.py [--json build/bench/store.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import load_settings  # noqa: E402
from rag.embed import get_embedder  # noqa: E402
from rag.evals.retrieval import score_ranks  # noqa: E402
from rag.evals.squad import load_squad  # noqa: E402
from rag.ingest.chunk import chunk_document  # noqa: E402
from rag.ingest.pipeline import update_index  # noqa: E402
from rag.search.retrieve import open_retriever  # noqa: E402
from rag.store import open_store  # noqa: E402
from rag.store.lexical import LexicalIndex  # noqa: E402
from rag.text.terms import tokenize  # noqa: E402
from rag.types import Chunk  # noqa: E402

DEPTH = 40  # chunks fetched per question, as `rag eval` does for document ranks


def doc_rank(doc_ids: list[str], gold: str) -> int:
    """1-based rank of ``gold`` among the distinct documents, 0 beyond 10."""
    seen: list[str] = []
    for d in doc_ids:
        if d not in seen:
            seen.append(d)
            if d == gold:
                return len(seen)
            if len(seen) >= 10:
                break
    return 0


def measure(name: str, search: Callable[[str], list[str]], questions: list[tuple[str, str]]) -> dict[str, float]:
    search(questions[0][0])  # warm-up
    ranks, lat = [], []
    for q, gold in questions:
        t = time.perf_counter()
        docs = search(q)
        lat.append((time.perf_counter() - t) * 1000)
        ranks.append(doc_rank(docs, gold))
    result = score_ranks(name, ranks, lat).to_dict()
    print(f"{name}: {result}", file=sys.stderr)
    return result


def milvus_bm25(tmp: Path, chunks: list[Chunk], stems: bool) -> Callable[[str], list[str]]:
    """A collection with Milvus's BM25 function over the text (or over its stems)."""
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(str(tmp / f"bm25-{stems}.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]
        )
    )
    index = client.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5})
    client.create_collection("c", schema=schema, index_params=index)
    prep: Callable[[str], str] = (lambda t: " ".join(tokenize(t))) if stems else (lambda t: t)
    rows = [{"id": i, "text": prep(c.text) or "-"} for i, c in enumerate(chunks)]
    for i in range(0, len(rows), 500):
        client.insert("c", rows[i : i + 500])
    client.flush("c")

    def search(q: str) -> list[str]:
        hits = client.search("c", data=[prep(q) or "-"], anns_field="sparse", limit=DEPTH)[0]
        return [chunks[int(h["id"])].doc_id for h in hits]

    return search


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    settings = load_settings()
    docs, squad = load_squad(settings.xquad_path)
    questions = [(q.question, q.doc_id) for q in squad]
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]
    print(f"{len(docs)} paragraphs, {len(chunks)} chunks, {len(questions)} questions", file=sys.stderr)
    results: dict[str, dict[str, float]] = {}

    bm25 = LexicalIndex([c.text for c in chunks])

    def reference(q: str) -> list[str]:
        scores = bm25.scores(q)
        top = np.argsort(-scores, kind="stable")[:DEPTH]
        return [chunks[i].doc_id for i in top if scores[i] > 0]

    results["bm25s"] = measure("bm25s", reference, questions)
    with tempfile.TemporaryDirectory() as tmp:
        s = load_settings(index_dir=Path(tmp) / "store", store="milvus", embedder="hashing", sentence_vectors=False)
        store = open_store(s)
        try:
            update_index(s, get_embedder("hashing"), add=docs, store=store)
            retriever = open_retriever(s, store=store)
            results["milvus-stems"] = measure(
                "milvus-stems",
                lambda q: [p.chunk.doc_id for p in retriever.search(q, DEPTH, "lexical")],
                questions,
            )
        finally:
            store.close()
        results["milvus-bm25-raw"] = measure("milvus-bm25-raw", milvus_bm25(Path(tmp), chunks, False), questions)
        results["milvus-bm25-stems"] = measure("milvus-bm25-stems", milvus_bm25(Path(tmp), chunks, True), questions)
    print("| lexical search | hit@1 | hit@5 | hit@10 | MRR | p50 ms |\n|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['hit@1']:.3f} | {r['hit@5']:.3f} | {r['hit@10']:.3f} | {r['mrr']:.3f} | {r['p50_ms']:.1f} |"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
