"""What every loader returns, and the one function it implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Extracted:
    """A file's text as it will be indexed, its title when the file names one, and its pages."""

    text: str
    title: str = ""
    # Paged formats: the offset in ``text`` where each page starts (a "\f" ends every page but the last).
    pages: tuple[int, ...] = ()


class Loader(Protocol):
    """Turns the bytes of one file into text; raises DocumentError (naming the file) when it cannot."""

    def __call__(self, name: str, data: bytes) -> Extracted: ...
