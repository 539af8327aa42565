"""The approximate-index sweeps (`python -m bench.ivf_sweep`, `python -m bench.hnsw_sweep`) run end to
end on a small corpus and print one well-formed row per setting, recall rising with search depth."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bench import hnsw_sweep, ivf_sweep


def _rows(out: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if re.match(r"\| [\d,]", line)]


def test_ivf_sweep_reports_recall_and_latency_per_share(capsys: pytest.CaptureFixture[str]) -> None:
    assert ivf_sweep.main(["--size", "3000", "--share", "0.0625", "1", "--queries", "30"]) == 0
    rows = _rows(capsys.readouterr().out)
    lists = ivf_sweep.ivf_lists(3000)
    assert [r[2] for r in rows] == ["0.0625", "1"] and [r[3] for r in rows] == [str(lists // 16), str(lists)]
    recall = [float(r[4]) for r in rows]
    assert all(0 <= x <= 1 for x in recall) and recall[1] >= 0.95 and recall[1] >= recall[0]
    assert all(float(r[5]) > 0 for r in rows)


def test_hnsw_sweep_reports_recall_and_latency_per_depth(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--size", "3000", "--m", "16", "--ef-construction", "40", "--ef-search", "16", "256", "--queries", "30"]
    assert hnsw_sweep.main(args) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert "full level-0 lists, inserted shuffled" in out and "level-0 lists hold a median 32 of 32 links" in out
    assert [r[2] for r in rows] == ["16", "256"]
    recall = [float(r[3]) for r in rows]
    assert all(0 <= x <= 1 for x in recall) and recall[1] >= recall[0]
    assert hnsw_sweep.main([*args[:-2], "--queries", "5", "--pruned-level0", "--document-order"]) == 0
    assert "pruned level-0 lists, in corpus order" in capsys.readouterr().out


def test_hnsw_sweep_searches_an_index_already_built(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import faiss

    from bench import synthetic

    index = faiss.IndexHNSWFlat(hnsw_sweep.DIM, 16, faiss.METRIC_INNER_PRODUCT)
    index.add(np.concatenate(list(synthetic._vector_blocks(2000, hnsw_sweep.DIM, 0))))
    faiss.write_index(index, str(tmp_path / "vectors.faiss"))
    args = ["--size", "2000", "--index", str(tmp_path / "vectors.faiss"), "--ef-search", "8", "512", "--queries", "20"]
    assert hnsw_sweep.main(args) == 0
    rows = _rows(capsys.readouterr().out)
    assert [r[0] for r in rows] == ["8", "512"] and float(rows[1][1]) >= 0.95
    with pytest.raises(SystemExit):  # another corpus's index
        hnsw_sweep.main([*args[:1], "3000", *args[2:]])
    assert "is not an HNSW index of 3,000 vectors" in capsys.readouterr().err


def test_real_vector_check_says_what_to_run_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import real_vectors

    monkeypatch.setattr(real_vectors, "default_cache_root", lambda: tmp_path)
    assert real_vectors.main([]) == 2
    assert "make gates" in capsys.readouterr().err
