"""HTML pages: the content without the site around it, headings marked, tables kept as rows."""

from __future__ import annotations

from rag.ingest.chunk import chunk_document
from rag.ingest.load import load_bytes

NEWS = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Northwind Gazette | Local news, weather and sport</title></head><body>
<header class="site-header"><div class="logo">Northwind Gazette</div>Subscribe now! Sign in | Register</header>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="main-menu"><a href="/a">Politics</a> <a href="/b">Business</a></div>
<main><article>
<h1>City opens new bridge</h1>
<p>The Harbor Bridge, a 420-metre crossing, opened to traffic on Sunday after four years of work.</p>
<h2>Traffic and tolls</h2>
<p>Cars pay a toll of 2.50 dollars; bicycles and pedestrians cross free of charge.</p>
<ul><li>Maximum speed on the bridge: 60 km/h</li><li>Trucks over 12 tonnes are banned at night</li></ul>
</article>
<aside><h3>Related stories</h3><ul><li>Ferry fares to rise again</li></ul></aside></main>
<div class="cookie-banner">We use cookies. Accept all cookies</div>
<footer><p>© 2025 Northwind Gazette. All rights reserved.</p><p>Privacy policy | Contact us</p></footer>
</body></html>"""

PORTAL = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Главная — Портал</title></head><body>
<div id="header"><a href="/">Портал сотрудника</a> | <a href="/news">Новости</a> | Войти</div>
<div class="breadcrumbs">Главная / Помощь / Пропуска</div>
<div id="content"><h2>Сроки изготовления пропусков</h2>
<table><caption>Пропуска</caption><tr><th>Тип пропуска</th><th>Срок изготовления</th><th>Срок действия</th></tr>
<tr><td>Постоянный</td><td>2 рабочих дня</td><td>3 <b>года</b></td></tr>
<tr><td>Временный</td><td>в день обращения</td><td>1 месяц</td></tr></table>
<p>При утере пропуска штраф составляет 500 рублей.</p></div>
<div id="footer"><p>© 2025 ООО «Ромашка». Все права защищены.</p></div>
</body></html>"""


def test_site_furniture_is_left_out_and_the_article_read() -> None:
    doc = load_bytes("news.html", NEWS.encode())
    for boilerplate in ("Subscribe", "Home", "Politics", "Related stories", "cookies", "All rights", "Privacy"):
        assert boilerplate not in doc.text, boilerplate
    assert "420-metre crossing" in doc.text and "Trucks over 12 tonnes" in doc.text


def test_the_title_is_the_one_h1_and_headings_title_sections() -> None:
    doc = load_bytes("news.html", NEWS.encode())
    assert doc.title == "City opens new bridge"
    assert "\n\n## Traffic and tolls\n\n" in doc.text
    chunks = chunk_document(doc, max_tokens=30, overlap=0)
    toll = next(c for c in chunks if "2.50 dollars" in c.text)
    assert toll.title == "City opens new bridge — Traffic and tolls"


def test_table_cells_are_kept_apart_row_by_row() -> None:
    doc = load_bytes("pass.html", PORTAL.encode())
    rows = "Тип пропуска | Срок изготовления | Срок действия\nПостоянный | 2 рабочих дня | 3 года\n"
    assert "Пропуска\n\n" + rows + "Временный | в день обращения | 1 месяц" in doc.text
    assert "Портал сотрудника" not in doc.text and "Помощь" not in doc.text and "Ромашка" not in doc.text
    assert doc.title == "Главная — Портал"  # no <h1>: the <title>


def test_a_layout_table_is_read_cell_by_cell() -> None:
    page = (
        "<html><body><table><tr><td><p>Первая колонка: отчёт о поставках.</p></td>"
        "<td><p>Вторая колонка: план на 2026 год.</p></td></tr></table></body></html>"
    )
    doc = load_bytes("layout.html", page.encode())
    assert doc.text == "Первая колонка: отчёт о поставках.\n\nВторая колонка: план на 2026 год."


def test_furniture_nested_in_furniture_is_removed_once() -> None:
    page = '<html><body><div id="footer"><div class="menu"><nav>a</nav>b</div>c</div><p>Текст статьи.</p></body></html>'
    assert load_bytes("nested.html", page.encode()).text == "Текст статьи."


def test_a_list_is_one_block_with_an_item_a_line() -> None:
    page = (
        "<html><body><h1>Пропуск</h1><h2>Документы</h2><p>Нужны:</p>"
        "<ol><li>Паспорт.</li><li>Заявка <b>руководителя</b>.</li></ol>"
        "<ul><li>Фото 3×4</li><li>Подпись</li></ul><p>Срок — два дня.</p></body></html>"
    )
    doc = load_bytes("list.html", page.encode())
    assert "Нужны:\n\n1. Паспорт.\n2. Заявка руководителя.\n\n- Фото 3×4\n- Подпись\n\nСрок — два дня." in doc.text


def test_a_line_break_stays_inside_its_paragraph_and_two_end_it() -> None:
    page = (
        "<html><body><p>Офис в Ташкенте:<br>ул. Навои, 12,<br>3 этаж.</p>"
        "<p>Первая строфа.<br><br>Вторая строфа.</p><p>Конец.</p></body></html>"
    )
    text = load_bytes("address.html", page.encode()).text
    assert "Офис в Ташкенте:\nул. Навои, 12,\n3 этаж.\n\nПервая строфа.\n\nВторая строфа.\n\nКонец." in text, text
    chunks = chunk_document(load_bytes("address.html", page.encode()), min_tokens=1)
    assert chunks[0].text == "Офис в Ташкенте:\nул. Навои, 12,\n3 этаж.", [c.text for c in chunks]
