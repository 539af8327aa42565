"""The seed question set is well formed and every answer is backed by the article."""

from __future__ import annotations

from collections import Counter

from rag.config import PROJECT_ROOT
from rag.evals.dataset import check_questions, load_questions

SEED = PROJECT_ROOT / "evals" / "seed_questions.jsonl"
ARTICLE = PROJECT_ROOT / "seeds" / "kazakhstan-uzbekistan.ru.txt"


def test_seed_questions_are_backed_by_the_article() -> None:
    questions = load_questions(SEED)
    assert check_questions(questions, ARTICLE.read_text(encoding="utf-8")) == []


def test_seed_questions_cover_the_required_mix() -> None:
    questions = load_questions(SEED)
    kinds = Counter(q.kind for q in questions)
    sections = {q.section for q in questions}
    assert len(questions) >= 60
    assert kinds["unanswerable"] >= 12 and kinds["paraphrase"] >= 5
    assert sum(q.lang == "en" for q in questions) >= 10
    expected = {"politics", "trade", "investment", "projects", "logistics", "tourism", "water", "people"}
    assert expected <= sections
