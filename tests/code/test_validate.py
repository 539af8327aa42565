"""One check per input kind (rag.validate and the two registry-backed ones), one set of codes.

The CLI and the HTTP API call these same functions; the codes they raise are the ones docs/api.md
lists, each with the HTTP status the API answers with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag import validate
from rag.answer.generate import generator_name
from rag.config import Settings, load_settings
from rag.errors import DocumentError, InputError
from rag.ingest.load import upload_name
from rag.ingest.loaders import sniff

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture
def settings() -> Settings:
    return load_settings(env={}, max_question_chars=10, max_top_k=7, top_k=3, search_mode="dense")


@pytest.mark.parametrize(
    ("value", "what", "code", "message"),
    [
        ("   \n\t", "question", "invalid_input", "the question is empty"),
        ("", "query", "invalid_input", "the query is empty"),
        (42, "question", "invalid_input", "the question must be a string"),
        ("x" * 11, "question", "question_too_long", "the question has 11 characters; the limit is 10"),
        ("  " + "x" * 11, "query", "query_too_long", "the query has 11 characters; the limit is 10"),
        ("\x00", "question", "invalid_input", "the question is empty"),
        (" \x1b\x7f\x85 ", "query", "invalid_input", "the query is empty"),
        (
            "Когда\udcff?",
            "question",
            "invalid_input",
            "the question is not valid text: it holds bytes that are not UTF-8",
        ),
    ],
)
def test_bad_text(settings: Settings, value: object, what: str, code: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        validate.text(value, settings, what)
    assert (info.value.code, info.value.message) == (code, message)


def test_text_is_stripped_and_may_be_exactly_the_limit(settings: Settings) -> None:
    assert validate.text("  Когда?  ", settings) == "Когда?"
    assert validate.text(" " + "x" * 10 + " ", settings) == "x" * 10
    assert validate.text("Да\x00 нет\x1b\n", settings) == "Да  нет"


@pytest.mark.parametrize("value", [0, -1, 8, True])
def test_bad_top_k(settings: Settings, value: int) -> None:
    with pytest.raises(InputError, match="top_k must be between 1 and 7") as info:
        validate.top_k(value, settings)
    assert info.value.code == "invalid_top_k" and info.value.http_status == 400


def test_top_k_and_mode_defaults_come_from_settings(settings: Settings) -> None:
    assert validate.top_k(None, settings) == 3 and validate.top_k(7, settings) == 7
    assert validate.search_mode(None, settings) == "dense" and validate.search_mode("lexical", settings) == "lexical"


def test_bad_mode(settings: Settings) -> None:
    with pytest.raises(InputError, match="use one of: hybrid, dense, lexical") as info:
        validate.search_mode("magic", settings)
    assert info.value.code == "invalid_mode"


def test_generator_name(settings: Settings) -> None:
    assert generator_name(None, settings) == settings.generator and generator_name("echo", settings) == "echo"
    with pytest.raises(InputError, match="known generators: anthropic, echo, extractive") as info:
        generator_name("gpt9", settings)
    assert info.value.code == "unknown_generator"


def test_upload_name() -> None:
    assert upload_name("../../etc/notes.md") == "notes.md" and upload_name("C:\\docs\\a.TXT") == "a.TXT"
    with pytest.raises(InputError) as missing:
        upload_name("")
    assert missing.value.code == "missing_filename"
    assert upload_name("scan") == "scan"  # the format is sniffed from the bytes, not the name
    for bad in ("a\x00b.txt", "line\nbreak.txt", "esc\x1b[31m.txt", "half\udcff.txt"):
        with pytest.raises(InputError) as invalid:
            upload_name(bad)
        assert invalid.value.code == "invalid_filename"
    with pytest.raises(DocumentError) as unsupported:
        sniff("true.exe", b"MZ\x90\x00")
    assert unsupported.value.code == "unsupported_file_type" and unsupported.value.http_status == 415
    assert unsupported.value.message.startswith("true.exe: unsupported file type .exe; supported: .txt")


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        InputError("x", code="no_such_code")


def _documented() -> dict[str, int]:
    """Code -> status from the errors table of docs/api.md."""
    table: dict[str, int] = {}
    for status, codes in re.findall(r"^\| (\d{3}) \| (.+) \|$", DOCS.read_text(encoding="utf-8"), re.M):
        for code in re.findall(r"`([a-z_]+)`", codes):
            table[code] = int(status)
    return table


def test_every_code_is_in_the_docs_with_its_status() -> None:
    documented = _documented()
    ours = {**InputError.CODES, **{code: DocumentError.http_status for code in DocumentError.CODES}}
    assert {code: documented.get(code) for code in ours} == ours
