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


def test_leave_out_removes_a_stable_share_and_turns_its_questions_unanswerable(squad_file: Path) -> None:
    from rag.evals.corpus import left_out

    ids = [f"doc/{i}" for i in range(2000)]
    share = sum(left_out(d, 0.333) for d in ids) / len(ids)
    assert 0.30 < share < 0.37 and [left_out(d, 0.333) for d in ids] == [left_out(d, 0.333) for d in ids]
    settings = load_settings(env={})
    out = next(d for d in ("Реки/0", "Реки/1") if left_out(d, 0.9))  # at 0.9 at least one is out
    ds = load_dataset(str(squad_file), settings, leave_out=0.9)
    assert ds.name == "tiny-leaveout" and ds.full_documents and out not in {d.doc_id for d in ds.documents}
    for q in ds.questions:
        gold = {"r1": "Реки/0", "r2": "Реки/0", "r3": "Реки/1"}[q.id]
        assert q.answerable == (gold in {d.doc_id for d in ds.documents})
        assert q.answerable or (q.kind == "unanswerable" and not q.facts)
    with pytest.raises(InputError, match="SQuAD"):
        load_dataset("seed", settings, leave_out=0.3)


def test_cross_lingual_questions_take_their_gold_from_the_corpus_file(tmp_path: Path, squad_file: Path) -> None:
    qas = [
        {"id": "r1", "question": "Where does the Volga flow?", "answers": [{"text": "Caspian", "answer_start": 25}]},
        {"id": "x9", "question": "Not in the other file?", "answers": [{"text": "no", "answer_start": 0}]},
    ]
    paragraph = {"context": "The Volga flows into the Caspian.", "qas": qas}
    english = {"data": [{"title": "Rivers", "paragraphs": [paragraph]}]}
    en = tmp_path / "en.json"
    en.write_text(json.dumps(english), encoding="utf-8")
    settings = load_settings(env={"RAG_XQUAD_PATH": str(squad_file), "RAG_XQUAD_EN_PATH": str(en)})
    ds = load_dataset("xquad-en-ru", settings)
    (q,) = ds.questions  # only ids the corpus file knows
    assert q.question == "Where does the Volga flow?" and q.lang == "en"
    assert q.doc_id == "Реки/0" and q.facts == (("в Каспийское море",),)
    assert {d.doc_id for d in ds.documents} == {"Реки/0", "Реки/1"} and ds.corpus == "tiny"


def test_a_passage_counts_only_from_the_gold_paragraph_and_with_the_answer(squad_file: Path) -> None:
    from rag.evals.gold import holds_answer

    q = load_dataset(str(squad_file), load_settings(env={})).questions[0]
    assert holds_answer(q, "Реки/0", "Волга впадает в Каспийское море.")
    assert not holds_answer(q, "Реки/0", "Её длина 3530 км.")  # right paragraph, no answer: a miss
    assert not holds_answer(q, "Реки/1", "Обь не впадает в Каспийское море.")  # answer text, wrong paragraph


def test_a_repeated_title_keeps_both_paragraphs(tmp_path: Path) -> None:
    twice = {"data": [{"title": "Т", "paragraphs": [{"context": f"Текст {i}.", "qas": []}]} for i in range(2)]}
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(twice, ensure_ascii=False), encoding="utf-8")
    docs, _ = load_squad(path)
    assert [d.doc_id for d in docs] == ["Т/0", "Т~1/0"] and [d.text for d in docs] == ["Текст 0.", "Текст 1."]
