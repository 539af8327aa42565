"""The eval question format (JSON Lines) and its checks against the source text.

One object per line: ``id``, ``question``, ``lang`` (ru|en), ``kind``
(factoid|paraphrase|english|unanswerable), ``section``, ``answerable``, ``facts`` (a list of
required facts, each a list of acceptable variants) and ``source_quote`` (an exact substring of
the corpus that holds the answer; empty when the question is unanswerable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError
from rag.evals.normalize import normalize, variant_in

KINDS = ("factoid", "paraphrase", "english", "unanswerable")
LANGS = ("ru", "en")


@dataclass(frozen=True)
class EvalQuestion:
    """One question with the facts a correct answer must contain."""

    id: str
    question: str
    answerable: bool
    facts: tuple[tuple[str, ...], ...]
    source_quote: str = ""
    lang: str = "ru"
    kind: str = "factoid"
    section: str = ""
    doc_id: str = ""  # gold document, when known (SQuAD); otherwise the gold is the source quote


def _from_dict(obj: dict[str, object], where: str) -> EvalQuestion:
    try:
        facts_raw = obj.get("facts") or []
        assert isinstance(facts_raw, list)
        facts = tuple(tuple(str(v) for v in fact) for fact in facts_raw)
        return EvalQuestion(
            id=str(obj["id"]),
            question=str(obj["question"]),
            answerable=bool(obj["answerable"]),
            facts=facts,
            source_quote=str(obj.get("source_quote") or ""),
            lang=str(obj.get("lang") or "ru"),
            kind=str(obj.get("kind") or "factoid"),
            section=str(obj.get("section") or ""),
        )
    except (KeyError, TypeError, AssertionError) as exc:
        raise InputError(f"{where}: not an eval question ({exc})") from None


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSON Lines question file (blank lines ignored)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read question file {path}: {exc.strerror}") from None
    out: list[EvalQuestion] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{n}: expected a JSON object")
        out.append(_from_dict(obj, f"{path}:{n}"))
    return out


def check_questions(questions: list[EvalQuestion], corpus: str) -> list[str]:
    """Problems in a question set: bad fields, quotes not in ``corpus``, variants not in quotes."""
    problems: list[str] = []
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            problems.append(f"{q.id}: duplicate id")
        seen.add(q.id)
        if q.kind not in KINDS or q.lang not in LANGS:
            problems.append(f"{q.id}: kind/lang must be one of {KINDS}/{LANGS}")
        if not q.answerable:
            if q.facts or q.source_quote:
                problems.append(f"{q.id}: unanswerable but has facts or a source_quote")
            continue
        if not q.facts or not q.source_quote:
            problems.append(f"{q.id}: answerable but facts or source_quote is empty")
            continue
        if q.source_quote not in corpus:
            problems.append(f"{q.id}: source_quote is not a substring of the corpus")
        quote = normalize(q.source_quote)
        for fact in q.facts:
            for variant in fact:
                if not variant_in(variant, quote):
                    problems.append(f"{q.id}: variant {variant!r} not found in its source_quote")
    return problems
