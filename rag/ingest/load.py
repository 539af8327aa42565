"""Load source files into ``Document``s: .txt, .md and .html (reduced to its visible text).

Text must be UTF-8 (a BOM is dropped) or UTF-16 with a BOM. Binary files (a NUL byte in the first
8 KiB) and files that do not decode are refused with a ``DocumentError`` naming the file; ingest
reports and skips them.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.errors import DocumentError, InputError
from rag.types import Document

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm")


def content_hash(text: str) -> str:
    """sha256 of the decoded text: what incremental ingest compares."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode(name: str, data: bytes) -> str:
    """UTF-8 text of ``data`` (or UTF-16 with a byte-order mark), or a DocumentError that says why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode" text files
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(
                name, "not valid UTF-16 despite its byte-order mark: re-save the file as UTF-8"
            ) from None
    if b"\x00" in data[:8192]:
        raise DocumentError(name, "binary file (contains NUL bytes), skipped")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, f"not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Markup that entity decoding can create: "&lt;img onerror=...&gt;" is text in the page, but once
# decoded it would be a live tag to any client that renders answers as HTML. Whole tags are removed;
# a "<" that could still open one gets a space after it, which no HTML parser reads as a tag.
_DECODED_TAG = re.compile(r"<(?:/?[A-Za-z][^<>]*|!--.*?--|![A-Za-z][^<>]*|\?[^<>]*)>", re.S)
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def strip_markup(text: str) -> str:
    """``text`` (already entity-decoded) with nothing an HTML parser would read as a tag."""
    return _TAG_OPEN.sub("< ", _DECODED_TAG.sub(" ", text))


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page (scripts, styles and navigation dropped) and its <title>,
    entity-decoded and free of markup."""
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


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def check_type(name: str) -> str:
    """The lower-cased suffix of ``name``; DocumentError ``unsupported_file_type`` if ingest cannot read it."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(
            name, f"unsupported file type; supported: {', '.join(SUPPORTED)}", code="unsupported_file_type"
        )
    return suffix


def upload_name(name: str) -> str:
    """The document id of an uploaded file: its bare name (a client's directories are never trusted).

    InputError ``missing_filename`` without a name, DocumentError ``unsupported_file_type`` for a
    suffix ingest cannot read: both before the upload costs any work.
    """
    bare = Path(name.replace("\\", "/")).name
    if not bare:
        raise InputError("name the file: multipart filename or ?filename=doc.txt", code="missing_filename")
    check_type(bare)
    return bare


def load_bytes(name: str, data: bytes, doc_id: str | None = None) -> Document:
    """A Document from raw file contents; ``name`` decides the format by its suffix."""
    suffix = check_type(name)
    text = decode(name, data)
    title = ""
    if suffix in (".html", ".htm"):
        text, title = html_to_text(text)
    if not text.strip():
        raise DocumentError(name, "no text in file")
    title = title or _title_from_text(text, Path(name).stem)
    return Document(doc_id or Path(name).name, name, title, text, content_hash(text))


def load_path(path: Path, root: Path | None = None) -> Document:
    """Read one file; its doc_id is its path relative to ``root`` (or its name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(str(path), f"cannot read: {exc.strerror or exc}") from None
    doc_id = path.relative_to(root).as_posix() if root is not None and root != path else path.name
    doc = load_bytes(str(path), data, doc_id=doc_id)
    return dataclasses.replace(doc, source=display_source(path, root, doc_id), path=str(path.resolve()))


def display_source(path: Path, root: Path | None, doc_id: str) -> str:
    """The source shown with citations: the path as given when it is relative and stays inside the
    working directory, else the root directory's name and the doc_id (no absolute paths leave)."""
    if not path.is_absolute() and ".." not in path.parts:
        return path.as_posix()
    folder = root.name if root is not None and root != path else ""
    return f"{folder}/{doc_id}" if folder else doc_id


def _candidates(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if f.is_file() and f.suffix.lower() in SUPPORTED and not any(s.startswith(".") for s in rel.parts):
                    yield f, p
        elif p.is_file():
            yield p, p.parent
        else:
            raise DocumentError(str(p), "no such file or directory")


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) pairs for every supported file under ``paths``, sorted, hidden files skipped."""
    # A doc_id is the path below its root, so two roots can yield the same id; the index would
    # silently keep only one of the files, hence a DocumentError that names both.
    seen: dict[str, Path] = {}
    for f, root in _candidates(paths):
        doc_id = f.relative_to(root).as_posix()
        prev = seen.setdefault(doc_id, f)
        if prev is f:
            yield f, root
        elif prev.resolve() != f.resolve():  # the same file named twice is harmless
            raise DocumentError(
                str(f), f"same document id {doc_id!r} as {prev}: ingest their common parent directory or rename one"
            )
