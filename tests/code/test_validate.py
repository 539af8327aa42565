"""One check per input kind (rag.validate and the two registry-backed ones), one set of codes.

The CLI and the HTTP API call these same functions; the codes they raise are the ones docs/api.md
lists, each with the HTTP status the API answers with, as it lists every other code the API sends.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from rag import errors, validate
from rag.answer.generate import generator_name
from rag.api.errors import STATUS_CODES
from rag.config import Settings, load_settings
from rag.errors import DocumentError, InputError, RagError
from rag.ingest.load import upload_name
from rag.ingest.loaders import sniff

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "api.md"
CODE = re.compile(r"[a-z]+(_[a-z]+)*")


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


def _project_codes() -> dict[str, int]:
    """Code -> status of every error class in rag.errors (the base class is never raised as such)."""
    codes: dict[str, int] = {**InputError.CODES, **{code: DocumentError.http_status for code in DocumentError.CODES}}
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, RagError) and cls is not RagError and not issubclass(cls, (InputError, DocumentError)):
            codes[cls.code] = cls.http_status
    return codes


def _constant(node: ast.expr | None, kind: type) -> object:
    """The value of ``node`` when it is a literal of ``kind``, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, kind) else None


def _called(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _api_codes() -> tuple[dict[str, int], set[str]]:
    """The codes rag/api sends: code -> status where the status is written beside it (``ApiError(403,
    "forbidden", ...)``, ``return 400, "invalid_json", ...``, ``STATUS_CODES``), and the codes sent
    with a status set elsewhere (``error_body("not_ready", ...)``, ``{"code": "job_lost"}``, the
    ``(code, message)`` of a refused preflight, the fallback of ``STATUS_CODES.get``)."""
    placed: dict[str, int] = {code: status for status, code in STATUS_CODES.items()}
    loose: set[object] = set()
    for path in sorted((ROOT / "rag" / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _called(node, "ApiError"):
                status, code = _constant(node.args[0], int), _constant(node.args[1], str)
                assert isinstance(status, int) and isinstance(code, str), f"{path.name}:{node.lineno}: not literal"
                placed[code] = status
            elif isinstance(node, ast.Call) and _called(node, "error_body") and node.args:
                loose.add(_constant(node.args[0], str))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
                if isinstance(node.func.value, ast.Name) and node.func.value.id == "STATUS_CODES":
                    loose.add(_constant(node.args[1], str))
            elif isinstance(node, ast.Dict):
                loose |= {
                    _constant(v, str)
                    for k, v in zip(node.keys, node.values, strict=True)
                    if _constant(k, str) == "code"
                }
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2:
                first, second = node.value.elts[:2]
                status, code, leading = _constant(first, int), _constant(second, str), _constant(first, str)
                if isinstance(status, int) and isinstance(code, str) and CODE.fullmatch(code):
                    placed[code] = status
                elif isinstance(leading, str) and CODE.fullmatch(leading):
                    loose.add(leading)
    return placed, {code for code in loose if isinstance(code, str)} - set(placed)


def test_the_api_code_scan_sees_each_kind_of_code() -> None:
    placed, loose = _api_codes()
    assert {placed["forbidden"], placed["invalid_json"], placed["not_found"]} == {403, 400, 404}
    assert {"not_ready", "job_lost", "cors_not_allowed", "http_error"} <= loose


def test_every_code_is_in_the_docs_with_its_status() -> None:
    documented = _documented()
    placed, loose = _api_codes()
    ours = {**_project_codes(), **placed}
    assert {code: documented.get(code) for code in ours} == ours
    text = DOCS.read_text(encoding="utf-8")
    assert not [code for code in loose if f"`{code}`" not in text]
