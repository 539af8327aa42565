"""`rag eval` offers only flags it honours: it indexes the dataset under --cache, never --index."""

from __future__ import annotations

import pytest

from rag.cli import build_parser


def test_eval_has_no_index_flag(capsys: pytest.CaptureFixture[str]) -> None:
    parser, _ = build_parser()
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["eval", "--index", "/somewhere"])
    assert exit_.value.code == 2 and "--index" in capsys.readouterr().err


def test_eval_keeps_embedder_and_cache() -> None:
    parser, _ = build_parser()
    args = parser.parse_args(["eval", "--embedder", "hashing", "--cache", "/tmp/c", "--limit", "3"])
    assert args.embedder == "hashing" and str(args.cache) == "/tmp/c" and args.limit == 3
