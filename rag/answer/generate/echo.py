"""A deterministic test double: quotes the first sentence of passage [1] and cites it.

It needs no model and no network and streams word by word, so pipeline, HTTP and widget tests can
check streaming, citations and timing code paths against a real ``Generator``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rag.answer.generate import Generator
from rag.answer.prompt import refusal_message
from rag.types import Passage

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


class EchoGenerator(Generator):
    """Answers with the first sentence of the best passage, followed by ``[1]``."""

    name = "echo"

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        if not passages:
            text = refusal_message(language, self.settings)
        else:
            first = _SENTENCE_END.split(passages[0].chunk.text.strip(), maxsplit=1)[0]
            text = f"{first} [1]"
        yield from re.findall(r"\S+\s*", text)
