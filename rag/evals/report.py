"""Eval reports: one JSON file (overall and per question) and a Markdown summary, with a comparison
against a previous JSON report so that a pull request shows what got better or worse."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag.errors import InputError

# Metrics where a smaller value is the better one (latency in milliseconds, wrong refusals).
LOWER_IS_BETTER = ("_ms", "false_refusals")
EPS = 1e-9
# Timings on a shared machine wobble by tens of percent from run to run; smaller changes are noise.
LATENCY_TOLERANCE = 0.25


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report written by :func:`write_reports`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not an eval report: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise InputError(f'{path} is not an eval report: no "metrics" object')
    return data


def _better(metric: str, old: float, new: float) -> bool:
    return new < old if metric.endswith(LOWER_IS_BETTER) else new > old


def compare(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Metric deltas and the questions whose outcome changed between two reports."""
    deltas = []
    old_m, new_m = baseline["metrics"], current["metrics"]
    for metric in sorted(set(old_m) & set(new_m)):
        old, new = old_m[metric], new_m[metric]
        if not isinstance(old, (int, float)) or not isinstance(new, (int, float)) or abs(new - old) <= EPS:
            continue
        if metric.endswith("_ms") and abs(new - old) <= LATENCY_TOLERANCE * max(abs(old), EPS):
            continue
        verdict = "better" if _better(metric, old, new) else "worse"
        if metric.endswith("_ms"):
            verdict = "slower" if verdict == "worse" else "faster"
        elif "length_words" in metric:  # neither direction is better in itself
            verdict = "longer" if new > old else "shorter"
        deltas.append({"metric": metric, "old": old, "new": new, "delta": new - old, "verdict": verdict})
    old_q = {q["id"]: q for q in baseline.get("questions", [])}
    changed = []
    for q in current.get("questions", []):
        prev = old_q.get(q["id"])
        if prev is None:
            continue
        before, after = outcome(prev), outcome(q)
        if before != after:
            changed.append({"id": q["id"], "before": before, "after": after})
    return {"baseline": baseline.get("meta", {}), "metrics": deltas, "questions": changed}


def outcome(q: Mapping[str, Any]) -> str:
    """A one-word verdict for a question record: correct, partial, wrong, refused, or unscored."""
    if "refused" not in q:
        return "unscored"
    if not q["answerable"]:
        return "refused" if q["refused"] else "answered-unanswerable"
    if q["refused"]:
        return "refused"
    recall = q.get("fact_recall") or 0.0
    return "correct" if recall >= 1.0 else "partial" if recall > 0 else "wrong"


def write_reports(report: Mapping[str, Any], out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into ``out_dir``; return both paths."""
    from rag.evals.markdown import render

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(render(report), encoding="utf-8")
    return json_path, md_path
