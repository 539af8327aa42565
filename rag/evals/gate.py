"""The CI gate: thresholds per dataset and metric, read from a TOML file, checked against a run.

``evals/thresholds.toml`` has one table per dataset; each key is a metric name and each value an
inline table ``{min = ..., measured = ...}`` (or ``max`` for metrics where lower is better).
``measured`` records the value the threshold was derived from; thresholds sit slightly below it
and are never lowered to let a regression through.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True)
class Threshold:
    """Bounds for one metric on one dataset."""

    metric: str
    min: float | None = None
    max: float | None = None
    measured: float | None = None


def load_thresholds(path: Path, dataset: str) -> list[Threshold]:
    """The thresholds for ``dataset`` (empty when the file has no table for it)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read thresholds file {path}: {exc}") from None
    table = data.get(dataset, {})
    out = []
    for metric, spec in table.items():
        if not isinstance(spec, dict) or not ({"min", "max"} & spec.keys()):
            raise ConfigError(f"{path}: [{dataset}] {metric} needs an inline table with min or max")
        out.append(Threshold(metric, spec.get("min"), spec.get("max"), spec.get("measured")))
    return out


def check(metrics: Mapping[str, float | None], thresholds: list[Threshold]) -> tuple[list[str], list[str]]:
    """Failures (one line per metric outside its bounds) and metrics that were not measured."""
    failures: list[str] = []
    missing: list[str] = []
    for t in thresholds:
        value = metrics.get(t.metric)
        if value is None:
            missing.append(t.metric)
            continue
        if t.min is not None and value < t.min:
            failures.append(f"{t.metric} = {value:.4g} is below its threshold {t.min:g}")
        if t.max is not None and value > t.max:
            failures.append(f"{t.metric} = {value:.4g} is above its threshold {t.max:g}")
    return failures, missing
