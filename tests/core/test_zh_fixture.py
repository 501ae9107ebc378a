"""tests/data/zh_recall.json, the Chinese recall fixture, parses with
bench/locomo_recall.py and keeps its shape: enough sessions and questions, every
evidence id a real turn, the questions asked after the last session."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from where import ROOT, bench_module

FIXTURE = ROOT / "tests" / "data" / "zh_recall.json"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_module("locomo_recall")


def test_the_fixture_loads_whole(bench: ModuleType) -> None:
    (conv,) = bench.load(FIXTURE)
    (raw,) = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert conv.sample_id == "zh-1"
    assert len(conv.sessions) >= 8
    assert all(12 <= len(s.turns) <= 30 for s in conv.sessions)
    # every question kept, every evidence id a turn of the conversation
    assert len(conv.questions) == len(raw["qa"]) >= 45
    assert conv.evidence["dangling"] == conv.evidence["malformed"] == 0
    assert [q.gold for q in conv.questions] == [qa["evidence"] for qa in raw["qa"]]
    assert {q.category for q in conv.questions} == {1, 2, 3, 4}


def test_sessions_span_weeks_and_questions_come_after(bench: ModuleType) -> None:
    (conv,) = bench.load(FIXTURE)
    (raw,) = json.loads(FIXTURE.read_text(encoding="utf-8"))
    times = [s.time_ms for s in conv.sessions]
    assert conv.evidence["bad_dates"] == 0
    assert times == sorted(times) and len(set(times)) == len(times)
    days = (times[-1] - times[0]) / 86_400_000
    assert 28 <= days <= 42
    asked = bench.parse_date(raw["asked_at"])
    assert asked is not None and asked > times[-1]
    speakers = {raw["conversation"]["speaker_a"], raw["conversation"]["speaker_b"]}
    turns = [t for n in range(1, len(times) + 1) for t in raw["conversation"][f"session_{n}"]]
    assert {t["speaker"] for t in turns} == speakers
    assert all(raw["session_summary"][f"session_{s.n}_summary"] for s in conv.sessions)
