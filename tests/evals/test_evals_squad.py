"""The SQuAD loader and its conversion into eval questions, on a tiny hand-made file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.errors import InputError
from rag.evals.corpus import load_dataset
from rag.evals.squad import load_squad

SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "Реки",
            "paragraphs": [
                {
                    "context": "\ufeffВолга впадает в Каспийское море. Её длина 3530 км.",
                    "qas": [
                        {
                            "id": "r1",
                            "question": "Куда впадает Волга?",
                            "answers": [
                                {"text": "в Каспийское море", "answer_start": 15},
                                {"text": "в Каспийское море", "answer_start": 15},
                            ],
                        },
                        {
                            "id": "r2",
                            "question": "Какова длина Волги?",
                            "answers": [{"text": "3530 км", "answer_start": 44}],
                        },
                    ],
                },
                {
                    "context": "Обь течёт по Сибири.",
                    "qas": [
                        {
                            "id": "r3",
                            "question": "Где течёт Обь?",
                            "answers": [{"text": "по Сибири", "answer_start": 10}],
                        }
                    ],
                },
            ],
        }
    ],
}


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_squad_documents_and_answers(squad_file: Path) -> None:
    docs, questions = load_squad(squad_file)
    assert [d.doc_id for d in docs] == ["Реки/0", "Реки/1"]
    assert docs[0].text.startswith("Волга")  # the byte-order mark is not indexed
    assert [q.qid for q in questions] == ["r1", "r2", "r3"]
    assert questions[0].answers == ("в Каспийское море",)  # duplicate answers collapse
    assert questions[2].doc_id == "Реки/1"


def test_squad_becomes_eval_questions(squad_file: Path) -> None:
    ds = load_dataset(str(squad_file), load_settings(env={}))
    assert ds.name == "tiny" and len(ds.documents) == 2
    q = ds.questions[1]
    assert q.answerable and q.doc_id == "Реки/0" and q.facts == (("3530 км",),)


def test_bad_squad_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}', encoding="utf-8")
    with pytest.raises(InputError):
        load_squad(bad)
