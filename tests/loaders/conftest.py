"""Test documents printed once per session by headless Chromium (skipped without it, failed under CI)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from tests.docgen import print_pdfs

# Each page of these documents says which page it is on, so tests can check the page of any sentence.
RUNNING_CSS = """
@page { margin: 22mm 18mm }
.head { position: fixed; top: -12mm; left: 0; font-size: 9pt }
.foot { position: fixed; bottom: -12mm; left: 0; font-size: 9pt }
.page { break-after: page }
"""

ENGLISH = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Staff handbook</title>
<style>body{{font:12pt/1.45 'DejaVu Serif',serif}} {RUNNING_CSS}</style></head><body>
<div class="head">Northwind Traders — Internal handbook</div>
<div class="foot">Confidential, do not distribute</div>
<div class="page"><h1>Travel</h1>
<p>The ﬁrst rule of travel is to book early. Staff ﬂy economy on ﬂights under six hours, as well as on
trains, and the cheapest fare is known to the desk.</p>
<p>Claims up to 1&nbsp;500&nbsp;euros are paid within ten days. Our information desk answers every
question the same day; the infor-<br>mation desk is on the ground ﬂoor. A well-<br>known rule: keep
every receipt.</p></div>
<div class="page"><h2>Expenses</h2>
<p>Meals abroad are paid at the daily rate of the country visited. This sentence is printed on page two.</p></div>
<div class="page"><h2>Equipment</h2>
<p>Laptops are replaced every four years. This sentence is printed on page three.</p></div>
</body></html>"""

COLUMN_PARAGRAPHS = [
    "Левая колонка начинается здесь. Первая колонка рассказывает о торговле между странами региона "
    "и о том, как растут поставки зерна, муки и металлов.",
    "Второй абзац описывает транспорт: грузы идут по железной дороге и по автомобильным трассам, а "
    "новые пункты пропуска ускоряют границу. Этот абзац длинный, чтобы перейти из левой колонки в "
    "правую посреди предложения, как это бывает в газетах и отчётах.",
    "Третий абзац говорит об энергетике и водных ресурсах. Строительство станции обсуждают уже несколько лет.",
    "Последний абзац правой колонки подводит итог: сотрудничество расширяется.",
]

COLUMNS = f"""<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Две колонки</title>
<style>body{{font:11pt/1.4 'DejaVu Serif',serif}} .cols{{column-count:2;column-gap:2em;height:60mm}}</style>
</head><body><h1>Обзор сотрудничества</h1><div class="cols">
{"".join(f"<p>{p}</p>" for p in COLUMN_PARAGRAPHS)}
</div><p>Отдел инфор-<br>мации и культурно-<br>гуманитарного обмена готовит новый обзор информации.</p>
</body></html>"""


# A table beside justified text in narrow columns, whose stretched spaces are wider than the text is high.
TABLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plants</title>
<style>body{font:11pt/1.4 'DejaVu Serif',serif} .cols{column-count:3;column-gap:4mm;text-align:justify}
td,th{border:1px solid #000;padding:3px} table{border-collapse:collapse}</style></head><body>
<div class="cols"><p>The utility supplied drinking water to two hundred thousand residents across the
county, and leakage fell to eleven percent of the water put into supply, its lowest level recorded
since monitoring began, mainly because old cast-iron mains in the northern district were replaced.</p></div>
<h2>Key figures by plant</h2>
<table><tr><th>Plant</th><th>Capacity (m³/day)</th><th>Staff</th><th>Built</th></tr>
<tr><td>Riverside</td><td>31,000</td><td>58</td><td>1974</td></tr>
<tr><td>Hilltop</td><td>15,500</td><td>34</td><td>1988</td></tr>
<tr><td>Oakmere</td><td>4,200</td><td>11</td><td>1962</td></tr></table>
<p>The chief executive of the utility is Helen Marsh.</p></body></html>"""


def _picture() -> str:
    """A PNG of a chart-like picture (no text), as a data: URL."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 400), "white")
    draw = ImageDraw.Draw(img)
    for i, h in enumerate((120, 260, 180, 320)):
        draw.rectangle((60 + i * 130, 380 - h, 140 + i * 130, 380), fill=(40, 90, 160))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def mixed() -> str:
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Отчёт с графиком</title>
<style>body{{font:12pt serif}} .page{{break-after:page}}</style></head><body>
<div class="page"><p>Первая страница: отчёт о поставках зерна за квартал.</p></div>
<div class="page"><img src="{_picture()}" width="600" height="400" alt=""></div>
<div class="page"><p>Третья страница: выводы о поставках и планы на следующий квартал.</p></div>
</body></html>"""


@pytest.fixture(scope="session")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """english.pdf (3 pages, two running headers and footers), columns.pdf, mixed.pdf (page 2 a picture)."""
    from tests.widget.conftest import chromium_path

    chromium_path()
    pages = {"english": ENGLISH, "columns": COLUMNS, "mixed": mixed(), "table": TABLE}
    return print_pdfs(pages, tmp_path_factory.mktemp("printed"))
