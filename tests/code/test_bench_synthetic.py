"""The scale benchmark's synthetic corpus: the same from a seed, exact search streamed right, and
clustered vectors shaped like the real embeddings they were fitted to."""

from __future__ import annotations

import numpy as np
import pytest

from bench import synthetic
from bench.fit_vectors import neighbour_stats

DIM = 384


@pytest.mark.parametrize("kind", ["clustered", "uniform"])
def test_exact_top_streams_the_corpus_the_documents_hold(kind: str) -> None:
    docs = synthetic.documents(730, DIM, seed=3, kind=kind)
    again = synthetic.documents(730, DIM, seed=3, kind=kind)  # regenerated identically
    assert [d.chunks for d in docs] == [d.chunks for d in again]
    vectors = np.concatenate([d.vectors for d in docs])
    assert (vectors == np.concatenate([d.vectors for d in again])).all()
    assert vectors.shape == (730, DIM) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    q = synthetic.queries(20, DIM, seed=3, corpus=730, kind=kind)
    want = np.argsort(-(q @ vectors.T), axis=1, kind="stable")[:, :10]
    assert (synthetic.exact_top(730, DIM, 3, q, 10, rows=200, kind=kind) == want).all()
    position = [synthetic.position(c.chunk_id) for d in docs for c in d.chunks]
    assert position == list(range(730))


def test_clustered_vectors_look_like_the_real_ones_and_uniform_ones_do_not() -> None:
    real = synthetic.json.loads(synthetic.VECTORS.read_text(encoding="utf-8"))["real"]
    clustered = neighbour_stats(np.concatenate(list(synthetic._vector_blocks(5000, DIM, 0, "clustered"))))
    uniform = neighbour_stats(np.concatenate(list(synthetic._vector_blocks(5000, DIM, 0, "uniform"))))
    for key in ("pairwise_cos", "mean_norm", "nn1_cos", "nn10_cos"):
        assert clustered[key] == pytest.approx(real[key], abs=0.02), key
    assert uniform["pairwise_cos"] < 0.05 and uniform["nn1_cos"] < 0.5
