"""Checks on what a caller asks for, at the edge of the core: one function per input kind.

`rag ask`, `rag search`, ``/v1/ask``, ``/v1/search`` and ``/v1/chat/completions`` run what they are
given through these as they parse it, before an index or a model is loaded, and hand the core
(``rag.answer.pipeline``, ``Retriever.search``) checked values only. So bad input gets the same
message and the same ``InputError.code`` everywhere: the CLI prints it (exit 2, the code in batch
JSON), the HTTP API maps the code to a status (docs/api.md). The two inputs whose valid values
live in a registry are checked beside it: a generator name by ``rag.answer.generate.generator_name``,
an uploaded file's name by ``rag.ingest.load.upload_name``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.config import SEARCH_MODES
from rag.errors import InputError

if TYPE_CHECKING:
    from rag.config import Settings

SURROGATE = re.compile("[\ud800-\udfff]")  # a lone half of a UTF-16 pair, or undecodable bytes
# Control characters other than tab and line breaks (C0, DEL and C1).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text(value: object, settings: Settings, what: str = "question") -> str:
    """``value`` without surrounding whitespace; InputError if not a string, empty or too long.

    ``what`` names the input in the message and the code: ``question_too_long``, ``query_too_long``.
    """
    if not isinstance(value, str):
        raise InputError(f"the {what} must be a string")
    stripped = CONTROL.sub(" ", value).strip()  # a stray NUL or escape is not a question
    if not stripped:
        raise InputError(f"the {what} is empty")
    limit = settings.max_question_chars
    if len(stripped) > limit:
        raise InputError(f"the {what} has {len(stripped)} characters; the limit is {limit}", code=f"{what}_too_long")
    if SURROGATE.search(stripped):  # undecodable bytes from a shell or a pipe, or a lone UTF-16 half
        raise InputError(f"the {what} is not valid text: it holds bytes that are not UTF-8")
    return stripped


def shown(value: str) -> str:
    """``value`` as it can be echoed back (batch rows, messages): bytes that are not UTF-8 become
    U+FFFD, so the output stays valid UTF-8 whatever the input held."""
    return SURROGATE.sub("\ufffd", value)


def top_k(value: int | None, settings: Settings) -> int:
    """How many passages to retrieve: ``value`` within 1..max_top_k, or the default for None."""
    if value is None:
        return settings.top_k
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= settings.max_top_k:
        raise InputError(f"top_k must be between 1 and {settings.max_top_k}", code="invalid_top_k")
    return value


def search_mode(value: str | None, settings: Settings) -> str:
    """One of ``SEARCH_MODES``, or the default mode for None."""
    if value is None:
        return settings.search_mode
    if value not in SEARCH_MODES:
        raise InputError(f"unknown search mode {value!r}; use one of: {', '.join(SEARCH_MODES)}", code="invalid_mode")
    return value
