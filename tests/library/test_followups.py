"""Follow-ups: noted by rules when a conversation becomes a diary entry, kept in
the state store, exported with their entry, deleted with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.core.errors import ImportFailed
from dl_app.core.exchange import parse_export, to_export
from dl_app.core.followups import due_ms, extract, parse_when
from dl_app.core.models import FollowUp, Message, Profile
from dl_app.memory import Memory
from dl_app.messages import error_text
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

T0 = 1_764_000_000_000 + 9 * 3_600_000  # Tuesday 25 November 2025, 09:00 at UTC+08:00
HOUR = 3_600_000
DEFAULT = Profile(self_name="小叶子", user_name="旅行者", memory_about_self="", memory_about_user="")


def said(*texts: str, role: str = "user") -> list[Message]:
    return [Message(role=role, content=t, timestamp=T0) for t in texts]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "what", "when"),
    [
        ("周五考试", "考试", "2025-11-28"),
        ("我下周二要去面试，有点紧张", "我要去面试", "2025-12-02"),
        ("明天体检", "体检", "2025-11-26"),
        ("下周末去爬山", "去爬山", "2025-12-06/2025-12-07"),
        ("my sister arrives next Tuesday", "my sister arrives", "2025-12-02"),
        ("I have an exam tomorrow.", "I have an exam", "2025-11-26"),
        ("The job interview is on Friday", "The job interview is", "2025-11-28"),
    ],
)
def test_a_plan_with_a_time_is_noted(text: str, what: str, when: str) -> None:
    found = extract(said(text), 480)
    assert [(f.what, f.when) for f in found] == [(what, when)]


@pytest.mark.parametrize(
    "text",
    ["昨天考试了", "上周五我去爬山了", "明天见", "明天再聊", "今天好累", "下个月搬家",
     "I went hiking last Friday", "See you tomorrow!", "yesterday was fun"],
)
def test_past_days_goodbyes_and_vague_times_are_not_plans(text: str) -> None:
    assert extract(said(text), 480) == []


def test_only_the_users_words_count_and_duplicates_are_dropped() -> None:
    assert extract(said("周五考试", role="assistant"), 480) == []
    assert len(extract(said("周五考试", "周五考试"), 480)) == 1


def test_due_from_the_midnight_after_the_last_day() -> None:
    follow = FollowUp(what="考试", when="2025-11-28")
    assert due_ms(follow, 480) == T0 - 9 * HOUR + 4 * 24 * HOUR  # Saturday 00:00 local
    assert parse_when("2025-12-07/2025-12-06") is None
    assert parse_when("next friday") is None
    assert due_ms(FollowUp(what="x", when="2025-13-01"), 0) is None


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Memory]:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    openai_server.default_responder = companion_responder
    clock = FixedClock(T0, offset_minutes=480, zone="Asia/Shanghai")
    with Memory.open(tmp_path / "data", clock=clock) as m:
        yield m


def test_consolidation_notes_follow_ups_with_the_entry(mem: Memory) -> None:
    mem.send("周五我要考试，好紧张")
    mem.send("还有，my sister arrives next Tuesday")
    entry = mem.consolidate()
    assert entry is not None
    state = mem._app.state
    noted = [(f.entry, f.what, f.when, f.asked_at) for f in state.follow_ups()]
    assert noted == [(entry.uuid, "我要考试", "2025-11-28", None),
                     (entry.uuid, "my sister arrives", "2025-12-02", None)]
    assert state.follow_ups(entry.uuid) == state.follow_ups()
    assert state.follow_ups("nope") == []


def test_export_import_round_trip_and_deleted_with_the_entry(mem: Memory) -> None:
    mem.send("周五考试")
    entry = mem.consolidate()
    assert entry is not None
    exported = mem.export_dict()
    assert exported["longTermMemory"][0]["followUps"] == [{"what": "考试", "when": "2025-11-28"}]
    snap = parse_export(json.loads(json.dumps(exported)), default_profile=DEFAULT).snapshot
    assert [(f.entry, f.what, f.when) for f in snap.follow_ups] == [(entry.uuid, "考试",
                                                                    "2025-11-28")]
    again = to_export(snap, version="x")
    assert again["longTermMemory"][0]["followUps"] == exported["longTermMemory"][0]["followUps"]

    mem.import_bytes(json.dumps(exported).encode())
    assert [f.what for f in mem._app.state.follow_ups()] == ["考试"]
    mem.delete_diary_entry(entry.uuid)
    assert mem._app.state.follow_ups() == []


def _file(follow_ups: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"uuid": "e1", "title": "t", "summary": "s", "startTime": 1,
                             "endTime": 2}
    if follow_ups is not ...:
        entry["followUps"] = follow_ups
    return {"selfName": "a", "userName": "b", "memoryAboutSelf": "c", "memoryAboutUser": "",
            "longTermMemory": [entry], "shortTermMemory": [], "archivedMemory": [],
            "currentSummary": ""}


def test_files_without_follow_ups_still_import() -> None:
    for value in (..., None, []):
        result = parse_export(_file(value), default_profile=DEFAULT)
        assert result.snapshot.follow_ups == [] and result.warnings == []


def test_asked_at_round_trips() -> None:
    item = {"what": "考试", "when": "2025-11-28", "askedAt": T0}
    snap = parse_export(_file([item]), default_profile=DEFAULT).snapshot
    assert snap.follow_ups[0].asked_at == T0
    assert to_export(snap, version="x")["longTermMemory"][0]["followUps"] == [item]


@pytest.mark.parametrize(
    ("follow_ups", "en", "zh"),
    [
        ("soon", "longTermMemory[0].followUps: expected an array of follow-ups, got string",
         "日记第 1 条的待问的事"),
        ([3], "longTermMemory[0].followUps[0]: expected a follow-up object, got number 3",
         "日记第 1 条的待问的事第 1 条：应为一件待问的事（对象）"),
        ([{"what": "考试", "when": "next Friday"}],
         "longTermMemory[0].followUps[0].when: expected a date such as",
         "日记第 1 条的待问的事第 1 条的日期：应为日期"),
        ([{"when": "2025-11-28"}], "longTermMemory[0].followUps[0].what:", "的内容"),
        ([{"what": "考试", "when": "2025-11-28", "askedAt": "yesterday"}],
         "longTermMemory[0].followUps[0].askedAt: expected a number of milliseconds", "问起的时间"),
    ],
)
def test_a_broken_follow_ups_field_is_a_located_error(follow_ups: Any, en: str, zh: str) -> None:
    with pytest.raises(ImportFailed) as info:
        parse_export(_file(follow_ups), default_profile=DEFAULT)
    assert en in error_text(info.value, "en")
    assert zh in error_text(info.value, "zh")


def test_any_follow_ups_value_imports_or_fails_at_its_path() -> None:
    """Seeded random values in every place of the field: a clean import or an
    ``ImportFailed`` naming followUps, never another exception."""
    import random

    rng = random.Random(19)
    values: list[Any] = [None, True, 0, -1, 1.5, float("nan"), "", "x", "2025-11-28",
                         "2025-11-28/2025-11-27", "2025-02-30", "\ud800", [], {}, [[]], [{}],
                         10**40, "2025-11-28/2025-11-30", "考试" * 600]
    outcomes = {"ok": 0, "failed": 0}
    for _ in range(400):
        item: dict[str, Any] = {"what": "考试", "when": "2025-11-28"}
        for key in rng.sample(["what", "when", "askedAt", "extra"], rng.randint(1, 3)):
            item[key] = rng.choice(values)
        shape = rng.choice(["item", "list", "bare"])
        field = [item] if shape == "item" else rng.choice(values) if shape == "bare" else [
            item, rng.choice(values)]
        try:
            parse_export(_file(field), default_profile=DEFAULT)
            outcomes["ok"] += 1
        except ImportFailed as e:
            assert "followUps" in error_text(e, "en"), error_text(e, "en")
            outcomes["failed"] += 1
    assert outcomes["ok"] > 20 and outcomes["failed"] > 20, outcomes
