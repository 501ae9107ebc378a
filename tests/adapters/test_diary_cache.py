"""The diary store's copy of its entries in memory (``diary_cache``): every
write path is seen by the next read, another process's writes too, and a
reopened store reads what was written. Real LanceDB in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from dl_app.adapters.diary_cache import EntryCache, changed, row_of
from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.core.models import DiaryEntry

T0 = 1_700_000_000_000
DIM = 4
MODEL = "test:model"


def entry(uuid: str, title: str, summary: str = "a summary", day: int = 0) -> DiaryEntry:
    start = T0 + day * 86_400_000
    return DiaryEntry(uuid=uuid, title=title, summary=summary, start_time=start,
                      end_time=start + 60_000, source_ids=[f"{uuid}-m1", f"{uuid}-m2"])


def vec(i: int) -> list[float]:
    return [1.0 if j == i % DIM else 0.1 for j in range(DIM)]


@pytest.fixture
def store(tmp_path: Path):
    s = LanceDiaryStore(tmp_path / "diary.lance")
    yield s
    s.close()


def cached(store: LanceDiaryStore) -> bool:
    """The copy in memory is of the table's latest version (no reload due)."""
    return store._cache.rows(store._latest()) is not None


def test_every_write_path_is_seen_by_the_next_read(store: LanceDiaryStore) -> None:
    store.upsert([entry("a", "walk by the lake"), entry("b", "hotpot night", day=1)])
    assert {u: e.title for u, e in store.get_many(["a", "b", "x"]).items()} == {
        "a": "walk by the lake", "b": "hotpot night"}
    assert cached(store) and store.count() == 2
    store.upsert([entry("a", "walk by the sea")], [vec(0)], MODEL)  # changed text, with a vector
    assert store.get("a") == entry("a", "walk by the sea") and cached(store)
    assert [h.entry.title for h in store.search("sea", vec(0), MODEL, k=1)] == ["walk by the sea"]
    assert store.delete("b") and store.get_many(["a", "b"]).keys() == {"a"}
    assert store.count() == 1 and cached(store)
    store.optimize()
    assert cached(store) and [e.uuid for e in store.list()] == ["a"]
    store.clear()
    assert store.get("a") is None and store.count() == 0 and store.list() == []
    assert cached(store)
    store.upsert([entry("c", "after the clear")])
    assert store.get_many(["a", "c"]).keys() == {"c"} and store.count() == 1


def test_another_process_writes_are_seen(tmp_path: Path, store: LanceDiaryStore) -> None:
    store.upsert([entry("a", "first"), entry("b", "second")])
    assert store.get("a") is not None and cached(store)
    other = LanceDiaryStore(tmp_path / "diary.lance")  # as `dl-app memory import` beside the app
    try:
        other.upsert([entry("a", "first, edited"), entry("c", "third")])
        other.delete("b")
        assert not cached(store)
        assert {u: e.title for u, e in store.get_many(["a", "b", "c"]).items()} == {
            "a": "first, edited", "c": "third"}
        assert cached(store) and store.count() == 2
        # A write of this store after the other's: its copy is loaded again, not
        # patched on top of what it had not seen.
        other.upsert([entry("d", "fourth")])
        store.upsert([entry("e", "fifth")])
        assert sorted(store.get_many(list("abcde"))) == ["a", "c", "d", "e"]
        assert store.count() == 4
    finally:
        other.close()


def test_a_reopened_store_reads_what_was_written(tmp_path: Path) -> None:
    first = LanceDiaryStore(tmp_path / "diary.lance")
    first.upsert([entry(f"e{i}", f"title {i}", day=i) for i in range(30)])
    first.delete("e3")
    first.upsert([entry("e4", "title four", day=4)])
    first.close()
    again = LanceDiaryStore(tmp_path / "diary.lance")
    try:
        assert again.count() == 29
        got = again.get_many(["e3", "e4", "e29"])
        assert got == {"e4": entry("e4", "title four", day=4), "e29": entry("e29", "title 29",
                                                                            day=29)}
    finally:
        again.close()


def test_a_changed_result_does_not_change_the_copy(store: LanceDiaryStore) -> None:
    store.upsert([entry("a", "original")])
    got = store.get("a")
    assert got is not None
    got.title = "changed by a caller"
    got.source_ids.append("x")
    assert store.get("a") == entry("a", "original")


def test_a_load_that_a_write_overtook_is_not_kept() -> None:
    """A read that loaded the table before a write finished offers its rows
    after the write made the copy newer: the copy keeps the write's version."""
    cache = EntryCache()
    cache.offer(3, {"a": row_of(entry("a", "old"))})
    rows = cache.begin(3)
    assert rows is not None
    cache.commit(5, changed(rows, upserted=[entry("a", "new")]))
    cache.offer(4, {"a": row_of(entry("a", "old"))})  # loaded at version 4, offered late
    assert cache.rows(4) is None and cache.rows(5) == {"a": row_of(entry("a", "new"))}
    assert cache.begin(6) is None and cache.count() is None  # stale before a write: dropped
