"""`rag eval`: retrieval and answer metrics on a question set, reports, and the CI gate.

Exit status: 0 when every metric meets its threshold in evals/thresholds.toml, 1 when any does
not (each one is named on stderr), 2 for bad input. A missing XQuAD file is skipped with a message,
except under CI=true, where it is an error: a gate that silently does not run is no gate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import SEARCH_MODES, Settings, replace
from rag.errors import InputError
from rag.evals.corpus import BENCHMARKS, benchmark_files, dataset_path, default_cache_root

# Relative to the working directory: `rag eval` runs from a checkout (make gates), where the
# question sets and thresholds live.
THRESHOLDS = Path("evals/thresholds.toml")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "eval",
        help="measure retrieval and answer quality on a question set (the CI gate)",
        description="Index a dataset's corpus, rank every question's gold passage in each search mode, "
        "answer every question through the real pipeline, score facts, citations and refusals, write "
        "JSON and Markdown reports, and fail when a metric falls below its threshold.",
    )
    p.add_argument(
        "--dataset",
        default="seed",
        help="seed (default); xquad (XQuAD-ru), tydi (TyDi-ru, open half), xquad-en (English corpus and "
        "questions), xquad-en-ru (English questions over the Russian corpus); a SQuAD .json file; a .jsonl "
        "question file",
    )
    p.add_argument(
        "--leave-out",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="SQuAD layouts: leave this share of the paragraphs out of the corpus (a stable rule) and expect "
        "their questions to be refused; the thresholds table is <dataset>-leaveout",
    )
    p.add_argument("--corpus", type=Path, nargs="+", help="files/directories to index for a .jsonl dataset")
    p.add_argument("--generator", help="answer generator (RAG_GENERATOR, default: extractive)")
    p.add_argument("-k", "--top-k", type=int, help="passages given to the generator (default: RAG_TOP_K or 5)")
    p.add_argument("--modes", nargs="+", choices=SEARCH_MODES, default=list(SEARCH_MODES), help="search modes to score")
    p.add_argument("--retrieval-only", action="store_true", help="skip answering (no generator)")
    p.add_argument("--limit", type=int, help="use only the first N questions (a quick look: no gate)")
    p.add_argument("--report", type=Path, metavar="DIR", help="write <dataset>.json and <dataset>.md here")
    p.add_argument("--baseline", type=Path, metavar="PREV.json", help="a previous JSON report to compare with")
    p.add_argument(
        "--thresholds", type=Path, default=THRESHOLDS, help="thresholds file (default: evals/thresholds.toml)"
    )
    p.add_argument("--no-gate", action="store_true", help="report only; never fail on thresholds")
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="where corpus indexes are kept between runs (default: $RAG_EVAL_CACHE, else ~/.cache/rag/eval; "
        "one directory per corpus, embedder and code version)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    # No --index: the dataset's corpus is indexed under --cache, never in the live index.
    p.add_argument("--embedder", help="embedder name (RAG_EMBEDDER, default: e5-small)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from rag import validate
    from rag.answer.generate import generator_name, get_generator
    from rag.embed import get_embedder
    from rag.evals.corpus import corpus_problems, load_dataset, open_corpus
    from rag.evals.gate import check, load_thresholds
    from rag.evals.report import compare, load_report, write_reports
    from rag.evals.run import evaluate
    from rag.evals.summary import print_summary

    settings = replace(settings, generator=generator_name(args.generator, settings))
    top_k = validate.top_k(args.top_k, settings)
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    if not 0.0 <= args.leave_out < 1.0:
        raise InputError("--leave-out must be a fraction in [0, 1)")
    name, path = dataset_path(args.dataset, settings)
    if name in BENCHMARKS:
        for variable, needed in benchmark_files(args.dataset, settings):
            if needed.exists():
                continue
            if os.environ.get("CI", "").lower() == "true":
                raise InputError(f"benchmark {name!r} not found at {needed} and CI=true: set {variable}")
            print(f"rag eval: skipped: benchmark {name!r} not found at {needed} (set {variable})", file=sys.stderr)
            return 0
    if args.leave_out:
        name = f"{name}-leaveout"
    baseline = load_report(args.baseline) if args.baseline else None
    thresholds = [] if args.no_gate or args.limit else load_thresholds(args.thresholds, name)
    if args.limit and not args.no_gate:
        # Thresholds hold for the whole set; a partial run would pass or fail by accident.
        print("rag eval: gate skipped: --limit runs only part of the dataset", file=sys.stderr)
    started = time.perf_counter()
    dataset = load_dataset(args.dataset, settings, args.corpus, args.leave_out)
    questions = dataset.questions[: args.limit] if args.limit else dataset.questions
    progress = not args.no_progress
    embedder = get_embedder(settings.embedder)
    retriever = open_corpus(dataset, settings, embedder, args.cache or default_cache_root(), progress)
    for problem in corpus_problems(dataset, retriever):
        print(f"rag eval: warning: {problem}", file=sys.stderr)
    generator = None if args.retrieval_only else get_generator(settings.generator, settings, embedder=embedder)
    try:
        result = evaluate(retriever, questions, settings, args.modes, generator, top_k, progress)
    finally:
        if generator is not None:
            generator.close()
    failures, missing = check(result.metrics, thresholds)
    report: dict[str, Any] = {
        "meta": {
            "dataset": name,
            "path": str(path),
            "questions": len(questions),
            "chunks": len(retriever.reader),
            "embedder": embedder.name,
            "generator": None if generator is None else generator.name,
            "top_k": top_k,
            "search_mode": settings.search_mode,
            "modes": list(args.modes),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.perf_counter() - started, 1),
        },
        "metrics": result.metrics,
        "breakdown": result.breakdown,
        "gate": {
            "file": str(args.thresholds),
            "failures": failures,
            "missing": missing,
            "thresholds": {
                t.metric: {"min": t.min, "max": t.max, "measured": t.measured, "value": result.metrics.get(t.metric)}
                for t in thresholds
            },
        },
        "questions": result.questions,
    }
    if baseline is not None:
        report["comparison"] = compare(report, baseline)
    if args.report:
        for written in write_reports(report, args.report, name):
            print(f"wrote {written}", file=sys.stderr)
    print_summary(report)
    for line in failures:
        print(f"rag eval: gate failed: {line}", file=sys.stderr)
    return 1 if failures else 0
