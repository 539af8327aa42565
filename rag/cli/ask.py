"""`rag ask [QUESTION]`: answer with citations; with no QUESTION, one question per line from stdin."""

from __future__ import annotations

import argparse
import json
import sys

from rag import validate
from rag.answer.generate import REGISTRY, Generator, generator_name, get_generator
from rag.answer.pipeline import answer_question, stream_answer
from rag.cli import add_index_option
from rag.config import Settings, replace
from rag.errors import GeneratorError, InputError
from rag.types import Answer, Citation


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ask",
        help="answer a question from the documents, with numbered citations",
        description="Answer a question from the indexed documents, citing passages as [n]. With no QUESTION, "
        "reads one question per line from standard input and prints one JSON object per line.",
    )
    p.add_argument("question", nargs="?", metavar="QUESTION")
    p.add_argument("-k", "--top-k", type=int, help="passages to retrieve (default: RAG_TOP_K or 5)")
    p.add_argument(
        "--generator",
        metavar="NAME",
        help=f"answer generator: {', '.join(REGISTRY)} (RAG_GENERATOR, default: extractive)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_index_option(p)


def _source_line(c: Citation) -> str:
    excerpt = " ".join(c.text.split())
    excerpt = excerpt if len(excerpt) <= 200 else excerpt[:199] + "…"
    page = f"p. {c.page}, " if c.page is not None else ""
    return f"[{c.n}] {c.source} ({page}{c.chunk_id}, chars {c.start}-{c.end}, score {c.score:.3f})\n    {excerpt}"


def _print_sources(answer: Answer) -> None:
    if answer.refused:
        return
    sources = answer.citations or answer.context
    print("\nSources:" if answer.citations else "\nContext (the answer cites none):")
    for c in sources:
        print(_source_line(c))


def _ask_plain(question: str, retriever: object, generator: Generator, settings: Settings, top_k: int) -> int:
    """Print the answer as it streams, then the numbered sources."""
    events = stream_answer(question, retriever, generator, settings, top_k)  # type: ignore[arg-type]
    for event in events:
        if event.kind == "delta":
            print(event.data["text"], end="", flush=True)
        elif event.kind == "error":
            print(flush=True)
            raise GeneratorError(event.data["error"]["message"])
        elif event.kind == "done":
            print()
            _print_sources(_answer_from(event.data))
    return 0


def _answer_from(data: dict) -> Answer:  # type: ignore[type-arg]
    def cites(rows: list[dict]) -> tuple[Citation, ...]:  # type: ignore[type-arg]
        return tuple(Citation(**row) for row in rows)

    return Answer(
        data["question"],
        data["answer"],
        data["refused"],
        cites(data["citations"]),
        cites(data["context"]),
        data["generator"],
        data["language"],
        data["timings"],
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from rag.search.retrieve import open_retriever

    settings = replace(settings, generator=generator_name(args.generator, settings))
    top_k = validate.top_k(args.top_k, settings)
    question = None if args.question is None else validate.text(args.question, settings)
    retriever = open_retriever(settings)
    with get_generator(settings.generator, settings, embedder=retriever.embedder) as generator:
        if question is not None:
            if not args.json:
                return _ask_plain(question, retriever, generator, settings, top_k)
            answer = answer_question(question, retriever, generator, settings, top_k)
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
            return 0
        status = 0
        for line in sys.stdin:
            if not line.strip():
                continue  # blank lines between questions are harmless in batch input
            try:
                row = answer_question(validate.text(line, settings), retriever, generator, settings, top_k).to_dict()
            except (InputError, GeneratorError) as exc:
                row = {"question": validate.shown(line.strip()), "error": {"code": exc.code, "message": exc.message}}
                status = max(status, exc.exit_code)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return status
