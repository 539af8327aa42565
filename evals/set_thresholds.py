"""Write one dataset's table of evals/thresholds.toml from a measured `rag eval` JSON report.

    python evals/set_thresholds.py build/eval/tydi/tydi.json [--slack-questions 2]

Each quality metric gets ``min`` (or ``max`` for false refusals) set that many questions' worth
(of the population it counts: refusal metrics the unanswerable questions) below (above) the
measured value, rounded outward to 3 places, and records the measured value;
latency gets a loose ceiling (5x the measured p95, at least 2 s), since timings on a shared 2-core
machine wobble. The table replaces the dataset's old one; other tables are left as they are.
Never lower a threshold to let a change pass: rerun this after a measured improvement.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

THRESHOLDS = Path("evals/thresholds.toml")
LOWER_IS_BETTER = ("false_refusals",)
SKIP = ("p50_ms", "length_words", "length_words_p50", "questions")


def table(report: dict, slack_questions: float) -> list[str]:
    """The lines of the dataset's table."""
    metrics = report["metrics"]
    rows = report.get("questions", [])
    answerable = max(sum(1 for q in rows if q.get("answerable")), 1)
    unanswerable = max(sum(1 for q in rows if not q.get("answerable")), 1)
    lines = []
    for name, value in metrics.items():
        # Slack in questions of the population the metric counts: one refusal of 16 is 0.0625.
        population = unanswerable if name.startswith("answer.refusal") else answerable
        slack = slack_questions / population
        if value is None or any(name.endswith(s) for s in SKIP):
            continue
        if name.endswith("p95_ms"):
            ceiling = max(2000, math.ceil(value * 5 / 100) * 100)
            lines.append(f'"{name}" = {{ max = {ceiling}, measured = {round(value, 3)} }}')
        elif name.endswith(LOWER_IS_BETTER):
            lines.append(
                f'"{name}" = {{ max = {math.ceil((value + slack) * 1000) / 1000}, measured = {round(value, 3)} }}'
            )
        else:
            floor = max(0.0, math.floor((value - slack) * 1000) / 1000)
            lines.append(f'"{name}" = {{ min = {floor}, measured = {round(value, 3)} }}')
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", type=Path)
    ap.add_argument("--slack-questions", type=float, default=2.0)
    args = ap.parse_args()
    text = THRESHOLDS.read_text(encoding="utf-8")
    for path in args.reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        name = report["meta"]["dataset"]
        body = "\n".join([f"[{name}]", *table(report, args.slack_questions)]) + "\n"
        pattern = re.compile(rf"^\[{re.escape(name)}\]\n(?:(?!\[).*\n?)*", re.M)
        text = pattern.sub(body + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
        print(f"{name}: {len(body.splitlines()) - 1} thresholds")
    THRESHOLDS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
