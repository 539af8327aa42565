"""`rag ask`: plain output, --json, stdin batch mode and one-line errors."""

from __future__ import annotations

import io
import json
import re

import pytest

from rag.cli import main
from rag.config import Settings

QUESTION = "Каков объем взаимной торговли Казахстана и Узбекистана за январь–сентябрь 2025 года?"


@pytest.fixture
def index_args(seed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import os

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    return ["--index", str(seed_settings.index_dir)]


def test_plain_output_is_answer_then_numbered_sources(
    index_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", QUESTION, *index_args]) == 0
    out = capsys.readouterr().out
    answer, _, sources = out.partition("\nSources:\n")
    assert "3,39 млрд долларов" in answer and "[1]" in answer
    assert re.match(
        r"\[1\] \S*kazakhstan-uzbekistan\.ru\.txt \(kazakhstan-uzbekistan\.ru\.txt#\d+, chars \d+-\d+", sources
    )


def test_json_output(index_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", QUESTION, "--json", "--top-k", "3", "--generator", "echo", *index_args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["generator"] == "echo" and data["refused"] is False and data["answer"].endswith("[1]")
    assert {"retrieve", "generate", "total"} <= set(data["timings"])
    assert len(data["context"]) <= 3
    (cite,) = data["citations"]
    assert {"n", "chunk_id", "doc_id", "source", "text", "score", "title", "start", "end"} <= set(cite)


def test_stdin_mode_prints_one_json_object_per_question(
    index_args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{QUESTION}\n\nWhat is the population of Kazakhstan?\n"))
    assert main(["ask", *index_args]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2
    assert "3,39" in rows[0]["answer"] and rows[0]["citations"]
    assert rows[1]["refused"] is True and rows[1]["language"] == "en"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "  "], "the question is empty"),
        (["ask", "q", "--generator", "gpt9"], "known generators: anthropic, echo"),
    ],
)
def test_errors_are_one_line(
    index_args: list[str], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main([*argv, *index_args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_dead_llm_is_a_one_line_error(
    index_args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.answer.llm_fakes import closed_port_url

    monkeypatch.setenv("RAG_OPENAI_BASE_URL", closed_port_url() + "/v1")
    monkeypatch.setenv("RAG_LLM_RETRIES", "0")
    assert main(["ask", QUESTION, "--generator", "openai", *index_args]) == 5
    err = capsys.readouterr().err
    assert "rag ask: error: openai at http://127.0.0.1:" in err and "unreachable" in err
