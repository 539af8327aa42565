"""Render an eval report (the JSON written by ``rag eval``) as Markdown for humans and PR comments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rag.config import SEARCH_MODES
from rag.evals.report import outcome

RETRIEVAL_COLS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr", "p50_ms", "p95_ms")
ANSWER_ROWS = (
    "fact_recall",
    "all_facts",
    "citation_precision",
    "supported_answers",
    "refusal_precision",
    "refusal_recall",
    "false_refusals",
    "gold_cited",
    "length_words",
    "length_words_p50",
)
MAX_LISTED = 25  # questions listed per section, to keep a PR comment readable


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _retrieval(metrics: Mapping[str, Any]) -> list[str]:
    modes = [m for m in SEARCH_MODES if f"retrieval.{m}.mrr" in metrics]
    if not modes:
        return []
    lines = [
        "## Retrieval",
        "",
        "| mode | " + " | ".join(RETRIEVAL_COLS) + " |",
        "|---" * (len(RETRIEVAL_COLS) + 1) + "|",
    ]
    for m in modes:
        lines.append(f"| {m} | " + " | ".join(_fmt(metrics.get(f"retrieval.{m}.{c}")) for c in RETRIEVAL_COLS) + " |")
    return lines + [""]


def _answers(report: Mapping[str, Any]) -> list[str]:
    metrics, kinds = report["metrics"], report.get("breakdown", {})
    if "answer.fact_recall" not in metrics:
        return []
    header = ["metric", "all", *kinds]
    lines = ["## Answers", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in ANSWER_ROWS:
        cells = [_fmt(metrics.get(f"answer.{row}"))] + [_fmt(kinds[k].get(row)) for k in kinds]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lat = [
        f"{stage} p50 {_fmt(metrics.get(f'latency.{stage}.p50_ms'))} ms, p95 "
        f"{_fmt(metrics.get(f'latency.{stage}.p95_ms'))} ms"
        for stage in ("embed", "retrieval", "generation", "total")
    ]
    note = " (query embedding once per question; retrieval and total exclude it)"
    return lines + ["", "Latency per question: " + "; ".join(lat) + note + ".", ""]


def _gate(gate: Mapping[str, Any]) -> list[str]:
    if not gate.get("thresholds"):
        return ["## Gate", "", "No thresholds for this dataset.", ""]
    lines = ["## Gate", "", "| metric | value | threshold | measured when set | status |", "|---|---|---|---|---|"]
    failed = {line.split(" ")[0] for line in gate["failures"]}
    for metric, t in gate["thresholds"].items():
        bound = f"≥ {t['min']}" if t.get("min") is not None else f"≤ {t['max']}"
        status = "not measured" if metric in gate["missing"] else "FAIL" if metric in failed else "ok"
        lines.append(f"| {metric} | {_fmt(t.get('value'))} | {bound} | {_fmt(t.get('measured'))} | {status} |")
    return lines + [""]


def _comparison(cmp: Mapping[str, Any] | None) -> list[str]:
    if not cmp:
        return []
    lines = ["## Compared with the baseline", ""]
    if not cmp["metrics"] and not cmp["questions"]:
        return lines + ["No change.", ""]
    if cmp["metrics"]:
        lines += ["| metric | before | after | change |", "|---|---|---|---|"]
        lines += [
            f"| {d['metric']} | {_fmt(d['old'])} | {_fmt(d['new'])} | {d['delta']:+.3g} ({d['verdict']}) |"
            for d in cmp["metrics"]
        ]
        lines.append("")
    for q in cmp["questions"][:MAX_LISTED]:
        lines.append(f"- `{q['id']}`: {q['before']} → {q['after']}")
    return lines + [""]


def _failures(questions: list[Mapping[str, Any]]) -> list[str]:
    bad = [
        q
        for q in questions
        if outcome(q) in ("wrong", "partial", "refused", "answered-unanswerable")
        and not (outcome(q) == "refused" and not q["answerable"])
    ]
    if not bad:
        return []
    lines = [f"## Questions not fully answered ({len(bad)})", ""]
    for q in bad[:MAX_LISTED]:
        answer = " ".join(str(q.get("answer", "")).split())[:160]
        lines.append(f"- `{q['id']}` ({outcome(q)}): {q['question']} — {answer}")
    return lines + [""]


def render(report: Mapping[str, Any]) -> str:
    """The whole Markdown report."""
    meta = report.get("meta", {})
    head = [f"# Eval: {meta.get('dataset', '?')}", ""]
    head += [f"- {k}: {_fmt(v)}" for k, v in meta.items() if k != "dataset"]
    parts = head + [""] + _gate(report.get("gate", {})) + _comparison(report.get("comparison"))
    parts += _retrieval(report["metrics"]) + _answers(report) + _failures(report.get("questions", []))
    return "\n".join(parts).rstrip() + "\n"
