"""Sweep the refusal threshold on a question set: the answer metrics of `rag eval` at each value.

    .venv/bin/python evals/measure_answers.py [--index DIR] [--dataset FILE] [--generator NAME] [--sweep]

Runs the same answer pass and the same metrics as `rag eval` (rag.evals.run, rag.evals.metrics)
over an existing index, once per threshold: with --sweep for 0.5-1.5 in steps of 0.05, which is
how ``refusal_threshold`` was set (the best mean of fact recall and refusal recall). An index built
from seeds/ with the default embedder is needed: `rag ingest`, or
`--index` the `seed-e5-small-flat-*` directory `rag eval` keeps under ~/.cache/rag/eval.
Prints one JSON line per threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from rag.answer.generate import get_generator
from rag.config import load_settings
from rag.evals.dataset import load_questions
from rag.evals.run import evaluate
from rag.search.retrieve import open_retriever


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path)
    ap.add_argument("--dataset", type=Path, default=Path("evals/seed_questions.jsonl"))
    ap.add_argument("--generator", default="extractive")
    ap.add_argument("--sweep", action="store_true")
    args = ap.parse_args()
    settings = load_settings(index_dir=args.index)
    retriever = open_retriever(settings)
    questions = load_questions(args.dataset)
    thresholds = [settings.refusal_threshold]
    if args.sweep:
        thresholds = sorted({round(0.5 + 0.05 * i, 2) for i in range(21)} | {settings.refusal_threshold})
    for threshold in thresholds:
        s = dataclasses.replace(settings, refusal_threshold=threshold)
        with get_generator(args.generator, s, embedder=retriever.embedder) as generator:
            run = evaluate(retriever, questions, s, modes=(), generator=generator, top_k=s.top_k, progress=False)
        metrics = {k.removeprefix("answer."): v for k, v in run.metrics.items() if k.startswith("answer.")}
        print(json.dumps({"threshold": threshold, **metrics}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
