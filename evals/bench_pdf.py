"""Which PDF library reads the PDFs users have, and what ingesting a long PDF costs.

Fidelity: the seed article (Russian) and pages of this project's docs (English) are typeset by
three producers (Chromium print-to-PDF, ReportLab, fpdf2); each candidate library extracts the
text, which is compared word by word with the source (difflib ratio over lower-cased words as
spaces delimit them, so a word glued or split at a line end counts, as do running headers left
in: Chromium's "+hf" PDFs carry its default date, title, address and page-number lines). ``rag`` is the project's loader
(pypdfium2 plus rag.ingest.loaders.layout): its extra work is headers, paragraphs and hyphens.

Speed and memory: each library extracts a long Chromium PDF (the seed article repeated, with the
browser's own running header and footer) in a fresh process; peak RSS is measured above the
process's RSS once the library is imported. Ingest: `rag ingest` of that PDF, time and peak RSS,
against the same for the .txt article (the embedder and the index machinery alone).

    .venv/bin/python evals/bench_pdf.py                               # the tables in docs/ingest.md
    .venv/bin/python evals/bench_pdf.py --pages 300 --embedder e5-small
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import docgen  # noqa: E402

SEED = ROOT / "seeds" / "kazakhstan-uzbekistan.ru.txt"
LIBRARIES = {"pypdfium2": "pypdfium2", "pypdf": "pypdf", "pdfminer.six": "pdfminer.six", "rag": "pypdfium2"}


def extract(library: str, path: Path) -> str:
    """The whole text of ``path`` by one library, with its plain text call."""
    if library == "pypdfium2":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(path)
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    if library == "pypdf":
        import pypdf

        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    if library == "pdfminer.six":
        from pdfminer.high_level import extract_text

        return str(extract_text(path))
    from rag.ingest.load import load_bytes

    return load_bytes(path.name, path.read_bytes()).text


def words(text: str) -> list[str]:
    """Lower-cased words as spaces delimit them: "культурно-" + "гуманитарного" is not one word."""
    return unicodedata.normalize("NFKC", text.replace("\ufffe", "-")).lower().split()


def fidelity(source: str, got: str) -> float:
    return difflib.SequenceMatcher(None, words(source), words(got), autojunk=False).ratio()


def english_source() -> str:
    """Prose from docs/*.md with the Markdown taken out: code, tables and links."""
    out = []
    for md in ("answering.md", "evals.md", "api.md"):
        text = re.sub(r"```.*?```", "", (ROOT / "docs" / md).read_text(encoding="utf-8"), flags=re.S)
        for para in re.split(r"\n\s*\n", text):
            if para.lstrip().startswith(("|", "<", "-", "    ")):
                continue
            para = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", para)
            para = " ".join(re.sub(r"[`*#]", "", para).split())
            if len(para) > 40:
                out.append(para)
    return "\n\n".join(out)


def producers(tmp: Path, sources: dict[str, str]) -> dict[tuple[str, str], Path]:
    """(producer, language) -> PDF, both articles through every producer."""
    pages = {lang: docgen.article_html(text, f"bench {lang}", lang) for lang, text in sources.items()}
    out: dict[tuple[str, str], Path] = {}
    for producer, frame in (("chromium", False), ("chromium+hf", True)):
        printed = docgen.print_pdfs({lang: page for lang, page in pages.items()}, tmp / producer, frame)
        out |= {(producer, lang): path for lang, path in printed.items()}
    for lang, text in sources.items():
        paras = [t for _, t in docgen.blocks(text)]
        for name, make in (("reportlab", docgen.reportlab_pdf), ("fpdf2", docgen.fpdf2_pdf)):
            path = tmp / f"{name}-{lang}.pdf"
            path.write_bytes(make(paras, f"bench {lang}"))
            out[(name, lang)] = path
    return dict(sorted(out.items()))


def long_pdf(tmp: Path, pages: int) -> Path:
    """The seed article, repeated under numbered part headings, to about ``pages`` pages."""
    text = SEED.read_text(encoding="utf-8")
    copies = max(1, round(pages / 7))  # one copy prints on about seven pages
    body = "".join(f"Часть {i + 1}\n\n{text}\n\n" for i in range(copies))
    return docgen.print_pdfs({"long": docgen.article_html(body, "Длинный документ")}, tmp)["long"]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


IMPORTS = {"pypdfium2": "pypdfium2", "pypdf": "pypdf", "pdfminer.six": "pdfminer.high_level", "rag": "rag.ingest.load"}


def child(library: str, path: str) -> None:
    """In a fresh process: import, then extract; print seconds, pages and peak RSS above the start."""
    import importlib

    import pypdfium2 as pdfium

    importlib.import_module(IMPORTS[library])
    pages = len(pdfium.PdfDocument(path))
    base = _rss_mb()
    t = time.perf_counter()
    extract(library, Path(path))
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "pages": pages, "peak_mb": peak, "above_mb": peak - base}))


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600, check=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def ingest_cost(path: Path, embedder: str) -> dict[str, float]:
    """Seconds and peak RSS of `rag ingest PATH` into a fresh index, in its own process."""
    code = (
        "import json, resource, sys, time; from rag.cli import main; t = time.perf_counter(); "
        f"rc = main(['ingest', {str(path)!r}, '--index', sys.argv[1], '--quiet']); "
        "print(json.dumps({'rc': rc, 'seconds': time.perf_counter() - t, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    with tempfile.TemporaryDirectory() as idx:
        return run_child([sys.executable, "-c", code, idx], env={**os.environ, "RAG_EMBEDDER": embedder})


def licence(dist: str) -> str:
    meta = importlib.metadata.metadata(dist)
    return ", ".join(str(meta["License-Expression"] or meta["License"] or "?").split(", ")[:2])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=300, help="length of the long PDF (default 300)")
    ap.add_argument("--embedder", default="hashing", help="embedder for the ingest run (default hashing)")
    ap.add_argument("--child", nargs=2, metavar=("LIBRARY", "PDF"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sources = {"ru": SEED.read_text(encoding="utf-8"), "en": english_source()}
        pdfs = producers(tmp, sources)
        print("| library | " + " | ".join(f"{p} {lang}" for p, lang in pdfs) + " |")
        print("|---" * (len(pdfs) + 1) + "|")
        for lib in LIBRARIES:
            cells = [f"{fidelity(sources[lang], extract(lib, path)):.4f}" for (_, lang), path in pdfs.items()]
            print(f"| {lib} | " + " | ".join(cells) + " |")

        big = long_pdf(tmp, args.pages)
        print("\n| library | licence | ms per page | peak RSS above start, MB |\n|---|---|---|---|")
        for lib, dist in LIBRARIES.items():
            r = run_child([sys.executable, __file__, "--child", lib, str(big)])
            n_pages = int(r["pages"])
            print(f"| {lib} | {licence(dist)} | {1000 * r['seconds'] / n_pages:.1f} | {r['above_mb']:.0f} |")
        print(f"({n_pages} pages)")

        small, large = ingest_cost(SEED, args.embedder), ingest_cost(big, args.embedder)
        print(
            f"\n`rag ingest` with {args.embedder}: seed .txt {small['seconds']:.1f} s, peak {small['peak_mb']:.0f} MB; "
            f"the long PDF {large['seconds']:.1f} s ({1000 * large['seconds'] / n_pages:.0f} ms/page), "
            f"peak {large['peak_mb']:.0f} MB, {large['peak_mb'] - small['peak_mb']:.0f} MB above the .txt run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
