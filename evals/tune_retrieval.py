"""Retrieval experiments: chunking x fusion over every benchmark at once (vectors cached by text).

    python evals/tune_retrieval.py --sentences --chunkers cl200 e5p512

Chunkers: ``clN`` packs sentences into N cl100k tokens (the old default was cl200); ``e5pN`` is the
product's chunker, passages following paragraphs up to N e5 tokens (the measured runs also tried
packing short paragraphs together up to 160 or 480 tokens, which the chunker no longer offers). A hit is a passage of
the gold paragraph that holds the answer, as in `rag eval`. Prints hit@1/hit@5 per fusion and set;
docs/retrieval.md has the table these runs produced.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.embed import get_embedder  # noqa: E402
from rag.evals.normalize import normalize  # noqa: E402
from rag.evals.squad import load_squad  # noqa: E402
from rag.ingest.chunk import chunk_document  # noqa: E402
from rag.ingest.load import load_path  # noqa: E402
from rag.search import fuse  # noqa: E402
from rag.store.lexical import LexicalIndex  # noqa: E402
from rag.text.terms import tokenize  # noqa: E402
from rag.types import Chunk, Document  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
CACHE = Path("build/tune-cache")


@functools.lru_cache(maxsize=100_000)
def _norm(text: str) -> str:
    return normalize(text)


@dataclass
class Q:
    qid: str
    text: str
    hit: Callable[[Chunk], bool]


def squad_set(path: Path, questions_from: Path | None = None) -> tuple[list[Document], list[Q]]:
    docs, qs = load_squad(path)
    if questions_from is not None:  # cross-lingual: questions of another file, gold of this one
        gold = {q.qid: q for q in qs}
        _, other = load_squad(questions_from)
        qs2 = [(o.question, gold[o.qid]) for o in other if o.qid in gold]
    else:
        qs2 = [(q.question, q) for q in qs]
    out = []
    for text, g in qs2:
        answers = [normalize(a) for a in g.answers]

        def hit(c: Chunk, g=g, answers=answers) -> bool:
            return c.doc_id == g.doc_id and any(a in _norm(c.text) for a in answers)

        out.append(Q(g.qid, text, hit))
    return docs, out


def seed_set() -> tuple[list[Document], list[Q]]:
    from rag.evals.dataset import load_questions
    from rag.evals.metrics import supports

    docs = [load_path(p) for p in sorted(Path("seeds").iterdir())]
    out = []
    for q in load_questions(Path("evals/seed_questions.jsonl")):
        if not q.answerable:
            continue
        quote = normalize(q.source_quote)

        def hit(c: Chunk, q=q, quote=quote) -> bool:
            return quote in _norm(c.text) or supports(c.text, q.facts)

        out.append(Q(q.id, q.question, hit))
    return docs, out


class VecCache:
    def __init__(self, embedder) -> None:
        self.e = embedder
        self.path = CACHE / f"{embedder.name}.pkl"
        self.data: dict[str, np.ndarray] = pickle.loads(self.path.read_bytes()) if self.path.exists() else {}
        self.dirty = False

    def get(self, texts: Sequence[str], query: bool) -> np.ndarray:
        keys = [hashlib.sha1((b"q" if query else b"p") + t.encode()).hexdigest() for t in texts]
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in self.data]
        if missing:
            uniq = dict(missing)
            fn = self.e.embed_queries if query else self.e.embed_passages
            vecs = fn(list(uniq.values()))
            for k, v in zip(uniq, vecs, strict=True):
                self.data[k] = v
            self.dirty = True
        return np.stack([self.data[k] for k in keys])

    def save(self) -> None:
        if self.dirty:
            CACHE.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(pickle.dumps(self.data))


minmax, zs = fuse._minmax, fuse._z  # the same scalings the product uses


def fusions(
    d: np.ndarray, lex: np.ndarray, cov: float, smax: np.ndarray | None = None, depth: int = 50
) -> dict[str, np.ndarray]:
    """Every fusion variant's scores over all chunks (higher is better)."""
    n = len(d)
    dk = np.argsort(-d)[:depth]
    lk = np.argsort(-lex)[:depth]
    lk = lk[lex[lk] > 0]
    cand = np.unique(np.concatenate([dk, lk]))
    out = {"dense": d.copy(), "lexical": lex.copy()}

    def put(name: str, s: np.ndarray) -> None:
        full = np.full(n, -1e9)
        full[cand] = s
        out[name] = full

    dc = np.maximum(d[cand], d[dk].min())
    lc = lex[cand]
    lm = minmax(lc) if lc.max() > 0 else np.zeros_like(lc)
    for w in (0.5, 0.7, 0.8):
        put(f"convex{w}", w * minmax(dc) + (1 - w) * lm)
    # rrf
    dr = {int(r): i for i, r in enumerate(dk)}
    lr = {int(r): i for i, r in enumerate(lk)}
    put("rrf", np.array([1 / (61 + dr.get(int(r), 10**6)) + 1 / (61 + lr.get(int(r), 10**6)) for r in cand]))
    # z-score fusion over the candidate pool
    put("z", zs(dc) + (zs(lc) if lc.max() > 0 else 0))

    # decisiveness: weight each ranker by the gap of its top score over its candidates' mean, in sd
    def dec(x: np.ndarray, k: int = 10) -> float:
        top = np.sort(x)[::-1][:k]
        sd = float(x.std())
        return 0.0 if sd < 1e-9 else float((top[0] - x.mean()) / sd)

    gd, gl = dec(dc), (dec(lc) if lc.max() > 0 else 0.0)
    w = gd / (gd + gl) if gd + gl > 0 else 1.0
    put("decisive", w * minmax(dc) + (1 - w) * lm)
    put("decisive-z", gd * zs(dc) + gl * (zs(lc) if lc.max() > 0 else 0))
    for base in (0.5, 0.4):
        wl = base * cov
        put(f"cov{base}", (1 - wl) * minmax(dc) + wl * lm)
    put("cov-z", zs(dc) + cov * (zs(lc) if lc.max() > 0 else 0))
    if smax is not None:
        out["smax"] = smax.copy()
        out["dense+smax"] = d + smax
        sc = smax[cand]
        put("cov-z+s", zs(dc) + zs(sc) + cov * (zs(lc) if lc.max() > 0 else 0))
        put("cov-z+s/2", 0.5 * (zs(dc) + zs(sc)) + cov * (zs(lc) if lc.max() > 0 else 0))
        m = 0.5 * (dc + sc)
        put("cov0.5+s", (1 - 0.5 * cov) * minmax(m) + 0.5 * cov * lm)
        put("cov0.4+s", (1 - 0.4 * cov) * minmax(m) + 0.4 * cov * lm)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunkers", nargs="+", default=["cl200"])
    ap.add_argument("--sets", nargs="+", default=["xquad", "tydi", "en", "en-ru", "seed"])
    ap.add_argument("--sentences", action="store_true")
    args = ap.parse_args()
    emb = get_embedder("e5-small")
    vc = VecCache(emb)
    sets = {
        "xquad": lambda: squad_set(SHARED / "xquad-ru/xquad.ru.json"),
        "tydi": lambda: squad_set(SHARED / "tydi-ru/tydi-ru.open.json"),
        "en": lambda: squad_set(SHARED / "xquad-en/xquad.en.open.json"),
        "en-ru": lambda: squad_set(SHARED / "xquad-ru/xquad.ru.json", SHARED / "xquad-en/xquad.en.open.json"),
        "seed": seed_set,
    }
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for cname in args.chunkers:
        chunker = make_chunker(cname, emb)
        for sname in args.sets:
            docs, qs = sets[sname]()
            chunks = [c for d in docs for c in chunker(d)]
            cv = vc.get([c.text for c in chunks], False)
            owner, stexts = [], []
            if args.sentences:
                from rag.text.sentences import passage_sentences

                for ci, c in enumerate(chunks):
                    for s, e in passage_sentences(c.text):
                        owner.append(ci)
                        stexts.append(c.text[s:e])
                sv = vc.get(stexts, False)
                owner_a = np.array(owner)
            lexi = LexicalIndex([c.text for c in chunks])
            qv = vc.get([q.text for q in qs], True)
            vc.save()
            hits: dict[str, list[int]] = {}
            t0 = time.time()
            for q, v in zip(qs, qv, strict=True):
                qt = sorted(set(tokenize(q.text)))
                idf = lexi.idf(qt)
                tot = sum(idf.values())
                cov = sum(idf[x] for x in qt if lexi.document_frequency(x) > 0) / tot if tot > 0 else 0.0
                smax = None
                if args.sentences:
                    smax = np.full(len(chunks), -1.0)
                    np.maximum.at(smax, owner_a, sv @ v)
                for name, s in fusions(cv @ v, lexi.scores(q.text), cov, smax).items():
                    order = np.argsort(-s, kind="stable")[:10]
                    r = next((i + 1 for i, j in enumerate(order) if q.hit(chunks[j])), 0)
                    hits.setdefault(name, []).append(r)
            for name, rs in hits.items():
                r = np.array(rs)
                h1, h5 = float(((r > 0) & (r <= 1)).mean()), float(((r > 0) & (r <= 5)).mean())
                results.setdefault(f"{cname}/{name}", {})[sname] = (h1, h5)
            print(
                f"{cname} {sname}: {len(chunks)} chunks, scored in {time.time() - t0:.0f}s", file=sys.stderr, flush=True
            )
            for name in hits:
                h1, h5 = results[f"{cname}/{name}"][sname]
                print(f"  {cname}/{name} {sname} {h1:.3f}/{h5:.3f}", file=sys.stderr, flush=True)
    names = args.sets
    print("config".ljust(28) + "".join(s.rjust(14) for s in names))
    for cfg, row in results.items():
        print(cfg.ljust(28) + "".join(f"{row[s][0]:.3f}/{row[s][1]:.3f}".rjust(14) for s in names))
    Path("build").mkdir(exist_ok=True)
    Path("build/tune.json").write_text(json.dumps(results, indent=1))


def make_chunker(name: str, emb) -> Callable[[Document], list[Chunk]]:
    if name.startswith("cl"):  # the former sentence packing: one paragraph-less window run
        n = int(name[2:])
        return lambda d: chunk_document(d, n, 1, min_tokens=0)
    if name.startswith("e5p"):
        count = emb.count_tokens
        return lambda d: chunk_document(d, int(name[3:]), 1, count)
    raise SystemExit(f"unknown chunker {name}")


if __name__ == "__main__":
    main()
