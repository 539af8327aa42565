"""`rag search [QUESTION]`: retrieve passages; with no QUESTION, one query per line from stdin."""

from __future__ import annotations

import argparse
import json
import sys

from rag import validate
from rag.cli import add_index_option
from rag.config import SEARCH_MODES, Settings
from rag.errors import InputError
from rag.search.retrieve import open_retriever
from rag.types import Chunk, Passage


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "search",
        help="retrieve the passages that best match a question",
        description="Retrieve passages from the index. With no QUESTION, reads one query per line from "
        'standard input and prints one JSON object per line: {"query": ..., "passages": [...]}.',
    )
    p.add_argument("question", nargs="?", metavar="QUESTION")
    p.add_argument("-k", "--top-k", type=int, help="number of passages (default: RAG_TOP_K or 5)")
    p.add_argument("--mode", choices=SEARCH_MODES, help="hybrid (default), dense or lexical")
    p.add_argument("--json", action="store_true", help="print a JSON array instead of text")
    add_index_option(p)


def _pages(c: Chunk) -> str:
    if c.page_start is None:
        return ""
    return f"p. {c.page_start}, " if c.page_end == c.page_start else f"pp. {c.page_start}-{c.page_end}, "


def _print_plain(passages: list[Passage]) -> None:
    if not passages:
        print("no matching passages")
    for p in passages:
        c = p.chunk
        print(f"[{p.rank}] {p.score:.3f}  {c.source}  ({_pages(c)}{c.chunk_id}, chars {c.start}-{c.end})")
        print("    " + " ".join(c.text.split())[:400])


def run(args: argparse.Namespace, settings: Settings) -> int:
    top_k, mode = validate.top_k(args.top_k, settings), validate.search_mode(args.mode, settings)
    query = None if args.question is None else validate.text(args.question, settings, what="query")
    retriever = open_retriever(settings)
    if query is not None:
        passages = retriever.search(query, top_k, mode)
        if args.json:
            print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=1))
        else:
            _print_plain(passages)
        return 0
    status = 0
    for line in sys.stdin:
        if not line.strip():
            continue  # blank lines between queries are harmless in batch input
        query = line.strip()
        try:
            rows = [p.to_dict() for p in retriever.search(validate.text(query, settings, "query"), top_k, mode)]
            print(json.dumps({"query": query, "passages": rows}, ensure_ascii=False), flush=True)
        except InputError as exc:
            error = {"code": exc.code, "message": exc.message}
            print(json.dumps({"query": validate.shown(query), "error": error}, ensure_ascii=False), flush=True)
            status = exc.exit_code
    return status
