"""The SQLite state store: transactions, consolidation, history, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dl_app.adapters.state_sqlite import SqliteStateStore
from dl_app.core.errors import StoreError
from dl_app.core.models import (
    ArchivedMessage,
    DiaryEntry,
    MemorySnapshot,
    Message,
    PendingConsolidation,
    Profile,
)

DEFAULT = Profile(
    self_name="小叶子", user_name="旅行者", memory_about_self="我是学生。", memory_about_user=""
)


def msg(role: str, text: str, ts: int) -> Message:
    return Message(role=role, content=text, timestamp=ts)  # type: ignore[arg-type]


def test_fresh_store_has_default_profile(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    state = store.load()
    assert state.profile == DEFAULT and state.messages == [] and state.summary == ""


def test_turns_persist_across_reopen(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    store.commit_turn([msg("user", "你好", 1), msg("assistant", "你好呀", 2)], [])
    store.set_summary("打了招呼", 2)
    store.close()
    state = SqliteStateStore(tmp_path / "s.db", DEFAULT).load()
    assert [m.content for m in state.messages] == ["你好", "你好呀"]
    assert (state.summary, state.folded_count) == ("打了招呼", 2)


def test_consolidation_archives_and_applies_profile_once(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    msgs = [msg("user", "我养了猫", 10), msg("assistant", "好可爱", 11)]
    store.commit_turn(
        msgs, [DiaryEntry(uuid="r", title="t", summary="s", start_time=1, end_time=1)]
    )
    entry = DiaryEntry(uuid="e1", title="猫", summary="用户养猫", start_time=10, end_time=11)
    pending = PendingConsolidation(
        entry=entry,
        memory_about_self="我喜欢猫。",
        memory_about_user="用户养了猫。",
        message_ids=[m.id for m in msgs],
    )
    store.begin_consolidation(pending)
    assert store.pending_consolidation() == pending
    store.finish_consolidation()
    store.finish_consolidation()  # a second call (recovery replay) changes nothing
    state = store.load()
    assert state.messages == [] and state.recalled == [] and state.summary == ""
    assert state.profile.memory_about_user == "用户养了猫。"
    archive = store.archive()
    assert [(a.content, a.belong_to) for a in archive] == [("我养了猫", "e1"), ("好可爱", "e1")]
    assert store.first_archived_time() == 10
    assert store.pending_consolidation() is None
    history = store.profile_history()
    assert history[0][1] == DEFAULT


def test_archive_lists_newest_conversation_first(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    for i, uuid in enumerate(["old", "new"]):
        ms = [msg("user", f"{uuid}-a", 100 * i), msg("assistant", f"{uuid}-b", 100 * i + 1)]
        store.commit_turn(ms, [])
        store.begin_consolidation(
            PendingConsolidation(
                entry=DiaryEntry(uuid=uuid, title=uuid, summary="s", start_time=0, end_time=0),
                memory_about_self="",
                memory_about_user="",
                message_ids=[m.id for m in ms],
            )
        )
        store.finish_consolidation()
    assert [a.content for a in store.archive()] == ["new-a", "new-b", "old-a", "old-b"]
    assert store.delete_archived("old") == 2
    assert [a.content for a in store.archive()] == ["new-a", "new-b"]


def test_replace_all_keeps_archive_order_and_profile_history(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    store.commit_turn([msg("user", "will be replaced", 1)], [])
    snap = MemorySnapshot(
        profile=Profile(self_name="A", user_name="B", memory_about_self="x", memory_about_user="y"),
        current_summary="sum",
        conversation=[msg("user", "cur", 50)],
        archive=[
            ArchivedMessage(role="user", content="n1", timestamp=20, belong_to="n"),
            ArchivedMessage(role="user", content="o1", timestamp=10, belong_to="o"),
        ],
    )
    store.replace_all(snap)
    state = store.load()
    assert state.profile.self_name == "A" and state.summary == "sum"
    assert [m.content for m in state.messages] == ["cur"]
    assert state.folded_count == 1  # the original's summary covered its messages
    assert [a.content for a in store.archive()] == ["n1", "o1"]
    assert store.profile_history()[0][1] == DEFAULT


def test_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    first = msg("user", "a", 1)
    store.commit_turn([first], [])
    with pytest.raises(sqlite3.IntegrityError):
        # The second message reuses an id: the whole turn must be rejected.
        store.commit_turn([msg("user", "b", 2), first], [])
    assert [m.content for m in store.load().messages] == ["a"]


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    SqliteStateStore(tmp_path / "s.db", DEFAULT).close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("INSERT INTO migrations (name) VALUES ('m999_future')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer version"):
        SqliteStateStore(tmp_path / "s.db", DEFAULT)


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "s.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="Cannot open"):
        SqliteStateStore(tmp_path / "s.db", DEFAULT)


def test_names_and_persona_of_the_first_start_stay_when_the_language_changes(
    tmp_path: Path,
) -> None:
    store = SqliteStateStore(tmp_path / "s.db", DEFAULT)
    store.close()
    english = Profile(self_name="Leaf", user_name="Traveler",
                      memory_about_self="I am a student.", memory_about_user="")
    again = SqliteStateStore(tmp_path / "s.db", english)  # the UI switched to English
    assert again.load().profile == DEFAULT
    assert again.profile_history() == []  # writing the first defaults is no change
