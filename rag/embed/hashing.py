"""A deterministic fake embedder for unit tests: hashed character trigrams and words.

It needs no model and gives the same vectors on every machine, while still ranking texts that
share words above texts that don't, so retrieval tests stay meaningful.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from rag.embed import normalize

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Feature hashing of lower-cased words and character trigrams."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = "hashing" if dim == 256 else f"hashing:{dim}"

    def vector_identity(self) -> str:
        """Vectors are a function of the text and the dimension."""
        return f"{self.name}-v1"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            feats = [word] + [word[i : i + 3] for i in range(max(len(word) - 2, 1))]
            for f in feats:
                h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return v

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return normalize(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)
