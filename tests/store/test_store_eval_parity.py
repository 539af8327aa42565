"""Retrieval quality does not depend on the store: `rag eval` on the seed set gives the same hit@k
with RAG_STORE=milvus as with the default FAISS store (hashing embedder here, to stay fast; the
XQuAD-ru numbers with e5 are in docs/store.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag.cli import main
from tests.store.conftest import release_lite_under


def _eval(store: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_STORE", store)
    args = ["eval", "--dataset", "seed", "--embedder", "hashing", "--retrieval-only", "--no-gate", "--no-progress"]
    assert main([*args, "--cache", str(tmp / "cache"), "--report", str(tmp / store)]) == 0
    report = json.loads((tmp / store / "seed.json").read_text(encoding="utf-8"))
    assert report["meta"]["chunks"] > 40  # one passage per paragraph of the seed article
    return {k: v for k, v in report["metrics"].items() if k.startswith("retrieval.") and "_ms" not in k}


def test_milvus_and_faiss_score_alike_on_the_seed_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    faiss = _eval("faiss", tmp_path, monkeypatch)
    try:
        milvus = _eval("milvus", tmp_path, monkeypatch)
    finally:
        release_lite_under(tmp_path)
    assert set(faiss) == set(milvus) and any("hit@1" in k for k in faiss)
    for key, value in faiss.items():
        assert milvus[key] == pytest.approx(value, abs=0.005), key
