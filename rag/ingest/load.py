"""Load source files into ``Document``s: .txt, .md, .html, .pdf and .docx (see ``rag.ingest.loaders``).

The format is sniffed from the content (PDF and DOCX by their bytes, text formats by suffix). Text
must be UTF-8 (a BOM is dropped) or UTF-16 (see ``loaders.text``). Binary files, files that do not
decode, and PDFs that are encrypted, damaged or have no text layer are refused with a
``DocumentError`` naming the file; ingest reports and skips them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.errors import DocumentError, InputError
from rag.ingest.loaders import SUPPORTED, extract
from rag.types import Document
from rag.validate import CONTROL, SURROGATE

# What a document id must not hold: any control character (line breaks too) or undecodable bytes.
_NOT_A_NAME = re.compile("[\t\n\r]|" + CONTROL.pattern + "|" + SURROGATE.pattern)

__all__ = ["SUPPORTED", "content_hash", "discover", "display_source", "load_bytes", "load_path", "upload_name"]


def content_hash(text: str) -> str:
    """sha256 of the decoded text: what incremental ingest compares."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _title_from_text(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def load_bytes(name: str, data: bytes, doc_id: str | None = None) -> Document:
    """A Document from raw file contents, in whichever supported format they are."""
    got = extract(name, data)
    if not got.text.strip():
        raise DocumentError(name, "no text in file")
    title = got.title or _title_from_text(got.text, Path(name).stem)
    return Document(doc_id or Path(name).name, name, title, got.text, content_hash(got.text), pages=got.pages)


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


def upload_name(name: str) -> str:
    """The document id of an uploaded file: its bare name (a client's directories are never trusted).

    InputError ``missing_filename`` without a name, ``invalid_filename`` for one holding control
    characters (a newline or NUL in a document id breaks every listing that shows it); the format
    itself is sniffed from the bytes.
    """
    bare = Path(name.replace("\\", "/")).name
    if not bare:
        raise InputError("name the file: multipart filename or ?filename=doc.txt", code="missing_filename")
    if _NOT_A_NAME.search(bare):
        raise InputError("the file name holds control characters or bytes that are not UTF-8", code="invalid_filename")
    return bare


def printable(name: str) -> str:
    """A path for messages: bytes that are not UTF-8 as ``\\xNN`` and control characters escaped."""
    raw = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)


def _undecodable(path: Path) -> DocumentError | None:
    """The error for a file name holding bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no index, message or JSON can hold), else None."""
    if not SURROGATE.search(str(path)):
        return None
    return DocumentError(printable(str(path)), "the file name is not valid UTF-8; rename the file")


def _walk(root: Path, problems: list[DocumentError]) -> Iterator[Path]:
    """Every non-hidden file under ``root`` with a supported suffix, sorted; what cannot be listed or
    read as a file is added to ``problems`` (symbolic links to directories are not followed)."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = printable(str(exc.filename or root))
        problems.append(DocumentError(where, f"cannot list directory: {exc.strerror or exc}", listing=True))

    for top, dirs, files in os.walk(root, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            f = Path(top, name)
            if name.startswith(".") or f.suffix.lower() not in SUPPORTED:
                continue
            if bad := _undecodable(f):
                problems.append(bad)
            elif f.is_file():
                found.append(f)
            elif f.is_symlink() and not f.exists():
                problems.append(DocumentError(printable(str(f)), "broken symbolic link"))
            else:
                problems.append(DocumentError(printable(str(f)), "not a regular file"))
    return iter(sorted(found))


def _candidates(paths: Iterable[Path], problems: list[DocumentError]) -> Iterator[tuple[Path, Path]]:
    for p in paths:
        if p.is_dir():
            for f in _walk(p, problems):
                yield f, p
        elif p.is_file():
            if bad := _undecodable(p):
                problems.append(bad)
            else:
                yield p, p.parent
        else:
            raise DocumentError(printable(str(p)), "no such file or directory")


def discover(paths: Iterable[Path], problems: list[DocumentError] | None = None) -> Iterator[tuple[Path, Path]]:
    """(file, root) pairs for every supported file under ``paths``, sorted, hidden files skipped.

    Files and directories that cannot be read as such (a directory that cannot be listed, a name
    that is not UTF-8, a broken link, a pipe) are added to ``problems`` when it is given; a
    ``problems`` entry with ``listing`` set means some files under it went unseen."""
    # A doc_id is the path below its root, so two roots can yield the same id; the index would
    # silently keep only one of the files, hence a DocumentError that names both.
    seen: dict[str, Path] = {}
    for f, root in _candidates(paths, [] if problems is None else problems):
        doc_id = f.relative_to(root).as_posix()
        prev = seen.setdefault(doc_id, f)
        if prev is f:
            yield f, root
        elif prev.resolve() != f.resolve():  # the same file named twice is harmless
            raise DocumentError(
                str(f), f"same document id {doc_id!r} as {prev}: ingest their common parent directory or rename one"
            )
