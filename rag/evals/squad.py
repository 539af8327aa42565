"""SQuAD-format JSON (v1.1 layout) as a benchmark: paragraphs become the corpus, answers the facts.

``data[].paragraphs[].{context, qas[].{id, question, answers[].{text, answer_start}}}``. A
leading byte-order mark in a context (XQuAD-ru has seven) is kept in the offsets but stripped
from the indexed text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError
from rag.ingest.load import content_hash
from rag.types import Document


@dataclass(frozen=True)
class SquadQuestion:
    """One question with its gold paragraph and the acceptable answer texts."""

    qid: str
    question: str
    doc_id: str
    answers: tuple[str, ...]


def load_squad(path: Path) -> tuple[list[Document], list[SquadQuestion]]:
    """Documents (one per paragraph, ids ``<article title>/<n>``) and their questions."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        articles = raw["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a readable SQuAD-format JSON file: {exc}") from None
    docs: list[Document] = []
    questions: list[SquadQuestion] = []
    seen: set[str] = set()
    for a_i, article in enumerate(articles):
        title = str(article.get("title") or f"article-{a_i}")
        for p_i, para in enumerate(article.get("paragraphs", [])):
            text = str(para["context"]).lstrip("\ufeff")
            doc_id = f"{title}/{p_i}"
            if doc_id in seen:  # TyDi repeats titles across articles: one id would hide the other text
                doc_id = f"{title}~{a_i}/{p_i}"
            seen.add(doc_id)
            # Titles are slugs in XQuAD ("Super_Bowl_50"): the title a reader would see has spaces.
            shown = title.replace("_", " ")
            docs.append(Document(doc_id, f"{Path(path).name}:{doc_id}", shown, text, content_hash(text)))
            for qa in para.get("qas", []):
                answers = tuple(dict.fromkeys(str(a["text"]) for a in qa.get("answers", [])))
                questions.append(SquadQuestion(str(qa["id"]), str(qa["question"]), doc_id, answers))
    if not docs:
        raise InputError(f"{path} holds no paragraphs")
    return docs, questions
