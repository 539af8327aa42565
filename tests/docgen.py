"""Documents made on the spot by real producers, for the loader tests and evals/bench_pdf.py.

No binary fixture is stored or downloaded: PDFs come from Debian's Chromium (print-to-PDF, the
way a user saves a web page), ReportLab and fpdf2; a scan is a picture of text saved as PDF by
Pillow; DOCX files come from python-docx. Russian text needs a font with Cyrillic: DejaVu
(fonts-dejavu-core, installed by scripts/system-deps.sh).
"""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def blocks(text: str) -> list[tuple[str, str]]:
    """(kind, text) per paragraph of a plain-text article: "h" for a heading line, else "p"."""
    out = []
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if para:
            heading = len(para) <= 120 and para[-1] not in ".!?:;,…" and para[0].isupper() and "\n" not in para
            out.append(("h" if heading else "p", para))
    return out


def article_html(text: str, title: str, lang: str = "ru", css: str = "") -> str:
    """An HTML page of a plain-text article: headings as <h2>, paragraphs as <p>."""
    body = "".join(
        f"<{'h2' if k == 'h' else 'p'}>{html.escape(t)}</{'h2' if k == 'h' else 'p'}>" for k, t in blocks(text)
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>body{{font:12pt/1.45 'DejaVu Serif',serif}} {css}</style></head><body>{body}</body></html>"
    )


def chromium() -> str | None:
    """Debian's Chromium, if installed."""
    return shutil.which("chromium")


def print_pdfs(pages: Mapping[str, str], outdir: Path, header_footer: bool = True) -> dict[str, Path]:
    """Print each HTML page to ``outdir/<name>.pdf`` with headless Chromium, all at once.

    With ``header_footer`` Chromium adds its default running header (date, title) and footer
    (address, "n/N"), as a user's Ctrl+P does.
    """
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name, page in pages.items():
        src = outdir / f"{name}.html"
        src.write_text(page, encoding="utf-8")
        flags = [*CHROMIUM_FLAGS, *([] if header_footer else ["--no-pdf-header-footer"])]
        # Each run gets its own profile, so several can print at once.
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        cmd = [exe, *flags, f"--user-data-dir={profile}", f"--print-to-pdf={outdir / name}.pdf", src.as_uri()]
        procs[name] = (subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), profile)
    out = {}
    for name, (proc, profile) in procs.items():
        _, err = proc.communicate(timeout=180)
        shutil.rmtree(profile, ignore_errors=True)
        pdf = outdir / f"{name}.pdf"
        if proc.returncode != 0 or not pdf.exists():
            raise RuntimeError(f"chromium could not print {name}: {err.decode(errors='replace')[-500:]}")
        out[name] = pdf
    return out


def reportlab_pdf(paragraphs: Sequence[str], title: str = "") -> bytes:
    """Flowing paragraphs typeset by ReportLab (Platypus) in DejaVu Sans."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    style = ParagraphStyle("body", fontName="DejaVuSans", fontSize=11, leading=15, spaceAfter=8)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title)
    doc.build([Paragraph(html.escape(p), style) for p in paragraphs])
    return buf.getvalue()


def fpdf2_pdf(paragraphs: Sequence[str], title: str = "") -> bytes:
    """Flowing paragraphs typeset by fpdf2 in DejaVu Sans."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    for p in paragraphs:
        pdf.multi_cell(0, 6, p, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def scan_pdf(lines: Sequence[str], pages: int = 1) -> bytes:
    """A 'scanned' PDF: pictures of text, no text layer (Pillow draws them and saves the PDF)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 28)
    images = []
    for _ in range(pages):
        img = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            draw.text((100, 120 + 44 * i), line, fill="black", font=font)
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()


def encrypt(pdf: bytes, user_password: str, owner_password: str | None = None) -> bytes:
    """The same PDF protected by pypdf (RC4-128: no crypto library needed)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(user_password, owner_password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def docx_bytes(items: Sequence[tuple[str, str]], title: str = "") -> bytes:
    """A Word document: ("h1".."h3", text) headings, ("p", text) paragraphs, ("table", "a|b\\nc|d"),
    ("li", text) and ("ol", text) items of a bulleted and a numbered list."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for kind, text in items:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            rows = [r.split("|") for r in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif kind in ("li", "ol"):
            document.add_paragraph(text, style="List Bullet" if kind == "li" else "List Number")
        else:
            document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def article_docx(text: str, title: str) -> bytes:
    """A plain-text article as Word: headings in the "Heading 2" style."""
    return docx_bytes([("h2" if k == "h" else "p", t) for k, t in blocks(text)], title)


def _rezip(data: bytes, change: Mapping[str, bytes | None]) -> bytes:
    """The zip ``data`` with the members named in ``change`` replaced (or, for None, left out)."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            raw = change.get(item.filename, src.read(item))
            if raw is not None:
                z.writestr(item, raw)
    return out.getvalue()


def _bad_crc(data: bytes, member: str) -> bytes:
    """The zip ``data`` with one byte of ``member``'s compressed data flipped."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 20
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


DOCX_DAMAGED = "damaged .docx that cannot be read: open it in Word or LibreOffice and save it again"
PDF_DAMAGED = "damaged PDF that cannot be read (truncated or corrupt): copy or export it again"


def damaged_documents() -> dict[str, tuple[bytes, str]]:
    """Damaged or locked Word and PDF files: name -> (bytes, the whole reason ingest must give)."""
    good = docx_bytes([("h1", "Заметки"), ("p", "Совещание перенесли на пятницу.")])
    document = zipfile.ZipFile(io.BytesIO(good)).read("word/document.xml")
    # Word keeps a password-protected .docx in an OLE file whose "EncryptedPackage" stream holds it;
    # the header and that directory entry name are all a reader can see without the password.
    locked = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(96)
    pdf = reportlab_pdf(["Квартальный отчёт о поставках зерна и муки. " * 10] * 3, "Отчёт")
    return {
        "cut.docx": (good[: len(good) // 2], "damaged .docx (not a readable zip archive)"),
        "no-body.docx": (_rezip(good, {"word/document.xml": None}), "damaged .docx (no word/document.xml inside)"),
        "bad-xml.docx": (_rezip(good, {"word/document.xml": document[: len(document) // 2]}), DOCX_DAMAGED),
        "no-types.docx": (_rezip(good, {"[Content_Types].xml": None}), DOCX_DAMAGED),
        "bad-crc.docx": (_bad_crc(good, "word/document.xml"), DOCX_DAMAGED),
        "locked.docx": (locked, "encrypted .docx: it needs a password; save an unprotected copy"),
        "cut.pdf": (pdf[: len(pdf) // 2], PDF_DAMAGED),
        "garbage.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 8, PDF_DAMAGED),
        "secret.pdf": (encrypt(pdf, "secret"), "encrypted PDF: it needs a password; save an unprotected copy"),
    }
