"""HTML: the visible text of a page's content, its headings marked, its tables kept as rows.

What is indexed is what a reader of the page came for, not the site around it:

- scripts, styles, forms' buttons, navigation, and the page's own header, footer and asides
  (``<header>``, ``<footer>``, ``<aside>`` outside an ``<article>``, and ARIA ``banner``,
  ``contentinfo``, ``complementary``, ``navigation``, ``search``) are dropped; so are blocks whose
  id or class names them as such (``id="footer"``, ``class="cookie-banner"``, ``breadcrumbs``,
  ``sidebar``, ``menu``) unless they hold the page's ``<main>``, an ``<article>`` or an ``<h1>``.
  A menu repeated into every chunk of a site's pages crowds out their text, and its words
  ("News", "Contact us") match questions about anything.
- when the page marks its content (one ``<main>``, or else one ``<article>``), only that is read.
- ``<h1>``..``<h6>`` become Markdown heading lines (``## Сроки``), so the chunker titles sections
  by them as it does for Markdown and Word, and list items or table rows are not taken for headings.
- a list is one block, an item a line ("- …", or "1. …" in an ``<ol>``), as in Markdown: its items
  stay in one passage with the line that introduces them.
- a data table becomes one line per row, its cells joined by " | " (a cell's text alone was glued
  to the next: "Постоянный2 рабочих дня3 года"); a table used for layout (its cells hold
  paragraphs, lists or tables) is read cell by cell as blocks.

The title is the content's one ``<h1>`` when it has exactly one ("City opens new bridge"), else the
``<title>``, which on most sites names the site or section too ("Главная — Портал сотрудника").
"""

from __future__ import annotations

import re
from typing import Any

from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.text import decode

# Markup that entity decoding can create: "&lt;img onerror=...&gt;" is text in the page, but once
# decoded it would be a live tag to any client that renders answers as HTML. Whole tags are removed;
# a "<" that could still open one gets a space after it, which no HTML parser reads as a tag.
_DECODED_TAG = re.compile(r"<(?:/?[A-Za-z][^<>]*|!--.*?--|![A-Za-z][^<>]*|\?[^<>]*)>", re.S)
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")

_NEVER_TEXT = "script, style, noscript, template, svg, button, nav"
_LANDMARKS = "[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [role=search]"
# An id or class token naming site furniture: "footer", "site-header", "cookie-banner", "main-menu".
_FURNITURE = re.compile(
    r"^(?:(?:site|page|global|main|top|bottom)[-_]?)?"
    r"(?:header|footer|nav|navbar|navigation|menu|breadcrumbs?|sidebar|masthead|topbar"
    r"|cookies?(?:[-_]?(?:banner|notice|consent|bar))?)$",
    re.IGNORECASE,
)
_BLOCKS = "p, div, ul, ol, dl, dt, dd, tr, section, article, blockquote, pre, figcaption, main, header, footer"
_LAYOUT_CELL = "p, div, ul, ol, table, h1, h2, h3, h4, h5, h6, blockquote, pre, section, article"


def strip_markup(text: str) -> str:
    """``text`` (already entity-decoded) with nothing an HTML parser would read as a tag."""
    return _TAG_OPEN.sub("< ", _DECODED_TAG.sub(" ", text))


def _words(node: Any) -> str:
    return " ".join(strip_markup(node.text(separator=" ", strip=False)).split())


def _inside(node: Any, ids: set[int] | None = None, tags: tuple[str, ...] = ()) -> bool:
    """Whether an ancestor of ``node`` is one of ``ids`` (by ``mem_id``) or has one of ``tags``."""
    parent = node.parent
    while parent is not None:
        if parent.tag in tags or (ids and parent.mem_id in ids):
            return True
        parent = parent.parent
    return False


def _furniture(node: Any) -> bool:
    attrs = node.attributes
    tokens = f"{attrs.get('id') or ''} {attrs.get('class') or ''}".split()
    return any(_FURNITURE.match(t) for t in tokens) and not node.css_first("main, article, h1, [role=main]")


def _remove(nodes: list[Any]) -> None:
    """Decompose ``nodes``, outermost only: a node inside one already removed is freed with it."""
    ids = {n.mem_id for n in nodes}
    for node in [n for n in nodes if not _inside(n, ids)]:
        node.decompose()


def _drop_boilerplate(tree: Any) -> None:
    _remove(tree.css(f"{_NEVER_TEXT}, {_LANDMARKS}"))
    _remove([n for n in tree.css("header, footer, aside") if not _inside(n, tags=("article",))])
    _remove([n for n in tree.css("[id], [class]") if _furniture(n)])


def _content(tree: Any) -> Any:
    """The page's marked content (its one <main>, else its one <article>), else its body."""
    for selector in ("main, [role=main]", "article"):
        found = tree.css(selector)
        if len(found) == 1:
            return found[0]
    return tree.body or tree.root


def _tables(root: Any) -> None:
    """Data tables as one " | "-joined line per row; layout tables as one block per cell."""
    for table in reversed(root.css("table")):  # innermost first
        cells = table.css("td, th")
        if any(cell.css_first(_LAYOUT_CELL) for cell in cells):
            for cell in cells:
                cell.insert_after("\n\n")
            continue
        caption = table.css_first("caption")
        rows = [" | ".join(_words(c) for c in row.css("td, th")) for row in table.css("tr")]
        lines = [r for r in rows if r.strip(" |")]
        head = [_words(caption)] if caption is not None and _words(caption) else []
        table.replace_with("\n\n" + "\n\n".join([*head, "\n".join(lines)]) + "\n\n")


def _lists(root: Any) -> None:
    """Each list item on a line of its own, "- " or its number before it; the list one block."""
    for node in root.css("ul, ol"):
        node.insert_before("\n\n")
        start = node.attributes.get("start") or "1"
        first = int(start) if node.tag == "ol" and start.isdigit() else 1
        for k, item in enumerate((c for c in node.iter() if c.tag == "li"), first):
            item.insert_before(f"\n{k}. " if node.tag == "ol" else "\n- ")


def _headings(root: Any) -> None:
    for level in range(1, 7):
        for node in root.css(f"h{level}"):
            words = _words(node)
            node.replace_with(f"\n\n{'#' * level} {words}\n\n" if words else "\n\n")


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page's content and its title, entity-decoded and free of markup."""
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    title_node = tree.css_first("title")
    title = " ".join(strip_markup(title_node.text(strip=True)).split()) if title_node else ""
    _drop_boilerplate(tree)
    root = _content(tree)
    if root is None:
        return "", title
    h1 = root.css("h1")
    if len(h1) == 1 and _words(h1[0]):
        title = _words(h1[0])
    _tables(root)
    _lists(root)
    _headings(root)
    for node in root.css(_BLOCKS):
        node.insert_after("\n\n")  # block boundaries become paragraph breaks
    for node in root.css("br"):
        node.insert_after("\n")  # a line break inside the paragraph (an address, a verse); two end it
    raw = strip_markup(root.text(separator="", strip=False))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, title


def load(name: str, data: bytes) -> Extracted:
    """Visible text and title of an HTML file."""
    text, title = html_to_text(decode(name, data))
    return Extracted(text, title)
