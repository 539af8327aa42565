"""`rag eval` end to end on a tiny corpus: reports, baseline comparison, and a gate that a broken
retriever makes fail (non-zero exit naming the metric)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

import rag.evals.corpus
from rag.cli import main
from rag.search.retrieve import Retriever
from rag.types import Passage

DOCS = {
    "rivers.txt": "Волга впадает в Каспийское море. Длина Волги составляет 3530 километров.",
    "mountains.txt": "Хан-Тенгри поднимается на 7010 метров. Вершина стоит на границе Казахстана и Кыргызстана.",
    "lakes.txt": "Озеро Балхаш наполовину пресное, наполовину солёное. Его восточная часть солёная.",
    "deserts.txt": "Пустыня Кызылкум лежит между Амударьёй и Сырдарьёй. Летом там жарко.",
}
QUESTIONS = [
    {
        "id": "q1",
        "question": "Куда впадает Волга?",
        "facts": [["Каспийск"]],
        "source_quote": "Волга впадает в Каспийское море",
    },
    {
        "id": "q2",
        "question": "Какова высота Хан-Тенгри в метрах?",
        "facts": [["7010"]],
        "source_quote": "Хан-Тенгри поднимается на 7010 метров",
    },
    {
        "id": "q3",
        "question": "Какая часть озера Балхаш солёная?",
        "facts": [["восточн"]],
        "source_quote": "Его восточная часть солёная",
    },
    {
        "id": "q4",
        "question": "Между какими реками лежит пустыня Кызылкум?",
        "facts": [["Амударь"], ["Сырдарь"]],
        "source_quote": "Пустыня Кызылкум лежит между Амударьёй и Сырдарьёй",
    },
    {
        "id": "q5",
        "question": "Сколько стоит билет на поезд до Балхаша?",
        "facts": [],
        "source_quote": "",
        "answerable": False,
        "kind": "unanswerable",
    },
]


@dataclasses.dataclass(frozen=True)
class ReversedRetriever(Retriever):
    """A deliberately broken retriever: the least relevant chunks first, the best ones last."""

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid") -> list[Passage]:
        ranked = [p.chunk for p in super().search(query, top_k=len(self.chunks), mode=mode)]
        rest = [c for c in self.chunks if c not in ranked]
        order = rest + ranked[::-1]
        return [Passage(c, 0.0, r) for r, c in enumerate(order[:top_k], start=1)]


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    dataset = tmp_path / "tiny.jsonl"
    rows = [{"answerable": True, "kind": "factoid", "lang": "ru", "section": "geo", **q} for q in QUESTIONS]
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(
        '[tiny]\n"retrieval.lexical.hit@1" = { min = 0.9, measured = 1.0 }\n'
        '"retrieval.lexical.mrr" = { min = 0.9, measured = 1.0 }\n',
        encoding="utf-8",
    )
    return {"corpus": corpus, "dataset": dataset, "thresholds": thresholds, "tmp": tmp_path}


def _eval(tiny: dict[str, Path], *extra: str) -> int:
    return main(
        [
            "eval",
            "--dataset",
            str(tiny["dataset"]),
            "--corpus",
            str(tiny["corpus"]),
            "--embedder",
            "hashing",
            "--thresholds",
            str(tiny["thresholds"]),
            "--cache",
            str(tiny["tmp"] / "cache"),
            "--no-progress",
            *extra,
        ]
    )


def test_gate_passes_with_the_real_retriever(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(tiny, "--retrieval-only", "--modes", "lexical") == 0
    assert "gate passed" in capsys.readouterr().out


def test_broken_retriever_fails_the_gate(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = rag.evals.corpus.open_corpus

    def broken(*args: Any, **kwargs: Any) -> Retriever:
        r = real(*args, **kwargs)
        return ReversedRetriever(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})

    monkeypatch.setattr(rag.evals.corpus, "open_corpus", broken)
    assert _eval(tiny, "--retrieval-only", "--modes", "lexical") == 1
    err = capsys.readouterr().err
    assert "gate failed: retrieval.lexical.hit@1" in err and "gate failed: retrieval.lexical.mrr" in err


def test_answer_pass_writes_reports_and_compares(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny["tmp"] / "reports"
    assert _eval(tiny, "--generator", "echo", "--report", str(out), "--no-gate") == 0
    report = json.loads((out / "tiny.json").read_text(encoding="utf-8"))
    assert report["meta"]["generator"] == "echo" and len(report["questions"]) == 5
    assert {"answer.fact_recall", "answer.refusal_recall", "latency.generation.p95_ms"} <= report["metrics"].keys()
    assert all("rank" in q for q in report["questions"] if q["answerable"])
    assert "## Answers" in (out / "tiny.md").read_text(encoding="utf-8")
    baseline = tiny["tmp"] / "base.json"
    baseline.write_text(
        json.dumps({**report, "metrics": {**report["metrics"], "answer.fact_recall": -1.0}}), encoding="utf-8"
    )
    assert _eval(tiny, "--generator", "echo", "--baseline", str(baseline), "--retrieval-only", "--no-gate") == 0
    assert _eval(tiny, "--generator", "echo", "--report", str(out), "--baseline", str(baseline), "--no-gate") == 0
    cmp = json.loads((out / "tiny.json").read_text(encoding="utf-8"))["comparison"]
    assert any(d["metric"] == "answer.fact_recall" and d["verdict"] == "better" for d in cmp["metrics"])


def test_missing_xquad_skips_locally_and_fails_in_ci(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_XQUAD_PATH", str(tiny["tmp"] / "absent.json"))
    monkeypatch.delenv("CI", raising=False)
    assert main(["eval", "--dataset", "xquad", "--retrieval-only"]) == 0
    assert "skipped" in capsys.readouterr().err
    monkeypatch.setenv("CI", "true")
    assert main(["eval", "--dataset", "xquad", "--retrieval-only"]) != 0
    assert "CI=true" in capsys.readouterr().err


def test_each_question_is_embedded_once_and_its_embedding_timed(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embed.hashing import HashingEmbedder

    calls: list[str] = []
    original = HashingEmbedder.embed_queries

    def counting(self: HashingEmbedder, texts: list[str]) -> Any:
        calls.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(HashingEmbedder, "embed_queries", counting)
    out = tiny["tmp"] / "reports"
    assert _eval(tiny, "--generator", "extractive", "--report", str(out), "--no-gate") == 0
    assert sorted(calls) == sorted(q["question"] for q in QUESTIONS)  # three modes and the answer share it
    metrics = json.loads((out / "tiny.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["latency.embed.p50_ms"] > 0 and metrics["retrieval.hybrid.p50_ms"] is not None
