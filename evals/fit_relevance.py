"""Fit the relevance model (refusal and sentence choice) on benchmark questions, and measure it.

    python evals/fit_relevance.py --fit xquad --measure tydi xquad-en xquad-en-ru seed

For every dataset named, each corpus is indexed in full (the `rag eval` cache) and once per fold
with a third of its paragraphs left out (the stable SHA-1 rule of ``rag eval --leave-out``,
applied to three folds so that every question is asked once without its paragraph). Every
question is then answered up to the relevance step the way the service does it (hybrid search,
top 5, the context packed for the prompt), and each sentence of the context becomes one row of
signals (``rag.answer.signals``):

- asked over the full corpus, the sentences of the gold paragraph holding a gold answer are
  positives, all others negatives;
- asked with its paragraph left out, every sentence is a negative: the hard cases, where the
  retriever still finds something.

A logistic regression is fitted on the rows of the ``--fit`` datasets. The operating point is the
threshold on the best sentence's log-odds that maximizes (share of answerable questions answered)
+ (share of left-out questions refused) over the fitted questions; the intercept is shifted so the
threshold is 0. The model is written to ``rag/answer/models/<embedder>.json`` with what it was fitted
on; the report gives, for fitted and for unseen datasets, the false refusals, the refusals of
left-out questions and how often the top sentence holds the answer.

The seed set has its own unanswerable questions, so it is measured as it is (no folds).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.prompt import pack_passages  # noqa: E402
from rag.answer.relevance import RelevanceModel, _slug, sentence_rows  # noqa: E402
from rag.answer.signals import FEATURES  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.embed import get_embedder  # noqa: E402
from rag.evals.corpus import (  # noqa: E402
    Dataset,
    code_fingerprint,
    default_cache_root,
    doc_position,
    hash_sources,
    load_dataset,
    open_corpus,
)
from rag.evals.dataset import EvalQuestion  # noqa: E402
from rag.evals.normalize import facts_found  # noqa: E402
from rag.search.retrieve import Retriever  # noqa: E402

FOLDS = 3
CACHE = default_cache_root()
ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "rag" / "answer" / "models"


@dataclass
class Rows:
    """Signal rows with labels, grouped by (question, condition)."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)
    answerable: list[bool] = field(default_factory=list)  # per group

    def add(self, x: np.ndarray, y: np.ndarray, answerable: bool) -> None:
        self.x.append(x)
        self.y.append(y)
        self.answerable.append(answerable)


def _rows(retriever: Retriever, q: EvalQuestion, question_answerable: bool, settings, top_k: int) -> tuple:
    passages = retriever.search(q.question, top_k, mode=settings.search_mode)
    context = pack_passages(passages, settings.context_tokens)
    sentences, x = sentence_rows(q.question, context, retriever.embedder, retriever.lexical)
    if not question_answerable:
        return x, np.zeros(len(sentences))
    y = np.array(
        [
            float(
                (context[s.passage].chunk.doc_id == q.doc_id if q.doc_id else True)
                and all(facts_found(q.facts, s.text))
            )
            for s in sentences
        ]
    )
    return x, y


def collect(name: str, settings, embedder, top_k: int, progress: bool) -> Rows:
    """Rows for one dataset: full corpus, then each fold left out (seed: as it is)."""
    rows = Rows()
    full = load_dataset(name, settings)
    retriever = open_corpus(full, settings, embedder, CACHE, progress)
    for q in tqdm(full.questions, desc=f"{name} full", disable=not progress, leave=False):
        x, y = _rows(retriever, q, q.answerable, settings, top_k)
        rows.add(x, y, q.answerable)
    if not full.documents:
        return rows
    for fold in range(FOLDS):
        ds = _fold(full, fold)
        retriever = open_corpus(ds, settings, embedder, CACHE, progress)
        kept = {d.doc_id for d in ds.documents}
        for q in tqdm(full.questions, desc=f"{name} fold {fold}", disable=not progress, leave=False):
            if q.doc_id and q.doc_id not in kept:
                x, y = _rows(retriever, q, False, settings, top_k)
                rows.add(x, y, False)
    return rows


def cached_rows(name: str, settings, embedder, top_k: int, progress: bool) -> Rows:
    """``collect``'s rows, kept in build/fit-rows (refits read them back) under a key of what makes
    them: the signals' names, the code that builds the indexes, and the search and answer code."""
    import hashlib
    import pickle

    code = hashlib.sha1()
    hash_sources(code, ("search", "answer"))
    what = (name, FEATURES, top_k, embedder.name, code_fingerprint(), code.hexdigest())
    key = hashlib.sha1(repr(what).encode()).hexdigest()[:12]
    path = Path("build/fit-rows") / f"{name}-{key}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    rows = collect(name, settings, embedder, top_k, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(rows))
    return rows


def _fold(full: Dataset, fold: int) -> Dataset:
    """The corpus without fold ``fold`` (fold 0 is `rag eval --leave-out 0.333`)."""
    return full.part(lambda doc_id: int(doc_position(doc_id) * FOLDS) != fold, f"fold{fold}of{FOLDS}")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularized logistic regression by Newton's method (x standardized; intercept unpenalized)."""
    n, d = x.shape
    xa = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(xa @ w, -30, 30)))
        grad = xa.T @ (p - y) + reg * w
        hess = (xa * (p * (1 - p))[:, None]).T @ xa + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def best_logits(model: RelevanceModel, rows: Rows) -> np.ndarray:
    return np.array([model.logits(x).max() if len(x) else -np.inf for x in rows.x])


def measure(model: RelevanceModel, rows: Rows, threshold: float = 0.0) -> dict[str, float]:
    """False refusals, refusals of unanswerable questions, top sentence holding the answer."""
    best = best_logits(model, rows)
    ans = np.array(rows.answerable)
    refused = best < threshold
    top_ok = [
        float(y[int(np.argmax(model.logits(x)))] > 0)
        for x, y, a in zip(rows.x, rows.y, rows.answerable, strict=True)
        if a and len(x)
    ]
    return {
        "answerable": int(ans.sum()),
        "unanswerable": int((~ans).sum()),
        "false_refusals": float(refused[ans].mean()) if ans.any() else float("nan"),
        "refusals_of_unanswerable": float(refused[~ans].mean()) if (~ans).any() else float("nan"),
        "top_sentence_holds_answer": float(np.mean(top_ok)) if top_ok else float("nan"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", nargs="+", default=["xquad"], help="datasets the model is fitted on")
    ap.add_argument("--measure", nargs="*", default=["tydi", "xquad-en", "xquad-en-ru", "seed"])
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, help="model file (default: rag/answer/models/<embedder>.json)")
    ap.add_argument("--dry-run", action="store_true", help="report only; write no model file")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    settings = load_settings()
    embedder = get_embedder(settings.embedder)
    progress = not args.no_progress
    data = {name: cached_rows(name, settings, embedder, args.top_k, progress) for name in [*args.fit, *args.measure]}
    x = np.vstack([r for name in args.fit for r in data[name].x if len(r)])
    y = np.concatenate([r for name in args.fit for r in data[name].y if len(r)])
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    coef, intercept = fit_logistic((x - mean) / scale, y, args.l2)
    model = RelevanceModel("fit", mean, scale, coef, intercept)
    fitted = Rows()
    for name in args.fit:
        for xi, yi, a in zip(data[name].x, data[name].y, data[name].answerable, strict=True):
            fitted.add(xi, yi, a)
    best = best_logits(model, fitted)
    ans = np.array(fitted.answerable)
    candidates = np.unique(best[np.isfinite(best)])
    score = [((best[ans] >= t).mean() + (best[~ans] < t).mean(), -abs(t)) for t in candidates]
    threshold = float(candidates[int(max(range(len(score)), key=score.__getitem__))])
    model = RelevanceModel("fit", mean, scale, coef, intercept - threshold)
    report = {name: measure(model, data[name]) for name in data}
    print(f"fitted on {', '.join(args.fit)} ({len(y)} sentences, {int(y.sum())} positive); threshold {threshold:.3f}")
    print("weights (standardized):", ", ".join(f"{f} {c:+.2f}" for f, c in zip(FEATURES, coef, strict=True)))
    for name, row in report.items():
        role = "fitted" if name in args.fit else "unseen"
        print(
            f"{name:12s} {role:7s} "
            + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items())
        )
    if not args.dry_run:
        out = args.out or MODELS / f"{_slug(embedder.name)}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = model.to_dict() | {
            "embedder": embedder.name,
            "fitted_on": args.fit,
            "top_k": args.top_k,
            "l2": args.l2,
            "date": datetime.date.today().isoformat(),
            "report": report,
        }
        out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
