"""Reading positioned lines back into text: paragraphs, running headers, hyphenation, page joins.

Lines are built by hand here (as PDFium would report them), so each rule is tested on its own;
tests/loaders/test_pdf.py checks the same rules on real PDFs.
"""

from __future__ import annotations

from rag.ingest.loaders.layout import HYPHEN, Line, continues, dehyphenate, join_pages, paragraphs, strip_running


def column(texts: list[str], top: float = 700, pitch: float = 14, x0: float = 50, size: float = 12) -> list[Line]:
    """Lines set one under another; "" leaves one empty line of space (a paragraph gap)."""
    out, y = [], top
    for t in texts:
        if t:
            out.append(Line(t, x0, x0 + 6 * len(t), y, size))
        y -= pitch
    return out


def test_gaps_size_changes_and_list_items_start_paragraphs() -> None:
    lines = [
        Line("Торговля и экономика", 50, 250, 720, 18),
        *column(["Первая строка абзаца идёт", "и продолжается здесь.", "", "Второй абзац после пробела."], top=690),
        *column(["• пункт списка", "• второй пункт"], top=620),
    ]
    assert paragraphs(lines) == [
        "Торговля и экономика",
        "Первая строка абзаца идёт и продолжается здесь.",
        "Второй абзац после пробела.",
        "• пункт списка",
        "• второй пункт",
    ]


def test_a_large_heading_wrapped_over_two_lines_is_one_paragraph() -> None:
    """Its lines are spaced by its own size (28 pt type, 36 pt apart), not the body's 18 pt."""
    heading = column(["Инструкция по охране труда для", "операторов склада"], top=720, pitch=36, size=28)
    body = column(["Первая строка абзаца идёт", "и продолжается здесь.", "", "Второй абзац."], 660, 18, size=14)
    assert paragraphs(heading + body) == [
        "Инструкция по охране труда для операторов склада",
        "Первая строка абзаца идёт и продолжается здесь.",
        "Второй абзац.",
    ]


def _placed(words: list[tuple[str, float]], y: float, space: float = 3.0) -> Line:
    """A line of words starting at the given x (gaps from 6 points a letter and ``space``)."""
    out, right = [], None
    for word, x in words:
        out.append((x, 0.0 if right is None else x - right))
        right = x + 6 * len(word)
    return Line(" ".join(w for w, _ in words), words[0][1], right or 0, y, 12, None, tuple(out))


def test_lines_whose_words_stand_in_columns_are_a_table() -> None:
    table = [
        _placed([("Plant", 50), ("Capacity", 120), ("Staff", 200), ("Built", 236)], 700),
        _placed([("Riverside", 50), ("31,000", 120), ("58", 200), ("1974", 236)], 686),
        _placed([("Hilltop", 50), ("15,500", 120), ("34", 200), ("1988", 236)], 672),
    ]
    # Justified text in a narrow column: every space stretched alike, wider than the text is high.
    justified = [
        _placed([("Всё", 50), ("это", 86), ("шло", 122), ("дальше", 158)], 640),
        _placed([("без", 50), ("слов", 86), ("про", 128), ("это.", 164)], 626),
    ]
    assert paragraphs(table + justified) == [
        "Plant | Capacity | Staff | Built\nRiverside | 31,000 | 58 | 1974\nHilltop | 15,500 | 34 | 1988",
        "Всё это шло дальше без слов про это.",
    ]


def test_a_dash_opening_a_line_mid_sentence_is_no_list_item() -> None:
    lines = column(["саммит «Центральная Азия", "– Россия» прошёл в Душанбе.", "– Это прямая речь.", "Конец."])
    assert paragraphs(lines) == ["саммит «Центральная Азия – Россия» прошёл в Душанбе.", "– Это прямая речь. Конец."]


def test_indented_first_line_after_a_sentence_end_starts_a_paragraph() -> None:
    lines = [Line("Конец первого абзаца.", 50, 300, 700, 12), Line("Новый абзац с отступом", 80, 400, 686, 12)]
    assert paragraphs(lines) == ["Конец первого абзаца.", "Новый абзац с отступом"]


def test_a_column_jump_continues_an_unfinished_sentence_and_breaks_a_finished_one() -> None:
    left = column(["Левая колонка, абзац", "который переходит"], x0=50)
    right = column(["в правую колонку.", "", "Новый абзац справа."], x0=320)
    assert paragraphs(left + right) == [
        "Левая колонка, абзац который переходит в правую колонку.",
        "Новый абзац справа.",
    ]


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    pages = []
    for n in range(1, 4):
        body = column([f"Текст страницы {n} первый.", f"Текст страницы {n} второй."], top=700)
        header = Line("ООО «Ромашка» — Регламент 2025", 50, 400, 780, 9)
        footer = Line(f"Страница {n} из 3", 250, 350, 30, 9)
        pages.append([header, *body, footer])
    one = [[*column(["Единственная страница."]), Line("7", 290, 300, 30, 9)]]
    kept = strip_running(pages)
    assert [[line.text for line in p] for p in kept] == [
        [f"Текст страницы {n} первый.", f"Текст страницы {n} второй."] for n in (1, 2, 3)
    ]
    assert [line.text for line in strip_running(one)[0]] == ["Единственная страница."]


def test_a_browsers_header_and_footer_go_even_on_a_single_page() -> None:
    """Chromium's print: the date, time and title above, the address and "1/1" below, in small type."""
    page = [
        Line("11/27/26, 8:41 AM Greenfield Water Utility Annual Report 2024", 24, 446, 770, 9),
        *column(["12.03.2025 10:00 совещание назначено в зале.", "Второй абзац отчёта.", "Итог: 1/2"], top=700),
        Line("file:///tmp/annual.html 1/1", 24, 588, 17, 6),
    ]
    assert [line.text for line in strip_running([page])[0]] == [
        "12.03.2025 10:00 совещание назначено в зале.",  # body text, not smaller: kept
        "Второй абзац отчёта.",
        "Итог: 1/2",  # a fraction, not this page's counter
    ]


def test_headings_that_differ_in_their_numbers_stay() -> None:
    pages = [
        [Line(f"Глава {n}", 50, 150, 720, 18), *column([f"Текст {w} главы {n}." for w in "абвгд"], top=690)]
        for n in (1, 2, 3)
    ]
    assert [p[0].text for p in strip_running(pages)] == ["Глава 1", "Глава 2", "Глава 3"]


def test_hyphenation_is_joined_by_the_documents_own_words() -> None:
    pages = [
        [
            f"Отдел инфор{HYPHEN}мации ведёт учёт информации.",  # the joined word appears elsewhere
            f"Культурно-гуманитарное и культурно{HYPHEN}гуманитарное сотрудничество.",  # the compound does
            f"Сотруд{HYPHEN}ничество без подсказок.",  # no evidence: a syllable split, joined
            f"Торгово{HYPHEN}экономические связи.",  # no evidence: a compound adjective stem, kept
            f"A well-known and well{HYPHEN}known fact; infor{HYPHEN}mation flows.",
        ]
    ]
    assert dehyphenate(pages) == [
        [
            "Отдел информации ведёт учёт информации.",
            "Культурно-гуманитарное и культурно-гуманитарное сотрудничество.",
            "Сотрудничество без подсказок.",
            "Торгово-экономические связи.",
            "A well-known and well-known fact; information flows.",
        ]
    ]


def test_a_hard_hyphen_at_a_line_end_is_marked_for_the_decision() -> None:
    assert paragraphs(column(["Это инфор-", "мация, а это - тире."])) == [f"Это инфор{HYPHEN}мация, а это - тире."]


def test_pages_are_joined_with_form_feeds_and_their_offsets() -> None:
    text, starts = join_pages([["Первая страница.", "Абзац, который"], ["переходит на вторую."], [], ["Четвёртая."]])
    assert text == "Первая страница.\n\nАбзац, который\f переходит на вторую.\f\n\n\f\n\nЧетвёртая."
    assert len(starts) == 4 and starts[0] == 0
    for n, start in enumerate(starts[1:], start=1):
        assert text[start - 1] == "\f" and text[:start].count("\f") == n
    assert text.index("переходит") >= starts[1] and text.index("Четвёртая") >= starts[3]


def test_a_word_hyphenated_across_a_page_break_is_moved_whole_to_its_first_page() -> None:
    text, starts = join_pages([["Отдел инфор-"], ["мации, и дальше."]])
    assert text == "Отдел информации,\f и дальше." and text[: starts[1]] == "Отдел информации,\f"


def test_continues() -> None:
    assert continues("абзац, который", "переходит")
    assert not continues("Конец.", "новый")
    assert not continues("Заголовок", "Текст")
