"""Entries and turns without a vector yet (the embedding service was down when
they were written) are not ranked down while they wait for it: their full-text
rank stands in for the vector rank they cannot have (issue 18). Real LanceDB in
a temp dir for the stores; the fusion itself is pure."""

from __future__ import annotations

from pathlib import Path

from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.adapters.turns_lancedb import LanceTurnStore
from dl_app.core.evidence import Matches, turn_scores
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import TurnRecord, TurnRef

T0 = 1_700_000_000_000


def test_a_turn_without_a_vector_scores_as_one_the_vectors_found_alike() -> None:
    waiting, embedded, far = (TurnRef("t-wait", "e1", T0), TurnRef("t-emb", "e2", T0),
                              TurnRef("t-far", "e3", T0))
    m = Matches(turn_text=[(waiting, 8.0), (embedded, 8.0), (far, 4.0)],
                turn_vector={"t-emb": 0.9},
                turns={r.id: r for r in (waiting, embedded, far)},
                entry_text=[], unembedded={"t-wait"})
    scores = turn_scores(m)
    assert scores["t-wait"] == scores["t-emb"] == 1.5
    assert scores["t-far"] == 0.5  # it has a vector, just not a near one: text alone
    # Without the stand-in the waiting turn would have lost to its equal.
    plain = turn_scores(Matches(m.turn_text, m.turn_vector, m.turns, m.entry_text))
    assert plain["t-wait"] < plain["t-emb"]


def entry(uuid: str, title: str, summary: str) -> DiaryEntry:
    return DiaryEntry(uuid=uuid, title=title, summary=summary, start_time=T0, end_time=T0 + 1)


def test_a_diary_entry_without_a_vector_keeps_its_full_text_rank(tmp_path: Path) -> None:
    store = LanceDiaryStore(tmp_path / "diary.lance")
    try:
        embedded = entry("a", "猫咪", "今天去了医院。")
        waiting = entry("b", "猫咪猫咪", "猫咪生病了，猫咪要吃药。")
        store.upsert([embedded], [[1.0, 0.0, 0.0]], "m")
        store.upsert([waiting])  # written while the embedder was down
        text_only = [h.entry.uuid for h in store.search("猫咪", None, "", k=2)]
        assert text_only == ["b", "a"]  # full text prefers the waiting one
        hybrid = store.search("猫咪", [1.0, 0.0, 0.0], "m", k=2)
        assert [h.entry.uuid for h in hybrid] == ["b", "a"]  # and still does with vectors
        # Once it has a vector, the vector ranking counts for real.
        store.upsert([waiting], [[0.0, 1.0, 0.0]], "m")
        hybrid = store.search("猫咪", [1.0, 0.0, 0.0], "m", k=2)
        assert [h.entry.uuid for h in hybrid] == ["a", "b"]
    finally:
        store.close()


def test_the_turn_index_tells_which_turns_lack_a_vector(tmp_path: Path) -> None:
    store = LanceTurnStore(tmp_path / "d")
    try:
        recs = [TurnRecord(id=f"t{i}", entry="e", role="user", ts=T0 + i, seq=i, text=f"话{i}")
                for i in range(3)]
        store.add(recs, [r.text for r in recs])
        assert store.lacking_vectors(["t0", "t1"], "m", 3) == {"t0", "t1"}  # no space yet
        store.set_vectors(["t0", "t2"], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "m")
        assert store.lacking_vectors(["t0", "t1", "t2"], "m", 3) == {"t1"}
        store.set_vectors(["t1"], [[0.0, 0.0, 1.0]], "m")
        assert store.lacking_vectors(["t0", "t1", "t2"], "m", 3) == set()
    finally:
        store.close()
