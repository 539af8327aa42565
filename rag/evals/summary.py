"""The short text summary `rag eval` prints to stdout (the full detail is in the report files)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rag.config import SEARCH_MODES
from rag.evals.markdown import ANSWER_ROWS, RETRIEVAL_COLS, _fmt


def print_summary(report: Mapping[str, Any]) -> None:
    """Retrieval per mode, answer metrics, latency, gate verdict and changes against the baseline."""
    meta, m = report["meta"], report["metrics"]
    print(
        f"{meta['dataset']}: {meta['questions']} questions, {meta['chunks']} chunks, embedder {meta['embedder']}, "
        f"generator {meta['generator'] or '(retrieval only)'}, {meta['seconds']} s"
    )
    modes = [mode for mode in SEARCH_MODES if f"retrieval.{mode}.mrr" in m]
    if m.get("latency.embed.p50_ms") is not None:
        print(
            f"query embedding p50 {_fmt(m.get('latency.embed.p50_ms'))} / p95 {_fmt(m.get('latency.embed.p95_ms'))} ms"
            " (once per question; the latencies below exclude it)"
        )
    if modes:
        print(f"{'mode':<8}" + "".join(f"{c:>8}" for c in RETRIEVAL_COLS))
        for mode in modes:
            print(f"{mode:<8}" + "".join(f"{_fmt(m.get(f'retrieval.{mode}.{c}')):>8}" for c in RETRIEVAL_COLS))
    if "answer.fact_recall" in m:
        print("answers: " + ", ".join(f"{row} {_fmt(m.get(f'answer.{row}'))}" for row in ANSWER_ROWS))
        lat = [
            f"{stage} p50 {_fmt(m.get(f'latency.{stage}.p50_ms'))} / p95 {_fmt(m.get(f'latency.{stage}.p95_ms'))} ms"
            for stage in ("retrieval", "generation")
        ]
        print("latency: " + ", ".join(lat))
    cmp = report.get("comparison")
    if cmp:
        for d in cmp["metrics"]:
            print(f"vs baseline: {d['metric']} {_fmt(d['old'])} -> {_fmt(d['new'])} ({d['verdict']})")
        for q in cmp["questions"]:
            print(f"vs baseline: {q['id']} {q['before']} -> {q['after']}")
    gate = report["gate"]
    if gate["thresholds"]:
        verdict = "FAILED" if gate["failures"] else "passed"
        print(
            f"gate {verdict}: {len(gate['thresholds']) - len(gate['missing'])} thresholds checked, "
            f"{len(gate['failures'])} failed"
            + (f", not measured: {', '.join(gate['missing'])}" if gate["missing"] else "")
        )
