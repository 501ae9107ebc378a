"""The memory engine end to end: real LanceDB, SQLite and the built-in
embedder; the model is the scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.errors import BadResponse, DLError, ServerFailed, ServiceUnreachable
from dl_app.core.models import DiaryEntry
from dl_app.core.tokens import request_tokens
from dl_app.memory import Memory
from servers.companion import purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply
from where import DATA

T0 = 1_764_000_000_000
HOUR = 3_600_000
COUNTER = QwenCounter()


def fits_budget(server: OpenAICompatServer, budget: int) -> list[int]:
    """Total tokens (prompt counted by the real tokenizer + max_tokens) of every
    chat request the server received."""
    totals = []
    for r in server.chat_requests:
        body = r.body
        prompt = request_tokens(COUNTER, body["messages"], body.get("tools"))
        totals.append(prompt + body["max_tokens"])
    assert totals, "no requests"
    assert max(totals) <= budget, totals
    return totals


def add_diary(mem: Memory, *entries: tuple[str, str, str]) -> None:
    items = [
        DiaryEntry(uuid=u, title=t, summary=s, start_time=T0 - 10 * HOUR, end_time=T0 - 9 * HOUR)
        for u, t, s in entries
    ]
    emb = mem._engine.embedder
    assert emb is not None
    vectors = emb.embed_passages([f"{e.title}\n{e.summary}" for e in items])
    mem._engine.diary.upsert(items, vectors, emb.name)


def test_a_turn_streams_and_is_remembered(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    openai_server.enqueue(ChatReply(content="你好呀，小明！今天过得怎么样？😊", chunk_size=3))
    pieces: list[str] = []
    result = mem.send("你好，我是小明", on_delta=lambda d: pieces.append(d.text))
    assert result.reply == "你好呀，小明！今天过得怎么样？😊"
    assert len(pieces) > 3 and "".join(pieces) == result.reply
    req = openai_server.chat_requests[-1].body
    assert req["stream"] is True and req["max_tokens"] == 400
    system = req["messages"][0]["content"]
    assert (
        "小叶子" in system and "2025年11月25日 星期二 00:00" in system and "Asia/Shanghai" in system
    )
    assert "第一次和用户见面：就是这次对话" in system
    assert req["tools"][0]["function"]["name"] == "get_memory"
    state = mem.conversation()
    assert [m.role for m in state.messages] == ["user", "assistant"]
    assert state.messages[0].turn_id == state.messages[1].turn_id


def test_reasoning_is_kept_apart_from_the_reply(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(ChatReply(content="<think>他想聊天。<b>x</b></think>来聊吧！"))
    result = mem.send("在吗")
    assert result.reply == "来聊吧！"
    assert "他想聊天" in result.reasoning
    assert mem.conversation().messages[-1].reasoning == result.reasoning


def test_a_failed_turn_changes_nothing(mem: Memory, openai_server: OpenAICompatServer) -> None:
    mem.send("第一句")
    before = mem.conversation()
    openai_server.enqueue(*[ChatReply.error(500)] * 5)
    with pytest.raises(ServerFailed):
        mem.send("第二句")
    broken = ChatReply(content="半句话", chunk_size=1, break_after=3)
    openai_server.enqueue(broken, broken)  # broke off, and broke off again when asked again
    with pytest.raises(BadResponse):
        mem.send("第三句")
    assert mem.conversation() == before


def test_a_reply_that_breaks_off_is_withdrawn_and_asked_for_once_more(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    """Issue 18: after part of a reply was shown, a break withdraws it and the turn is
    retried once; what is stored is the second, whole reply."""
    openai_server.enqueue(
        ChatReply(content="先说一半然后", chunk_size=1, break_after=4),
        ChatReply(content="这次完整地说完了。"),
    )
    log: list[tuple[str, str]] = []  # deltas and events, in order
    result = mem.send("你好", on_delta=lambda d: log.append(("delta", d.text)),
                      on_event=lambda name, _data: log.append(("event", name)))
    assert result.reply == "这次完整地说完了。"
    at = log.index(("event", "withdraw"))
    shown_before = "".join(text for kind, text in log[:at] if kind == "delta")
    shown_after = "".join(text for kind, text in log[at:] if kind == "delta")
    assert shown_before and "先说一半然后".startswith(shown_before)  # it had been shown
    assert shown_after == "这次完整地说完了。"
    assert [m.content for m in mem.conversation().messages] == ["你好", "这次完整地说完了。"]
    assert len([r for r in openai_server.chat_requests if r.last_user_text == "你好"]) == 2


def test_a_reply_at_its_length_limit_is_kept_and_marked_cut_off(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(ChatReply(content="我想说的是，这件事情要从很久以前", finish_reason="length"))
    result = mem.send("讲个故事")
    assert result.reply == "我想说的是，这件事情要从很久以前"
    last = mem.conversation().messages[-1]
    assert last.cut_off and not last.stopped
    mem.send("然后呢？")  # a whole reply is not marked
    assert not mem.conversation().messages[-1].cut_off


def test_a_failure_before_any_output_is_not_withdrawn(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(*[ChatReply.error(500)] * 5)
    events: list[str] = []
    with pytest.raises(ServerFailed):
        mem.send("你好", on_event=lambda name, _data: events.append(name))
    assert "withdraw" not in events


def test_dead_endpoint_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DL_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    with Memory.open(tmp_path / "d") as m, pytest.raises(ServiceUnreachable, match=r"127\.0\.0\.1:9"):
        m.send("hello")


def test_recall_by_tool_call_never_repeats_a_memory(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    add_diary(
        mem,
        ("u-cat", "咪咪生病了", "用户的猫咪咪咪生病了，我们很担心它。"),
        ("u-hike", "周末去爬山", "用户和朋友去爬了泰山，看了日出。"),
    )
    call = ToolCallReply("get_memory", {"memoryDescription": "用户的猫咪咪咪"})
    openai_server.enqueue(ChatReply(tool_calls=[call]), ChatReply(content="咪咪好点了吗？"))
    result = mem.send("还记得我的猫吗")
    assert result.reply == "咪咪好点了吗？"
    assert result.recalled[0].entry.uuid == "u-cat"
    second = openai_server.chat_requests[-1].body["messages"]
    tool_msg = next(m for m in second if m["role"] == "tool")
    assert "咪咪生病了" in tool_msg["content"]
    # Asking again in the same conversation never returns the same memory.
    openai_server.enqueue(ChatReply(tool_calls=[call]), ChatReply(content="嗯"))
    again = mem.send("它现在怎么样了")
    assert all(h.entry.uuid != "u-cat" for h in again.recalled)
    state = mem.conversation()
    assert next(e.uuid for e in state.recalled) == "u-cat"


def test_invalid_tool_arguments_are_recoverable(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    bad = ToolCallReply("get_memory", '{"memoryDescription": 猫')
    openai_server.enqueue(ChatReply(tool_calls=[bad]), ChatReply(content="抱歉，我想不起来了。"))
    result = mem.send("还记得吗")
    assert result.reply == "抱歉，我想不起来了。"
    tool = next(m for m in openai_server.chat_requests[-1].body["messages"] if m["role"] == "tool")
    assert "不是有效的 JSON" in tool["content"]


def test_recall_rounds_are_bounded(mem: Memory, openai_server: OpenAICompatServer) -> None:
    call = ToolCallReply("get_memory", {"memoryDescription": "任何事"})
    openai_server.route(lambda r: bool(r.body.get("tools")), ChatReply(tool_calls=[call]))
    result = mem.send("你记得什么")
    chats = [r for r in openai_server.chat_requests if purpose_of(r) == "chat"]
    assert len(chats) == 3  # two recall rounds, then a request without tools
    assert "tools" not in chats[-1].body
    assert result.reply


def test_auto_recall_for_models_without_tools(
    mem: Memory, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    add_diary(mem, ("u-hike", "周末去爬山", "用户和朋友去爬了泰山，看了日出。"))
    mem._engine.config = mem._engine.config.__class__(
        **{**mem._engine.config.__dict__, "recall_mode": "auto"}
    )
    mem.send("我又想去爬泰山了")
    body = openai_server.chat_requests[-1].body
    assert "tools" not in body
    assert "周末去爬山" in body["messages"][0]["content"]


def test_auto_recall_embeds_the_message_only_when_words_match(
    mem: Memory, openai_server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_diary(mem, ("u-hike", "周末去爬山", "用户和朋友去爬了泰山，看了日出。"))
    mem._engine.config = mem._engine.config.__class__(
        **{**mem._engine.config.__dict__, "recall_mode": "auto"}
    )
    embedder = mem._engine.recaller.embedder
    assert embedder is not None
    queries: list[str] = []
    real = embedder.embed_query
    monkeypatch.setattr(embedder, "embed_query", lambda q: queries.append(q) or real(q))
    mem.send("今天吃了什么好吃的")  # no word of the diary: full-text search alone answers
    assert queries == []
    assert "周末去爬山" not in openai_server.chat_requests[-1].body["messages"][0]["content"]
    mem.send("我又想去爬泰山了")
    assert queries == ["我又想去爬泰山了"]
    assert "周末去爬山" in openai_server.chat_requests[-1].body["messages"][0]["content"]


def test_long_conversation_stays_in_budget_and_summary_sees_replies(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    for i in range(40):
        clock.advance(60_000)
        openai_server.enqueue(
            ChatReply(content=f"这是我的第{i}次回答，" + "我很喜欢和你聊天。" * 8)
        )
        mem.send(f"第{i}条消息：" + "今天发生了很多事情。" * 12)
    fits_budget(openai_server, 3000)
    summaries = [r for r in openai_server.chat_requests if purpose_of(r) == "summary"]
    assert summaries, "the conversation never folded into the summary"
    assert any("这是我的第0次回答" in r.last_user_text for r in summaries)
    calls_per_turn = len(openai_server.chat_requests) / 40
    assert calls_per_turn < 1.5
    state = mem.conversation()
    assert state.summary and state.folded_count > 0


def test_consolidation_writes_the_diary_and_updates_memory(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    mem.send("我养了一只叫咪咪的猫")
    clock.advance(60_000)
    mem.send("它很喜欢吃鱼")
    ids = [m.id for m in mem.conversation().messages]
    entry = mem.consolidate()
    assert entry is not None and entry.title == "愉快的聊天"
    assert entry.source_ids == ids
    purposes = [purpose_of(r) for r in openai_server.chat_requests[2:]]
    assert purposes == ["diary", "title", "self", "profile"]
    fits_budget(openai_server, 3000)
    state = mem.conversation()
    assert state.messages == [] and state.summary == ""
    assert state.profile.memory_about_user == "用户喜欢和我聊天。"
    assert [a.belong_to for a in mem._app.state.archive()] == [entry.uuid] * 4
    assert mem.index_status()[:2] == (1, 1)
    assert mem.search("咪咪", k=1)[0].entry.uuid == entry.uuid


def test_idle_conversation_becomes_a_diary_entry_before_the_next_message(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    mem.send("晚安")
    clock.advance(9 * HOUR)
    assert mem.is_idle()
    mem.send("早上好")
    assert mem._engine.diary.count() == 1
    state = mem.conversation()
    assert next(m.content for m in state.messages) == "早上好"
    system = openai_server.chat_requests[-1].body["messages"][0]["content"]
    assert "第一次和用户见面：2025年11月25日" in system


def test_failed_consolidation_keeps_the_conversation(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    mem.send("记住这个")
    before = mem.conversation()
    openai_server.route(lambda r: purpose_of(r) == "title", ChatReply.error(500))
    with pytest.raises(ServerFailed):
        mem.consolidate()
    assert mem.conversation() == before
    assert mem._engine.diary.count() == 0


def test_interrupted_consolidation_is_finished_once_on_reopen(
    mem: Memory, openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock
) -> None:
    """The write phase split by a simulated crash: the pending record and the
    diary row exist, the state was not finished. Reopening completes it."""
    mem.send("一段对话")
    engine = mem._engine
    original_finish = mem._app.state.finish_consolidation
    mem._app.state.finish_consolidation = lambda: (_ for _ in ()).throw(SystemExit("crash"))
    with pytest.raises(SystemExit):
        mem.consolidate()
    mem._app.state.finish_consolidation = original_finish
    assert engine.diary.count() == 1 and mem._app.state.pending_consolidation() is not None
    mem.close()
    with Memory.open(tmp_path / "data", clock=clock) as again:
        assert again._engine.diary.count() == 1
        assert again._app.state.pending_consolidation() is None
        assert again.conversation().messages == []
        assert len(again._app.state.archive()) == 2


def test_import_export_keeps_ids_and_search_finds_them(mem: Memory, tmp_path: Path) -> None:
    original = json.loads(
        (DATA / "original_v1_4.json").read_text(encoding="utf-8")
    )
    report = mem.import_bytes(json.dumps(original).encode())
    assert report.entries == len(original["longTermMemory"])
    exported = mem.export_dict()
    assert [e["uuid"] for e in exported["longTermMemory"]] == [
        e["uuid"] for e in original["longTermMemory"]
    ]
    assert "version" in exported
    first = original["longTermMemory"][0]
    hits = mem.search(first["title"], k=3)
    assert hits and hits[0].entry.uuid == first["uuid"]


def test_a_call_to_an_unknown_tool_is_answered_not_raised(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    call = ToolCallReply("make_coffee", {"size": "large"})
    openai_server.enqueue(ChatReply(tool_calls=[call]), ChatReply(content="好的"))
    result = mem.send("帮我做杯咖啡")
    assert result.reply == "好的"
    sent = openai_server.chat_requests[-1].body["messages"]
    tool = next(m for m in sent if m["role"] == "tool")
    assert "make_coffee" in tool["content"]


def chatml(body: dict[str, Any]) -> str:
    """A request as a local server's template lays it out (tools first)."""
    tools = json.dumps(body.get("tools"), ensure_ascii=False, sort_keys=True)
    turns = "".join(
        f"<|im_start|>{m['role']}\n{m.get('content') or ''}<|im_end|>\n" for m in body["messages"]
    )
    return f"{tools}\n{turns}"


def note_start(body: dict[str, Any]) -> int:
    """Where the time note begins in ``chatml(body)``: only what follows may change."""
    text = chatml(body)
    at = text.rfind("<|im_start|>system\n现在的时间：")
    assert at > 0 and text.index(body["messages"][0]["content"]) < at
    assert body["messages"][-2]["content"].startswith("现在的时间：")  # next to the user's
    return at


def test_the_request_before_the_time_note_is_the_same_a_minute_later(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    """A local server's prompt cache keeps the conversation across minutes: the
    same conversation sent again 90 s later differs only in the time note."""
    mem.send("我养了一只叫咪咪的猫")
    clock.advance(60_000)
    openai_server.enqueue(ChatReply.error(400, "try again"))
    with pytest.raises(DLError):
        mem.send("它很喜欢吃鱼")
    clock.advance(90_000)
    mem.send("它很喜欢吃鱼")
    first, again = (r.body for r in openai_server.chat_requests[-2:])
    at = note_start(first)
    assert chatml(first)[:at] == chatml(again)[:at]
    assert chatml(first)[at:] != chatml(again)[at:]
    assert first["messages"][-2] == {
        "role": "system", "content": "现在的时间：2025年11月25日 星期二 00:01（Asia/Shanghai, UTC+08:00）"
    }
    assert "00:02" in again["messages"][-2]["content"]
    assert first["messages"][-1] == again["messages"][-1] == {
        "role": "user", "content": "它很喜欢吃鱼"
    }


def test_the_next_turn_reuses_the_whole_previous_request_up_to_its_time_note(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    for text in ("你好，我是小明", "我今天去爬山了", "山上风很大"):
        clock.advance(61_000)
        mem.send(text)
    for earlier, later in pairwise(r.body for r in openai_server.chat_requests):
        at = note_start(earlier)
        assert chatml(later).startswith(chatml(earlier)[:at])
        assert earlier["messages"][0] == later["messages"][0]  # the system message
        assert "现在的时间" not in later["messages"][0]["content"]
