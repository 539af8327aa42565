"""Metric functions on hand-made cases: normalization, fact recall, citations, refusals, ranks."""

from __future__ import annotations

import pytest

from rag.evals.gate import Threshold, check
from rag.evals.metrics import Scored, fact_recall, percentiles, summarize, supports
from rag.evals.normalize import fact_in, normalize
from rag.evals.report import compare
from rag.evals.retrieval import score_ranks


@pytest.mark.parametrize(
    ("variants", "text", "expected"),
    [
        (["3,39"], "достиг 3.39 млрд", True),  # decimal point for comma
        (["3.39"], "достиг 3,39 млрд", True),  # and the other way round
        (["2400"], "более 2\u202f400 предприятий", True),  # narrow no-break space in a digit group
        (["2400"], "более 2\u00a0400 предприятий", True),  # no-break space
        (["1000000"], "1\u2009000\u2009000 тонн", True),  # thin spaces, two groups
        (["2.5"], "вырос в 2,55 раза", False),  # a number must match whole
        (["2.5"], "на 12,5%", False),
        (["10"], "до 10 млрд долларов", True),
        (["10"], "до 100 млрд", False),
        (["пшениц"], "Поставки ПШЕНИЦЫ выросли", True),  # stem prefix and case
        (["вечн дружб"], "Договором о вечной  дружбе", True),  # several stems, extra whitespace
        (["вечн дружб"], "дружбе вечной", False),  # stems keep their order
        (["черн"], "обеспечение", False),  # a stem must start a word
        (["Мирзиеев"], "с Шавкатом Мирзиёевым", True),  # ё read as е
        (["Green Corridor Union"], "компанию «Green Corridor Union LLC»", True),
        (["Алматы — Туркестан"], "Алматы - Туркестан", True),  # dashes unified
    ],
)
def test_fact_matching(variants: list[str], text: str, expected: bool) -> None:
    assert fact_in(variants, text) is expected


def test_normalize_folds_case_numbers_and_space() -> None:
    assert normalize("  Ёлка\u00a0 3,5  И 2\u202f400 ") == "елка 3.5 и 2400"


def test_fact_recall_counts_each_fact_once() -> None:
    facts = [["3,39", "3.39"], ["млрд"], ["18,2"]]
    assert fact_recall("Торговля: 3.39 млрд долларов", facts) == pytest.approx(2 / 3)
    assert fact_recall("ничего", facts) == 0.0
    assert fact_recall("anything", []) == 1.0


def test_supports_by_quote_or_by_every_fact() -> None:
    facts = [["Костана"], ["Onix"]]
    assert supports("автомобилей «Chevrolet Onix» в Костанае.", facts, "«Chevrolet Onix» в Костанае")
    assert supports("в Костанае собирают Onix", facts)  # no quote given: every fact must be present
    assert not supports("в Костанае собирают тракторы", facts)


def test_summarize_mixed_case() -> None:
    rows = [
        Scored(True, False, 2, 2, 2, 1, 10),  # fully right, one of two citations supports it
        Scored(True, False, 2, 1, 1, 1, 20),  # half right
        Scored(True, True, 1, 0, 0, 0, 5),  # wrongly refused
        Scored(False, True, 0, 0, 0, 0, 5),  # rightly refused
        Scored(False, False, 0, 0, 1, 0, 30),  # should have refused
    ]
    m = summarize(rows)
    assert m["fact_recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["all_facts"] == pytest.approx(1 / 3)
    assert m["citation_precision"] == pytest.approx(2 / 3)
    assert m["supported_answers"] == pytest.approx(1.0)
    assert m["refusal_precision"] == pytest.approx(1 / 2)
    assert m["refusal_recall"] == pytest.approx(1 / 2)
    assert m["false_refusals"] == pytest.approx(1 / 3)
    assert m["length_words"] == pytest.approx((10 + 20 + 30) / 3)


def test_every_metric_zero() -> None:
    rows = [
        Scored(True, False, 2, 0, 1, 0, 0),  # empty answer, one citation that does not support it
        Scored(False, False, 0, 0, 0, 0, 0),  # an unanswerable question answered (nothing refused)
    ]
    assert all(v == 0.0 for v in summarize(rows).values()), summarize(rows)
    r = score_ranks("hybrid", [0, 0, 0], [1.0, 2.0, 3.0])
    assert all(v == 0.0 for v in r.hits.values()) and r.mrr == 0.0


def test_not_measured_is_none() -> None:
    m = summarize([Scored(True, False, 1, 1, 1, 1, 3)])
    assert m["refusal_recall"] is None and m["refusal_precision"] is None
    assert percentiles([]) == {"p50_ms": None, "p95_ms": None}
    assert percentiles([10.0, 20.0, 30.0])["p50_ms"] == 20.0


def test_gate_names_every_failing_metric() -> None:
    thresholds = [
        Threshold("a", min=0.5),
        Threshold("b", min=0.9),
        Threshold("lat", max=100.0),
        Threshold("c", min=0.1),
    ]
    failures, missing = check({"a": 0.6, "b": 0.8, "lat": 150.0}, thresholds)
    assert [f.split(" ")[0] for f in failures] == ["b", "lat"]
    assert missing == ["c"]


def test_compare_reports_better_worse_and_changed_questions() -> None:
    q = {"id": "q1", "answerable": True, "refused": False}
    base = {
        "metrics": {"answer.fact_recall": 0.5, "latency.total.p50_ms": 10.0},
        "questions": [{**q, "fact_recall": 0.0}],
    }
    cur = {
        "metrics": {"answer.fact_recall": 0.75, "latency.total.p50_ms": 20.0},
        "questions": [{**q, "fact_recall": 1.0}],
    }
    cmp = compare(cur, base)
    verdicts = {d["metric"]: d["verdict"] for d in cmp["metrics"]}
    assert verdicts == {"answer.fact_recall": "better", "latency.total.p50_ms": "slower"}
    assert cmp["questions"] == [{"id": "q1", "before": "wrong", "after": "correct"}]


def test_thresholds_file_names_metrics_that_exist() -> None:
    from rag.config import PROJECT_ROOT
    from rag.evals.gate import load_thresholds
    from rag.evals.retrieval import KS

    per_mode = [f"hit@{k}" for k in KS] + ["mrr", "p50_ms", "p95_ms"]
    known = {f"retrieval.{m}.{x}" for m in ("hybrid", "dense", "lexical") for x in per_mode}
    known |= {f"answer.{k}" for k in summarize([])}
    known |= {f"latency.{s}.{p}" for s in ("embed", "retrieval", "generation", "total") for p in ("p50_ms", "p95_ms")}
    for dataset in (
        "seed",
        "xquad",
        "tydi",
        "xquad-en",
        "xquad-en-ru",
        "tydi-leaveout",
        "xquad-leaveout",
        "xquad-en-leaveout",
    ):
        thresholds = load_thresholds(PROJECT_ROOT / "evals" / "thresholds.toml", dataset)
        assert thresholds, dataset
        for t in thresholds:
            assert t.metric in known, t.metric
            assert t.measured is not None  # every threshold records the value it was set from
            assert (t.min is not None and t.min <= t.measured) or (t.max is not None and t.max >= t.measured)
