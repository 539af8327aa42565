"""The `rag` command line. Each subcommand lives in its own module with two functions:

``add_parser(subparsers)`` registers its arguments, and ``run(args, settings) -> int`` does the work.
Errors from the project's tree become one line on stderr and the error's exit code; nobody sees a
traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from rag.config import load_settings
from rag.errors import RagError

# Subcommand modules, in the order `rag --help` lists them.
COMMANDS = ["ingest", "search", "ask", "serve", "eval", "migrate"]


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Question answering with citations over a document collection.",
        epilog="Settings also come from RAG_* environment variables (see README). "
        "Run `rag COMMAND --help` for a command's options.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules: dict[str, object] = {}
    for name in COMMANDS:
        module = importlib.import_module(f"rag.cli.{name}")
        module.add_parser(sub)  # type: ignore[attr-defined]
        modules[name] = module
    return parser, modules


def add_index_option(p: argparse.ArgumentParser) -> None:
    """The --index and --embedder flags shared by every command that touches an index."""
    p.add_argument("--index", dest="index_dir", metavar="DIR", help="index directory (RAG_INDEX_DIR, default: index/)")
    p.add_argument("--embedder", help="embedder name (RAG_EMBEDDER, default: e5-small)")
    p.add_argument("--store", help="where the index lives: faiss or milvus (RAG_STORE, default: faiss)")


def main(argv: Sequence[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.command:
        parser.print_help()
        return 2
    try:
        overrides = {k: getattr(args, k, None) for k in ("index_dir", "embedder", "store")}
        settings = load_settings(**overrides)
        return int(modules[args.command].run(args, settings))  # type: ignore[attr-defined]
    except RagError as exc:
        print(f"rag {args.command}: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"rag {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
