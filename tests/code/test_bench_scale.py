"""The scale benchmark's --merge: earlier cells are kept with the run they came from, and the
report names them; another corpus is never merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scale import earlier_cells
from bench.scale_report import _earlier


def _results(commit: str, cells: list[dict[str, object]], vectors: str = "clustered") -> dict[str, object]:
    env = {"date": "2026-11-26 08:38 UTC", "commit": commit}
    return {"config": {"vectors": vectors, "seed": 0}, "environment": env, "cells": cells}


def test_earlier_cells_carry_their_run_and_another_corpus_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scale.json"
    assert earlier_cells(path, "clustered", 0) == {}
    old = {"config": "faiss/hnsw", "size": 100_000, "status": "ok"}
    moved = {"config": "faiss/flat", "size": 10_000, "status": "ok", "run": {"date": "d", "commit": "abc"}}
    path.write_text(json.dumps(_results("9d9188a", [old, moved])), encoding="utf-8")
    kept = earlier_cells(path, "clustered", 0)
    assert kept["faiss/hnsw", 100_000]["run"] == {"date": "2026-11-26 08:38 UTC", "commit": "9d9188a"}
    assert kept["faiss/flat", 10_000]["run"]["commit"] == "abc"  # merged before: keeps its own run
    with pytest.raises(SystemExit, match="another corpus"):
        earlier_cells(path, "uniform", 0)
    with pytest.raises(SystemExit, match="another corpus"):
        earlier_cells(path, "clustered", 1)


def test_the_report_names_cells_from_earlier_runs() -> None:
    cells = [
        {"config": "faiss/hnsw", "size": 1_000_000, "run": {"date": "2026-11-26 08:38 UTC", "commit": "9d9188a"}},
        {"config": "faiss/hnsw", "size": 100_000, "run": {"date": "2026-11-26 08:38 UTC", "commit": "9d9188a"}},
        {"config": "milvus/flat", "size": 10_000, "run": {"date": "2026-11-26 11:00 UTC", "commit": "new"}},
        {"config": "faiss/flat", "size": 10_000, "run": {"date": "2026-11-26 10:38 UTC", "commit": "e6ef90c"}},
        {"config": "faiss/flat", "size": 100_000, "run": {"date": "2026-11-26 10:37 UTC", "commit": "e6ef90c"}},
    ]
    lines = _earlier(_results("new", cells))  # type: ignore[arg-type]
    assert lines == [  # one line per earlier commit, oldest first, dated by its first cell
        "Cells kept from an earlier run: faiss/hnsw at 1,000,000, faiss/hnsw at 100,000 "
        "(commit `9d9188a`, 2026-11-26 08:38 UTC).",
        "Cells kept from an earlier run: faiss/flat at 10,000, faiss/flat at 100,000 "
        "(commit `e6ef90c`, 2026-11-26 10:37 UTC).",
    ]
    assert _earlier(_results("new", cells[2:3])) == []  # type: ignore[arg-type]
