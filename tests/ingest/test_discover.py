"""Which files an ingest reads: two files that would share a document id are refused, not merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.ingest.load import discover


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    one, two = tmp_path / "one", tmp_path / "two"
    for d, text in ((one, "Первый документ."), (two, "Второй документ.")):
        d.mkdir()
        (d / "a.txt").write_text(text, encoding="utf-8")
    return one, two


def test_two_roots_with_the_same_relative_path_are_refused(tmp_path: Path) -> None:
    one, two = _tree(tmp_path)
    with pytest.raises(DocumentError, match="same document id 'a.txt'") as err:
        list(discover([one, two]))
    assert str(one / "a.txt") in err.value.message and str(two / "a.txt") in err.value.message


def test_the_same_file_named_twice_is_read_once(tmp_path: Path) -> None:
    one, _ = _tree(tmp_path)
    assert list(discover([one, one / "a.txt", one])) == [(one / "a.txt", one)]


def test_a_common_parent_keeps_both(tmp_path: Path) -> None:
    _tree(tmp_path)
    ids = [f.relative_to(root).as_posix() for f, root in discover([tmp_path])]
    assert ids == ["one/a.txt", "two/a.txt"]
