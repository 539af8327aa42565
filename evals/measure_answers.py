"""Measure the answer pipeline on the seed question set, and sweep the refusal threshold.

    .venv/bin/python evals/measure_answers.py [--index DIR] [--generator extractive] [--sweep]

For each question: retrieve, refuse or answer, then check the known facts (rag.evals.normalize).
Prints fact recall (answerable questions whose answer holds every fact), citation precision
(answers whose cited passages hold the facts), refusal precision/recall, and with --sweep the same
numbers for thresholds 0.5-1.5 in steps of 0.05, which is how ``refusal_threshold`` was set (the
best mean of fact recall and refusal recall). An index built from seeds/ with the default embedder
is needed: `rag ingest`, or `--index build/eval-cache/seed-e5-small-flat` after `rag eval`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path

from rag.answer.generate import get_generator
from rag.answer.pipeline import answer_question
from rag.config import PROJECT_ROOT, load_settings
from rag.evals.normalize import facts_found
from rag.search.retrieve import open_retriever


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--index", type=Path)
    ap.add_argument("--dataset", type=Path, default=PROJECT_ROOT / "evals" / "seed_questions.jsonl")
    ap.add_argument("--generator", default="extractive")
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    settings = load_settings(index_dir=args.index)
    retriever = open_retriever(settings)
    rows = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    thresholds = [settings.refusal_threshold]
    if args.sweep:
        thresholds = sorted({round(0.5 + 0.05 * i, 2) for i in range(21)} | {settings.refusal_threshold})
    for threshold in thresholds:
        s = dataclasses.replace(settings, refusal_threshold=threshold)
        options = {"embedder": retriever.embedder} if args.generator == "extractive" else {}
        with get_generator(args.generator, s, **options) as gen:
            report(rows, [answer_question(r["question"], retriever, gen, s) for r in rows], threshold)
    return 0


def report(rows: list[dict], answers: list, threshold: float) -> None:  # type: ignore[type-arg]
    answerable = [(r, a) for r, a in zip(rows, answers, strict=True) if r["answerable"]]
    unanswerable = [(r, a) for r, a in zip(rows, answers, strict=True) if not r["answerable"]]
    fact_ok = [all(facts_found(r["facts"], a.answer)) for r, a in answerable]
    answered = [(r, a) for r, a in answerable if not a.refused]
    cite_ok = [all(facts_found(r["facts"], " ".join(c.text for c in a.citations))) for r, a in answered]
    refused = [a.refused for _, a in unanswerable]
    n_refusals = sum(a.refused for a in answers)
    by_lang = {}
    for lang in ("ru", "en"):
        sub = [ok for (r, _), ok in zip(answerable, fact_ok, strict=True) if r["lang"] == lang]
        by_lang[lang] = f"{sum(sub)}/{len(sub)}"
    words = [len(a.answer.split()) for _, a in answered]
    print(
        json.dumps(
            {
                "threshold": threshold,
                "fact_recall": round(sum(fact_ok) / len(fact_ok), 3),
                "fact_recall_by_lang": by_lang,
                "citation_precision": round(sum(cite_ok) / max(1, len(cite_ok)), 3),
                "false_refusals": f"{len(answerable) - len(answered)}/{len(answerable)}",
                "refusal_recall": round(sum(refused) / max(1, len(refused)), 3),
                "refusal_precision": round(sum(refused) / max(1, n_refusals), 3),
                "answer_words_median": statistics.median(words) if words else 0,
                "p50_total_ms": round(statistics.median(a.timings["total"] for a in answers), 1),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
