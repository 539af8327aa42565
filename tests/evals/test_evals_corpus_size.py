"""evals/corpus_size.py end to end on a tiny SQuAD file: the share rule, the counts, the errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rag.config import load_settings
from rag.evals.corpus import doc_position, load_dataset

ROOT = Path(__file__).resolve().parents[2]
FACTS = [
    ("Волга", "Волга впадает в Каспийское море. Её длина 3530 километров.", "Куда впадает Волга?", "в Каспийское море"),
    ("Обь", "Обь течёт по Западной Сибири, её бассейн велик.", "Где течёт Обь?", "по Западной Сибири"),
    ("Байкал", "Байкал — самое глубокое озеро планеты, до 1642 метров.", "Какова глубина Байкала?", "1642 метров"),
    ("Эльбрус", "Эльбрус — высочайшая вершина России, 5642 метра.", "Какова высота Эльбруса?", "5642 метра"),
    ("Лена", "Лена впадает в море Лаптевых, образуя большую дельту.", "Куда впадает Лена?", "в море Лаптевых"),
    ("Онега", "Онежское озеро меньше Ладожского.", "Какое озеро больше Онежского?", "Ладожского"),
]


def _squad(path: Path) -> Path:
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": text,
                    "qas": [{"id": title, "question": q, "answers": [{"text": a, "answer_start": text.index(a)}]}],
                }
            ],
        }
        for title, text, q, a in FACTS
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"RAG_EVAL_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, str(ROOT / "evals" / "corpus_size.py"), "--no-progress", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_corpus_size_table(tmp_path: Path) -> None:
    squad = _squad(tmp_path / "lakes.json")
    docs = load_dataset(str(squad), load_settings()).documents
    run = _run(tmp_path, "--dataset", str(squad), "--shares", "1", "0.5")
    assert run.returncode == 0, run.stderr
    rows = [line.split("|")[1:-1] for line in run.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    header, full, half = rows
    assert header[1].strip() == "share"
    assert [c.strip() for c in full[1:4]] == ["1", str(len(FACTS)), str(len(FACTS))]
    kept = sum(doc_position(d.doc_id) < 0.5 for d in docs)
    assert [c.strip() for c in half[1:3]] == ["0.5", str(kept)]
    # every rate is a share of questions; the whole corpus answers its own questions the same both ways
    full_fr, full_again = full[4].strip().rstrip(")").split(" (")
    assert full_fr == full_again
    assert 0.0 <= float(full_fr) <= 1.0


def test_corpus_size_rejects_bad_shares(tmp_path: Path) -> None:
    run = _run(tmp_path, "--dataset", str(_squad(tmp_path / "lakes.json")), "--shares", "0")
    assert run.returncode == 2
    assert "--shares must lie in (0, 1]" in run.stderr
