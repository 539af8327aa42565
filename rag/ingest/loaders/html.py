"""HTML: the visible text of the page (scripts, styles and navigation dropped) and its ``<title>``."""

from __future__ import annotations

import re

from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.text import decode


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page and its <title>."""
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else ""
    for node in tree.css("script, style, noscript, template, nav, svg"):
        node.decompose()
    for node in tree.css("p, div, li, h1, h2, h3, h4, h5, h6, tr, br, section, article, blockquote, pre"):
        node.insert_after("\n\n")  # block boundaries become paragraph breaks
    body = tree.body or tree.root
    raw = body.text(separator="", strip=False) if body is not None else ""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title


def load(name: str, data: bytes) -> Extracted:
    """Visible text and title of an HTML file."""
    text, title = html_to_text(decode(name, data))
    return Extracted(text, title)
