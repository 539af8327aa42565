"""Any sentence-transformers model, by hub name or local path, loaded without network access.

e5-family models need ``query: `` / ``passage: `` prefixes; they are added when the model name
contains ``e5`` (bge-m3 and most others need none). Models that define prompts of their own
("query"/"passage"/"document") get them through sentence-transformers' ``prompt_name``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from rag.embed import normalize
from rag.errors import EmbedderError

log = logging.getLogger(__name__)


def _why(model: str) -> str:
    """What is wrong with a model that did not load, told by where it was looked for."""
    if os.path.isdir(model):
        return "the directory is not a model directory sentence-transformers can load"
    if os.path.isabs(model) or model.startswith(("./", "../", "~")):
        return "there is no such directory"
    return (
        "it is not in the local Hugging Face cache, and models are not downloaded at run time: "
        "run once with HF_HUB_OFFLINE=0 to fetch it, or give a local model directory"
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU."""

    def __init__(self, model: str) -> None:
        self.name = f"sentence-transformers:{model}"
        # Never reach for the hub at run time: a name must already be in the local cache.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence-transformers is not installed; install the 'st' extra: pip install -e '.[st]'"
            ) from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            # Its words are lines long and name the hub's URLs and config keys: logged, not shown.
            log.debug("sentence-transformers could not load %r: %s", model, exc)
            raise EmbedderError(f"could not load sentence-transformers model {model!r}: {_why(model)}") from exc
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            raise EmbedderError(f"model {model!r} does not report an embedding dimension")
        self.dim = int(dim)
        lowered = os.path.basename(model.rstrip("/")).lower() + model.lower()
        self._prefixes = ("query: ", "passage: ") if "e5" in lowered else ("", "")
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = next((p for p in ("passage", "document") if p in prompts), None)

    @property
    def max_tokens(self) -> int:
        """The model's window (its ``max_seq_length``), in its own tokens."""
        return int(getattr(self._model, "max_seq_length", None) or 512)

    def count_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of ``text`` as a passage, specials included."""
        return len(self._model.tokenizer(self._prefixes[1] + text, truncation=False)["input_ids"])

    def _encode(self, texts: Sequence[str], prefix: str, prompt_name: str | None) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        items = [prefix + t for t in texts] if prompt_name is None else list(texts)
        vecs = self._model.encode(
            items, batch_size=16, convert_to_numpy=True, show_progress_bar=False, prompt_name=prompt_name
        )
        return normalize(np.asarray(vecs))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0], self._query_prompt)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1], self._passage_prompt)
