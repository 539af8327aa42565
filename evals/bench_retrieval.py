"""Retrieval benchmark on XQuAD-ru, and search latency on the seed corpus.

Indexes XQuAD-ru's 240 paragraphs as one corpus, asks all 1,190 questions in each search mode and
reports hit@1/3/5/10 and MRR (by distinct document), then times single searches over the seed
index (p50/p95). Options compare fusion methods, weights and chunk sizes; numbers in
docs/retrieval.md come from this script.

    .venv/bin/python evals/bench_retrieval.py                     # defaults
    .venv/bin/python evals/bench_retrieval.py --fusion rrf convex --weights 0.3 0.5 0.7
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import load_settings, replace  # noqa: E402
from rag.embed import get_embedder  # noqa: E402
from rag.evals.retrieval import run_retrieval  # noqa: E402
from rag.evals.squad import load_squad  # noqa: E402
from rag.ingest.pipeline import ingest_paths, update_index  # noqa: E402
from rag.search import fuse  # noqa: E402
from rag.search.retrieve import open_retriever  # noqa: E402


def seed_latency(settings, embedder, queries: list[str]) -> dict[str, float]:
    """p50/p95 of one hybrid search (query embedding included) over the seed corpus index.

    Each query is asked once: query vectors are cached, so a repeat would skip the embedding.
    """
    with tempfile.TemporaryDirectory() as tmp:
        s = replace(settings, index_dir=Path(tmp), sentence_vectors=False)
        ingest_paths([ROOT / "seeds"], s, embedder, progress=False)
        r = open_retriever(s, embedder)
        r.search("warm-up query, not timed", 5)
        times = []
        for q in dict.fromkeys(queries):
            t = time.perf_counter()
            r.search(q, 5)
            times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)), "n": len(times)}


def _seed_questions() -> list[dict]:
    lines = (ROOT / "evals" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xquad", type=Path, help="path of xquad.ru.json (default: RAG_XQUAD_PATH or ../shared)")
    ap.add_argument("--embedder", default=None, help="embedder name (default: RAG_EMBEDDER or e5-small)")
    ap.add_argument("--chunk-tokens", type=int, nargs="*", help="chunk sizes to compare")
    ap.add_argument("--fusion", nargs="*", default=[fuse.DEFAULT], choices=list(fuse.METHODS))
    ap.add_argument("--weights", type=float, nargs="*", default=[fuse.CONVEX_WEIGHT], help="convex dense weights")
    ap.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    ap.add_argument("--json", type=Path, help="also write results to this JSON file")
    ap.add_argument("--latency-only", action="store_true", help="only time searches over the seed corpus")
    args = ap.parse_args()

    settings = load_settings(embedder=args.embedder)
    if args.latency_only:
        lat = seed_latency(settings, get_embedder(settings.embedder), [q["question"] for q in _seed_questions()])
        print(
            f"seed corpus, hybrid search incl. query embedding: p50 {lat['p50_ms']:.1f} ms, "
            f"p95 {lat['p95_ms']:.1f} ms ({lat['n']} searches)"
        )
        return 0
    path = args.xquad or settings.xquad_path
    if not path.exists():
        print(f"XQuAD-ru not found at {path}: pass --xquad or set RAG_XQUAD_PATH", file=sys.stderr)
        return 2
    embedder = get_embedder(settings.embedder)
    docs, questions = load_squad(path)
    pairs = [(q.question, q.doc_id) for q in questions][: args.limit or None]
    out: dict = {"dataset": str(path), "questions": len(pairs), "embedder": embedder.name, "runs": []}
    print(f"XQuAD-ru: {len(docs)} paragraphs, {len(pairs)} questions, embedder {embedder.name}")
    cols = ["hit@1", "hit@3", "hit@5", "hit@10", "MRR", "p50ms", "p95ms"]
    print(f"{'chunk':>5} {'mode':<16} " + " ".join(f"{c:>6}" for c in cols))
    for size in args.chunk_tokens or [settings.chunk_tokens]:
        with tempfile.TemporaryDirectory() as tmp:
            s = replace(settings, index_dir=Path(tmp), chunk_tokens=size, sentence_vectors=False)
            t = time.perf_counter()
            rep = update_index(s, embedder, add=docs, progress=True)
            build_s = time.perf_counter() - t
            base = open_retriever(s, embedder)
            variants = [("dense", base, "dense"), ("lexical", base, "lexical")]
            for method in args.fusion:
                for w in args.weights if method == "convex" else [0.0]:
                    r = dataclasses.replace(base, fusion=method, weight=w)
                    label = f"hybrid-{method}" + (f"-{w:g}" if method == "convex" else "")
                    variants.append((label, r, "hybrid"))
            for label, r, mode in variants:
                res = run_retrieval(r, pairs, modes=[mode], progress=False)[mode]
                h = res.hits
                print(
                    f"{size:>5} {label:<16} {h[1]:6.3f} {h[3]:6.3f} {h[5]:6.3f} {h[10]:6.3f} {res.mrr:6.3f} "
                    f"{res.p50_ms:6.1f} {res.p95_ms:6.1f}",
                    flush=True,
                )
                out["runs"].append(
                    {
                        "chunk_tokens": size,
                        "chunks": rep.chunks,
                        "build_s": round(build_s, 1),
                        "variant": label,
                        **res.to_dict(),
                    }
                )
    lat = seed_latency(settings, embedder, [q["question"] for q in _seed_questions()])
    out["seed_latency"] = lat
    print(
        f"seed corpus, hybrid search incl. query embedding: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms "
        f"({lat['n']} searches)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
