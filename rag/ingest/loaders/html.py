"""HTML: the visible text of the page (scripts, styles and navigation dropped) and its ``<title>``."""

from __future__ import annotations

import re

from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.text import decode

# Markup that entity decoding can create: "&lt;img onerror=...&gt;" is text in the page, but once
# decoded it would be a live tag to any client that renders answers as HTML. Whole tags are removed;
# a "<" that could still open one gets a space after it, which no HTML parser reads as a tag.
_DECODED_TAG = re.compile(r"<(?:/?[A-Za-z][^<>]*|!--.*?--|![A-Za-z][^<>]*|\?[^<>]*)>", re.S)
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def strip_markup(text: str) -> str:
    """``text`` (already entity-decoded) with nothing an HTML parser would read as a tag."""
    return _TAG_OPEN.sub("< ", _DECODED_TAG.sub(" ", text))


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page and its <title>, entity-decoded and free of markup."""
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    title_node = tree.css_first("title")
    title = strip_markup(title_node.text(strip=True)).strip() if title_node else ""
    for node in tree.css("script, style, noscript, template, nav, svg"):
        node.decompose()
    for node in tree.css("p, div, li, h1, h2, h3, h4, h5, h6, tr, br, section, article, blockquote, pre"):
        node.insert_after("\n\n")  # block boundaries become paragraph breaks
    body = tree.body or tree.root
    raw = strip_markup(body.text(separator="", strip=False)) if body is not None else ""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title


def load(name: str, data: bytes) -> Extracted:
    """Visible text and title of an HTML file."""
    text, title = html_to_text(decode(name, data))
    return Extracted(text, title)
