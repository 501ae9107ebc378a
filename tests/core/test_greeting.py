"""The greeting on return after a long absence, and the time lines of the
system prompt (now with weekday and zone, conversation start, first meeting)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.bridge import Api
from dl_app.core import greeting
from dl_app.core.context import turn_spans
from dl_app.core.models import DiaryEntry
from dl_app.core.tokens import request_tokens
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer, RecordedRequest

T0 = 1_764_000_000_000  # Tuesday 25 November 2025, 00:00 at UTC+08:00
HOUR = 3_600_000
COUNTER = QwenCounter()


def is_greeting(r: RecordedRequest) -> bool:
    text = r.last_user_text
    return not r.system_text and ("Greet" in text or "打个招呼" in text)


def greeter(r: RecordedRequest) -> ChatReply:
    name = re.search(r"(?:正在和|talking with )(.+?)(?:聊天|\.)", r.last_user_text)
    return ChatReply(content=f"{name.group(1) if name else '?'}，欢迎回来！还记得爬山吗？")


def open_mem(data: Path, server: OpenAICompatServer, clock: FixedClock,
             monkeypatch: pytest.MonkeyPatch, lang: str = "zh", budget: int = 3000) -> Memory:
    monkeypatch.setenv("DL_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("DL_TOKEN_BUDGET", str(budget))
    monkeypatch.setenv("LANG", "zh_CN.UTF-8" if lang == "zh" else "en_US.UTF-8")
    server.default_responder = companion_responder
    server.route(is_greeting, greeter)
    return Memory.open(data, clock=clock)


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Memory]:
    with open_mem(tmp_path / "data", openai_server, clock, monkeypatch) as m:
        m.set_profile(user_name="小明")
        yield m


def greeting_requests(server: OpenAICompatServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.path.endswith("/chat/completions") and is_greeting(r)]


def test_no_greeting_for_a_new_user_or_a_short_absence(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    assert greeting.greet(mem._engine, 8) is None  # never met: nothing to come back from
    mem.send("你好")
    clock.advance(7 * HOUR)
    assert not greeting.is_due(mem._engine, 8)
    assert greeting.greet(mem._engine, 8) is None
    assert greeting_requests(openai_server) == []


def test_greeting_after_absence_starts_the_new_conversation(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    mem.send("我今天去爬山了")
    clock.advance(9 * HOUR)
    assert greeting.is_due(mem._engine, 8)
    message = greeting.greet(mem._engine, 8)
    assert message is not None and "小明" in message.content
    # The idle conversation became a diary entry; the greeting opens the next one.
    assert mem._engine.diary.count() == 1
    state = mem.conversation()
    assert [(m.role, m.content) for m in state.messages] == [("assistant", message.content)]
    prompt = greeting_requests(openai_server)[-1].last_user_text
    assert "小明" in prompt and "愉快的聊天" in prompt and "9 小时" in prompt
    assert not greeting.is_due(mem._engine, 8)  # greeted just now
    assert greeting.greet(mem._engine, 8) is None

    mem.send("是呀，我回来了")
    state = mem.conversation()
    assert [m.role for m in state.messages] == ["assistant", "user", "assistant"]
    assert turn_spans(state.messages) == [(0, 1), (1, 3)]
    chat = openai_server.chat_requests[-1].messages
    assert [m["role"] for m in chat] == ["system", "assistant", "system", "user"]  # the time note
    assert chat[1]["content"] == message.content
    assert "本次对话开始于：2025年11月25日 星期二 09:00" in chat[0]["content"]


def test_absence_counts_from_the_latest_diary_entry(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    entry = DiaryEntry(title="爬山", summary="小明和我聊了爬山。", start_time=T0 - 3 * HOUR,
                       end_time=T0 - 2 * HOUR)
    mem._engine.diary.upsert([entry], None, "")
    assert not greeting.is_due(mem._engine, 8)
    clock.advance(6 * HOUR)
    assert greeting.is_due(mem._engine, 8)
    assert greeting.greet(mem._engine, 8) is not None
    assert "爬山" in greeting_requests(openai_server)[-1].last_user_text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_greeting_request_fits_a_small_budget(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch, lang: str,
) -> None:
    with open_mem(tmp_path / "d", openai_server, clock, monkeypatch, lang, 1500) as m:
        m.set_profile(user_name="Ming", memory_about_user="likes hiking. " * 400)
        huge = DiaryEntry(title="Long day", summary="We talked about mountains. " * 2000,
                          start_time=T0 - 30 * HOUR, end_time=T0 - 20 * HOUR)
        m._engine.diary.upsert([huge], None, "")
        msg = greeting.greet(m._engine, 8)
        assert msg is not None and "Ming" in msg.content
    body = greeting_requests(openai_server)[-1].body
    total = request_tokens(COUNTER, body["messages"]) + body["max_tokens"]
    assert total <= 1500, total
    assert "Long day" in body["messages"][0]["content"]


def test_bridge_chat_greeting(
    openai_server: OpenAICompatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    openai_server.default_responder = companion_responder
    api = Api(data_dir=tmp_path / "d", env={"DL_LLM_BASE_URL": openai_server.base_url})
    try:
        assert api.chat_greeting() == {"ok": True, "greeting": None}
    finally:
        api.close()


@pytest.mark.parametrize(
    ("lang", "now", "start", "met_today", "met"),
    [
        ("zh", "现在的时间：2025年11月25日 星期二 00:00（Asia/Shanghai, UTC+08:00）",
         "2025年11月25日 星期二 00:00", "第一次和用户见面：就是这次对话",
         "2025年11月24日 星期一 22:00"),
        ("en", "Current time: Tuesday, 25 November 2025, 00:00 (Asia/Shanghai, UTC+08:00)",
         "This conversation started: Tuesday, 25 November 2025, 00:00",
         "First met the user: in this very conversation",
         "First met the user: Monday, 24 November 2025, 22:00"),
    ],
)
def test_time_lines_are_right_from_the_first_message(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch, lang: str, now: str, start: str, met_today: str, met: str,
) -> None:
    with open_mem(tmp_path / "d", openai_server, clock, monkeypatch, lang) as m:
        m.send("hi")
        sent = openai_server.chat_requests[-1].messages
        first = sent[0]["content"]
        assert start in first and met_today in first
        # The current time comes right before the user's message (the first system
        # message stays the same from minute to minute).
        assert now not in first and sent[-2] == {"role": "system", "content": now}
        clock.advance(HOUR)
        m.send("again")
        second = openai_server.chat_requests[-1].system_text
        assert start in second  # still the first message's time
        entry = DiaryEntry(title="t", summary="s", start_time=T0 - 2 * HOUR,
                           end_time=T0 - HOUR)
        m._engine.diary.upsert([entry], None, "")
        m.send("third")
        assert met in openai_server.chat_requests[-1].system_text
