"""The turn index and the evidence search: archived messages are found and
quoted verbatim, within the budget, and leave no trace once deleted.

Real parts: LanceDB and SQLite in a temp dir, the built-in embedder, the
scripted OpenAI-compatible server for the chat model, ``dl-app`` as a process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.core.evidence import pack
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import TurnRecord
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply

DAY = 86_400_000
T0 = 1_700_000_000_000
PLATE = "沪A·53Q71"
SECRET_WORD = "zanzibarquokka"

TURNS = [
    # (entry, role, text)
    ("e-car", "user", "今天终于提车了！"),
    ("e-car", "assistant", "恭喜！是什么颜色的车？"),
    ("e-car", "user", f"白色的，车牌号是{PLATE}，我很喜欢。"),
    ("e-car", "assistant", "白色很好看，开车注意安全哦。"),
    ("e-trip", "user", "下个月我想去云南旅行。"),
    ("e-trip", "assistant", "云南很美，想去大理还是丽江？"),
    ("e-trip", "user", f"大理吧，我朋友在那边开了一家叫{SECRET_WORD}的咖啡馆。"),
    ("e-trip", "assistant", "听起来很有意思！"),
]


def export() -> dict[str, Any]:
    diary = [
        {"uuid": "e-car", "title": "提车", "summary": "用户买了新车，很开心。",
         "startTime": T0, "endTime": T0 + 600_000},
        {"uuid": "e-trip", "title": "旅行计划", "summary": "用户计划去云南旅行。",
         "startTime": T0 + DAY, "endTime": T0 + DAY + 600_000},
    ]
    start = {"e-car": T0, "e-trip": T0 + DAY}
    archive = [
        {"id": f"m{i}", "belongTo": e, "role": r, "content": t,
         "timestamp": start[e] + i * 60_000}
        for i, (e, r, t) in enumerate(TURNS)
    ]
    return {"selfName": "小叶子", "userName": "阿明", "memoryAboutSelf": "",
            "memoryAboutUser": "", "currentSummary": "", "longTermMemory": diary,
            "shortTermMemory": [], "archivedMemory": archive}


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def imported(tmp_path: Path, export_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    data = tmp_path / "data"
    with Memory.open(data) as mem:
        mem.import_file(export_file)
    return data


def files_containing(root: Path, word: str, skip: str = "backups") -> list[Path]:
    needle = word.encode()
    return [p for p in root.rglob("*")
            if p.is_file() and skip not in p.parts and needle in p.read_bytes()]


def test_a_search_quotes_the_words_that_were_said(imported: Path) -> None:
    with Memory.open(imported) as mem:
        hits = mem.search_evidence("我的车牌号是多少", k=5, budget=200)
        assert hits and hits[0].entry.uuid == "e-car"
        quoted = {ev.turn.id: ev for h in hits for ev in h.evidence}
        assert quoted["m2"].turn.text == TURNS[2][2] and quoted["m2"].match
        assert all(ev.turn.entry == h.entry.uuid for h in hits for ev in h.evidence)
        for h in hits:
            times = [ev.turn.ts for ev in h.evidence]
            assert times == sorted(times)
        assert sum(ev.tokens for h in hits for ev in h.evidence) <= 200
        assert all(ev.tokens == mem.count_tokens(ev.turn.text) for ev in quoted.values())
        # A small budget skips what does not fit, and never cuts a message.
        small = mem.search_evidence("车牌号", k=5, budget=quoted["m2"].tokens)
        texts = [ev.turn.text for h in small for ev in h.evidence]
        assert texts == [TURNS[2][2]]
        assert mem.search_evidence("车牌号", k=5, budget=0)[0].evidence == []


def test_the_command_line_search_keeps_its_contract(imported: Path) -> None:
    env = {**os.environ, "DL_DATA_DIR": str(imported), "LANG": "zh_CN.UTF-8"}
    cmd = [sys.executable, "-m", "dl_app", "memory", "search", "咖啡馆 大理", "-k", "1",
           "--json", "--budget", "60"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=True)
    rows = json.loads(out.stdout)
    assert len(rows) == 1 and rows[0]["uuid"] == "e-trip"
    evidence = rows[0]["evidence"]
    assert evidence and sum(item["tokens"] for item in evidence) <= 60
    ids = [item["id"] for item in evidence]
    assert len(ids) == len(set(ids))
    by_id = {f"m{i}": t for i, (_, _, t) in enumerate(TURNS)}
    for item in evidence:
        assert set(item) == {"id", "role", "text", "timestamp", "tokens", "match"}
        assert item["text"] == by_id[item["id"]]
    assert any(item["match"] and SECRET_WORD in item["text"] for item in evidence)


def test_deleting_an_entry_removes_its_words_from_every_index(imported: Path) -> None:
    assert files_containing(imported, SECRET_WORD), "the word must be on disk first"
    with Memory.open(imported) as mem:
        mem.delete_diary_entry("e-trip")
        assert not any(ev.turn.entry == "e-trip"
                       for h in mem.search_evidence(SECRET_WORD, k=5, budget=500)
                       for ev in h.evidence)
    assert files_containing(imported, SECRET_WORD) == []
    with Memory.open(imported) as mem:  # the other entry is untouched
        hits = mem.search_evidence("车牌号", k=5, budget=500)
        assert PLATE in " ".join(ev.turn.text for h in hits for ev in h.evidence)
        mem.delete_all()
        assert mem.search_evidence("车牌号", k=5, budget=500) == []
    assert files_containing(imported, PLATE) == []


def test_an_older_data_dir_gets_its_turns_indexed_on_open(imported: Path) -> None:
    # A data dir from before the turn index: the diary without its turn tables.
    for table in (imported / "diary.lance").glob("t*.lance"):
        shutil.rmtree(table)
    with Memory.open(imported) as mem:
        hits = mem.search_evidence("车牌号", k=5, budget=500)
        assert PLATE in " ".join(ev.turn.text for h in hits for ev in h.evidence)
        assert mem.reindex() > 0  # the turns' vectors come with reindex


def rec(i: int, entry: str = "e", text: str | None = None) -> TurnRecord:
    return TurnRecord(id=f"t{i}", entry=entry, role="user", ts=T0 + i, seq=i,
                      text=text if text is not None else f"message number {i}")


def test_packing_skips_what_does_not_fit_and_counts_duplicates_once() -> None:
    turns = [rec(0), rec(1, text="x" * 40), rec(2), rec(3, text="message number 2!"), rec(4)]
    entry = DiaryEntry(uuid="e", title="t", summary="s", start_time=T0, end_time=T0)
    scores = {"t1": 3.0, "t2": 2.0, "t3": 1.5, "t4": 1.0}
    hits = pack([(entry, 1.0, True)], scores, {"e": turns}, len, budget=50)
    got = [(ev.turn.id, ev.match) for ev in hits[0].evidence]
    # t1 (40) fits; t2 (16) does not fit after it and is skipped; t3 duplicates
    # t2's words... but t2 was skipped, so t3 (17) does not fit either; t4 (16) no.
    assert got == [("t1", True)]
    hits = pack([(entry, 1.0, True)], scores, {"e": turns}, len, budget=100)
    ids = [ev.turn.id for ev in hits[0].evidence]
    assert "t3" not in ids or "t2" not in ids  # near-identical turns once
    assert sum(ev.tokens for ev in hits[0].evidence) <= 100
    assert ids == sorted(ids)  # time order
    assert any(not ev.match for ev in hits[0].evidence)  # a neighbour came along


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Memory]:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    openai_server.default_responder = companion_responder
    clock = FixedClock(T0, offset_minutes=480, zone="Asia/Shanghai")
    with Memory.open(tmp_path / "live", clock=clock) as m:
        yield m


def test_a_finished_conversation_is_quoted_by_the_memory_tool(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    mem.send(f"我刚提了新车，车牌号是{PLATE}。")
    mem.send("周末想开车去海边。")
    assert mem.consolidate() is not None
    call = ToolCallReply("get_memory", {"memoryDescription": "用户的车牌号"})
    openai_server.enqueue(ChatReply(tool_calls=[call]), ChatReply(content="记得！"))
    mem.send("你还记得我的车牌号吗？")
    sent = openai_server.chat_requests[-1].body["messages"]
    tool = next(m for m in sent if m["role"] == "tool")
    assert PLATE in tool["content"]
    # Asked again in the same conversation, the same message is not quoted twice.
    openai_server.enqueue(ChatReply(tool_calls=[call]), ChatReply(content="嗯"))
    mem.send("再说一遍？")
    sent = openai_server.chat_requests[-1].body["messages"]
    tools = [m for m in sent if m["role"] == "tool"]
    assert PLATE not in tools[-1]["content"]


def test_a_dead_embedding_service_leaves_showing_and_searching_working(
    imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) refuses connections: the service asked for its dimensions is down.
    monkeypatch.setenv("DL_EMBED_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DL_EMBED_MODEL", "remote-embed")
    with Memory.open(imported) as mem:
        shown = mem.show()
        assert shown["diaryCount"] == 2 and shown["indexedCount"] == 0
        assert mem.index_status().indexed == 0
        problem = mem.embedding_problem()  # said, not swallowed: the CLI and page show it
        assert problem is not None and "127.0.0.1:9" in str(problem)
        assert len(mem.diary_page().unindexed) == 2
        hits = mem.search_evidence("车牌号", k=5, budget=500)  # full text still answers
        assert PLATE in " ".join(ev.turn.text for h in hits for ev in h.evidence)
