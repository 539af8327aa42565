"""Damaged and locked Word and PDF files: a plain reason and what to do, never the library's words.

python-docx, lxml, zlib and PDFium describe a damaged file by their own internals (a line and column
of XML, a zlib error number, "PDFium: Data format error"), which tell a user nothing; the detail is
logged at debug level for whoever runs the service."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.ingest.load import load_bytes
from tests.conftest import run_rag
from tests.docgen import damaged_documents

DAMAGED = damaged_documents()
# What the libraries' own messages hold: positions, error numbers, their names, Python reprs.
INTERNALS = re.compile(r"line \d|column|Error -?\d|PDFium|lxml|zlib|<string>|\[Content_Types\]|\"|'")


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_the_reason_is_plain(name: str, caplog: pytest.LogCaptureFixture) -> None:
    data, reason = DAMAGED[name]
    with caplog.at_level(logging.DEBUG, logger="rag"), pytest.raises(DocumentError) as err:
        load_bytes(name, data)
    assert (err.value.path, err.value.reason) == (name, reason)
    assert not INTERNALS.search(err.value.reason), err.value.reason
    if reason.startswith("damaged .docx that") or reason.startswith("damaged PDF that"):
        assert any(name in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


def test_rag_ingest_names_each_damaged_file_plainly(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, (data, _) in DAMAGED.items():
        (docs / name).write_bytes(data)
    (docs / "ok.txt").write_text("Совещание перенесли на пятницу.", encoding="utf-8")
    res = run_rag("ingest", str(docs), "--index", str(tmp_path / "index"), "--quiet")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    skipped = dict(line.removeprefix("skipped: ").split(": ", 1) for line in res.stderr.splitlines())
    assert skipped == {str(docs / name): reason for name, (_, reason) in DAMAGED.items()}
