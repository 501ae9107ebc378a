"""The turn index's folding: when rows written reach the indexes.

A row no index covers is searched by brute force (slow at scale), so single
writes fold at once, bulk writes fold when a table has doubled and at the end,
and whatever an interrupted bulk write left is folded by the next ``optimize``.
Checked through a second LanceDB handle, as another reader would see the tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.adapters.turns_lancedb import LanceTurnStore
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import TurnRecord, TurnRef
from where import ROOT

WORDS = ["lighthouse", "violin", "harbour", "pottery", "glacier", "orchard", "compass", "lantern"]
MODEL = "test:model"


def turns(start: int, n: int) -> tuple[list[TurnRecord], list[str]]:
    recs = [
        TurnRecord(id=f"t{i}", entry=f"e{i // 10}", role="user" if i % 2 else "assistant",
                   ts=1_700_000_000_000 + i * 60_000, seq=i % 10,
                   text=f"{WORDS[i % 8]} {WORDS[(i * 3) % 8]} number {i} 灯塔{i % 5}")
        for i in range(start, start + n)
    ]
    return recs, [f"Lin: {r.text}" for r in recs]


def table(path: Path, name: str) -> Any:
    db = lancedb.connect(str(path))
    return db.open_table(name)


def unindexed(path: Path, name: str = "turns") -> int:
    return max(i.num_unindexed_rows or 0 for i in table(path, name).list_indices())


def vec_table(path: Path) -> str:
    names = lancedb.connect(str(path)).list_tables().tables
    return next(n for n in names if n.startswith("tvec_"))


@pytest.fixture
def store(tmp_path: Path) -> LanceTurnStore:
    return LanceTurnStore(tmp_path / "d", ann_min_rows=64)


def test_a_single_write_is_folded_at_once(store: LanceTurnStore) -> None:
    store.add(*turns(0, 30))
    store.add(*turns(30, 5))
    assert unindexed(store.path) == 0
    assert [r.id for r, _ in store.search_text("number 31", 5)][:1] == ["t31"]


def test_bulk_writes_fold_when_the_table_doubles_and_at_the_end(store: LanceTurnStore) -> None:
    seen = []
    with store.bulk():
        for start in range(0, 80, 10):
            store.add(*turns(start, 10))
            seen.append(unindexed(store.path))
    # Folded at 10, 20, 40 and 80 rows: then the rows since the last fold
    # were as many as those before them.
    assert seen == [0, 0, 10, 0, 10, 20, 30, 0]
    store.add(*turns(80, 10))  # outside the block: at once
    assert unindexed(store.path) == 0


def test_a_bulk_block_leaves_no_unindexed_rows(store: LanceTurnStore) -> None:
    rng = np.random.default_rng(1)
    with store.bulk():
        for start in range(0, 150, 50):
            recs, keys = turns(start, 50)
            store.add(recs, keys)
        store.add(*turns(150, 7))
        store.set_vectors([f"t{i}" for i in range(157)], rng.standard_normal((157, 8)), MODEL)
        assert unindexed(store.path) > 0
    assert unindexed(store.path) == 0
    assert unindexed(store.path, vec_table(store.path)) == 0


KILLED_IN_BULK = """
import os, sys
sys.path[:0] = ["tests", "tests/adapters"]
from test_turn_store import LanceTurnStore, turns
store = LanceTurnStore(sys.argv[1])
with store.bulk():
    store.add(*turns(0, 40))
    store.add(*turns(40, 30))
    os._exit(0)  # killed before the block ends
"""


def test_what_an_interrupted_bulk_write_left_is_folded_by_the_next_optimize(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-c", KILLED_IN_BULK, str(path)], check=True, env=env,
                   cwd=ROOT)
    assert unindexed(path) == 30
    store = LanceTurnStore(path)
    store.optimize()
    assert unindexed(path) == 0
    store.optimize()  # nothing left to fold: a no-op
    assert store.count() == 70


QUERIES = ("violin harbour", "灯塔3", "number 55", "glacier")


def test_folding_changes_no_match_and_equals_indexing_at_once(tmp_path: Path) -> None:
    folded = LanceTurnStore(tmp_path / "a")
    with folded.bulk():
        folded.add(*turns(0, 40))
        folded.add(*turns(40, 30))
        assert unindexed(folded.path) == 30
        # Rows not folded yet are found too (LanceDB scores them apart, so only
        # the matches are compared, with a depth above their number).
        before = [{r.id for r, _ in folded.search_text(q, 100)} for q in QUERIES]
    at_once = LanceTurnStore(tmp_path / "b")
    at_once.add(*turns(0, 70))
    after = [folded.search_text(q, 100) for q in QUERIES]
    assert unindexed(folded.path) == 0
    assert before == [{r.id for r, _ in a} for a in after]
    assert all(before)
    scores = [{r.id: s for r, s in a} for a in after]
    assert scores == [{r.id: s for r, s in at_once.search_text(q, 100)} for q in QUERIES]
    assert after[2][0][0] == TurnRef("t55", "e5", 1_700_000_000_000 + 55 * 60_000)


def test_the_vector_index_is_trained_again_when_its_table_doubles(store: LanceTurnStore) -> None:
    rng = np.random.default_rng(2)
    store.add(*turns(0, 300))

    def index() -> Any:
        tab = table(store.path, vec_table(store.path))
        return tab.index_stats(next(iter(tab.list_indices())).name)

    store.set_vectors([f"t{i}" for i in range(70)], rng.standard_normal((70, 8)), MODEL)
    assert index().num_indexed_rows == 70  # trained at ann_min_rows (64)
    store.set_vectors([f"t{i}" for i in range(70, 100)], rng.standard_normal((30, 8)), MODEL)
    assert (index().num_indexed_rows, index().num_indices) == (100, 2)  # extended by a delta
    store.set_vectors([f"t{i}" for i in range(100, 140)], rng.standard_normal((40, 8)), MODEL)
    assert (index().num_indexed_rows, index().num_indices) == (140, 1)  # doubled: trained again
    found = store.search_vector(rng.standard_normal(8), MODEL, 10)
    assert len(found) == 10 and found[0][0] in store.refs([f"t{i}" for i in range(140)]).values()


def test_the_diary_fetches_many_entries_in_one_read(tmp_path: Path) -> None:
    diary = LanceDiaryStore(tmp_path / "d")
    entries = [DiaryEntry(title=f"day {i}", summary=WORDS[i], start_time=i, end_time=i)
               for i in range(5)]
    diary.upsert(entries)
    got = diary.get_many([entries[1].uuid, entries[3].uuid, "missing"])
    assert got == {entries[1].uuid: entries[1], entries[3].uuid: entries[3]}
    assert diary.get_many([]) == {}
    diary.close()


def test_an_older_vector_table_gets_each_turns_entry_and_time(tmp_path: Path) -> None:
    store = LanceTurnStore(tmp_path / "d")
    store.add(*turns(0, 20))
    rng = np.random.default_rng(3)
    store.set_vectors([f"t{i}" for i in range(20)], rng.standard_normal((20, 8)), MODEL)
    name = vec_table(store.path)
    rows = table(store.path, name).search().select(["id", "vector"]).to_arrow()
    schema = table(store.path, name).schema
    older = pa.schema([schema.field("id"), schema.field("vector")], metadata=schema.metadata)
    db = lancedb.connect(str(store.path))
    db.drop_table(name)
    db.create_table(name, rows.append_column("gone", pa.array([False] * 20)).filter(
        pa.array([i != 5 for i in range(20)])).select(["id", "vector"]).cast(older))
    again = LanceTurnStore(store.path)
    assert table(store.path, name).schema.names == ["id", "entry", "ts", "vector"]
    assert again.embedded_count(MODEL, 8) == 19
    assert [r.id for r in again.unembedded(MODEL, 8)] == ["t5"]
    query = rows["vector"].to_pylist()[7]
    best, sim = again.search_vector(query, MODEL, 3)[0]
    assert best == TurnRef("t7", "e0", 1_700_000_000_000 + 7 * 60_000)
    assert sim == pytest.approx(1.0, abs=1e-5)


def test_a_turn_moved_to_another_entry_loses_its_stale_vector(store: LanceTurnStore) -> None:
    store.add(*turns(0, 10))
    store.set_vectors([f"t{i}" for i in range(10)], np.eye(10, 8), MODEL)
    recs, keys = turns(3, 1)
    store.add([TurnRecord(**{**recs[0].__dict__, "entry": "other"})], keys)
    assert [r.id for r in store.unembedded(MODEL, 8)] == ["t3"]
    assert all(r.entry == "e0" for r, _ in store.search_vector(np.ones(8), MODEL, 10))



@pytest.mark.parametrize("excluded", [3, 12])  # fewer than the depth: dropped afterwards; more
def test_excluded_turns_never_come_back_and_the_rest_keep_their_order(
        store: LanceTurnStore, excluded: int) -> None:
    store.add(*turns(0, 80))
    full = store.search_text("lighthouse violin 灯塔", 80)
    skip = [r.id for r, _ in full[:excluded]]
    got = store.search_text("lighthouse violin 灯塔", 10, skip)
    assert len(got) == 10 and not {r.id for r, _ in got} & set(skip)
    rest = [(r.id, s) for r, s in full if r.id not in skip]
    assert [s for _, s in got] == [s for _, s in rest[:10]]  # the next best, same scores


def test_the_searches_see_every_write_at_once(store: LanceTurnStore) -> None:
    rng = np.random.default_rng(4)
    before, after = rng.standard_normal((10, 8)), rng.standard_normal((12, 8))
    store.add(*turns(0, 10))
    store.set_vectors([f"t{i}" for i in range(10)], before, MODEL)
    assert store.search_vector(before[4], MODEL, 1)[0][0].id == "t4"
    assert [r.id for r in store.of_entries(["e0"])] == [f"t{i}" for i in range(10)]
    store.clear()  # the vector table is dropped, then made again
    assert store.search_text("number 4", 5) == [] and store.of_entries(["e0"]) == []
    store.add(*turns(0, 12))
    store.set_vectors([f"t{i}" for i in range(12)], after, MODEL)
    assert store.search_vector(after[11], MODEL, 1)[0][0].id == "t11"
    assert [r.id for r in store.of_entries(["e1"])] == ["t10", "t11"]
    assert store.search_text("number 11", 1)[0][0].id == "t11"


def test_the_building_process_and_a_reopened_one_read_as_many_partitions(
        tmp_path: Path) -> None:
    # A partition per 4 vectors, a search reads one in 5 (one per 20 indexed
    # rows): the index trained at 70 rows and extended to 100 by a delta holds
    # 100 rows in both processes, so both read 5 partitions (the building one
    # read 3, counted from the rows at training).
    rng = np.random.default_rng(4)
    built = LanceTurnStore(tmp_path / "d", ann_min_rows=64, partition_rows=4, min_probes=1)
    built.add(*turns(0, 100))
    built.set_vectors([f"t{i}" for i in range(70)], rng.standard_normal((70, 8)), MODEL)
    query = rng.standard_normal(8)
    built.search_vector(query, MODEL, 5)
    built.set_vectors([f"t{i}" for i in range(70, 100)], rng.standard_normal((30, 8)), MODEL)
    found = built.search_vector(query, MODEL, 5)
    reopened = LanceTurnStore(tmp_path / "d", ann_min_rows=64, partition_rows=4, min_probes=1)
    assert reopened.search_vector(query, MODEL, 5) == found
    name = vec_table(built.path)
    assert built._probes[name] == reopened._probes[name] == 5
