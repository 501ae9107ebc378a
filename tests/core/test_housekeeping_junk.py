"""Memory never takes junk: the engine with the scripted model writing junk
housekeeping outputs keeps the previous self-concept and profile, still
writes a diary entry (built from the user's lines), keeps a summary, and says
why through ``Memory.context_preview`` and the bridge."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import make_env, ok
from dl_app.adapters.clock import FixedClock
from dl_app.bridge import Api
from dl_app.bridge.views import preview
from dl_app.memory import Memory
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer, RecordedRequest

T0 = 1_764_000_000_000  # 2025-11-25 00:00 in Shanghai
SELF_BEFORE = "我喜欢看星星。"
USER_BEFORE = "用户养了一只叫咪咪的猫。"
# What the demo model wrote in issue 17.
JUNK_SELF = "### 新旧矛盾时以新的为准，保留仍然成立的旧信息；\n我是一个喜欢聊天的数字生命。"
JUNK_USER = "### 本次对话的日记\n用户叫小林，今天刚下班，有点累。"


def purpose_is(purpose: str) -> object:
    return lambda r: purpose_of(r) == purpose


def open_memory(server: OpenAICompatServer, root: Path, clock: FixedClock,
                monkeypatch: pytest.MonkeyPatch, budget: int = 3000) -> Memory:
    monkeypatch.setenv("DL_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("DL_TOKEN_BUDGET", str(budget))
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    server.default_responder = companion_responder
    return Memory.open(root, clock=clock)


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Memory]:
    with open_memory(openai_server, tmp_path / "data", clock, monkeypatch) as m:
        m.set_profile(memory_about_self=SELF_BEFORE, memory_about_user=USER_BEFORE)
        yield m


def talk(mem: Memory, clock: FixedClock) -> None:
    mem.send("你好！我叫小林，今天刚下班。\n有点累。")
    clock.advance(60_000)
    mem.send("周末想去杭州玩")


def test_junk_self_concept_and_profile_keep_the_previous_ones(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    openai_server.route(purpose_is("self"), ChatReply(content=JUNK_SELF))
    openai_server.route(purpose_is("profile"), ChatReply(content=JUNK_USER))
    talk(mem, clock)
    with caplog.at_level(logging.WARNING):
        entry = mem.consolidate()
    assert entry is not None
    assert entry.summary == "今天我和用户聊了很多，我很开心。用户说了自己的近况。"  # the model's
    assert entry.title == "愉快的聊天"
    profile = mem.profile()
    assert profile.memory_about_self == SELF_BEFORE
    assert profile.memory_about_user == USER_BEFORE
    rejected = mem.context_preview().rejected
    assert [(r.kind, r.reason) for r in rejected] == [("self", "heading"), ("user", "heading")]
    assert rejected[0].detail.startswith("### 新旧矛盾时以新的为准")
    assert all(r.at_ms == clock.now_ms() for r in rejected)
    assert "self was not stored (heading" in caplog.text
    assert "user was not stored (heading" in caplog.text


def test_a_junk_diary_still_leaves_an_entry_built_from_the_user_lines(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    openai_server.route(
        purpose_is("diary"),
        ChatReply(content="- 用户 (00:00): 你好！我叫小林，今天刚下班。\n- 我 (00:00): 你好！"),
    )
    talk(mem, clock)
    ids = [m.id for m in mem.conversation().messages]
    asked = len(openai_server.chat_requests)
    entry = mem.consolidate()
    assert entry is not None and entry.source_ids == ids
    # No title, self or profile request: they would read the junk diary.
    assert [purpose_of(r) for r in openai_server.chat_requests[asked:]] == ["diary"]
    assert entry.title == "你好！我叫小林，今天刚下班。"  # the first user line
    assert entry.summary.startswith("2025年11月25日")
    assert "「你好！我叫小林，今天刚下班。 有点累。」" in entry.summary
    assert "「周末想去杭州玩」" in entry.summary
    assert mem.profile().memory_about_self == SELF_BEFORE
    assert mem.profile().memory_about_user == USER_BEFORE
    assert mem.conversation().messages == []  # the conversation moved into the diary
    assert mem.search("杭州", k=1)[0].entry.uuid == entry.uuid
    (r,) = mem.context_preview().rejected
    assert (r.kind, r.reason) == ("diary", "transcript")


@pytest.mark.parametrize(("reply", "reason"), [
    ("你好！我叫小林，今天刚下班。有点累。周末想去杭州玩。", "copy"),  # the user's lines again
    ("抱歉，我无法完成这个请求。", "refusal"),
    ("I'm sorry, but I can't assist with that.", "refusal"),  # the demo model, once
])
def test_a_copied_or_refused_diary_is_not_stored(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock, reply: str, reason: str
) -> None:
    openai_server.route(purpose_is("diary"), ChatReply(content=reply))
    talk(mem, clock)
    entry = mem.consolidate()
    assert entry is not None and reply not in entry.summary
    assert entry.summary.startswith("2025年11月25日")  # built from the user's lines
    assert mem.profile().memory_about_user == USER_BEFORE
    (r,) = mem.context_preview().rejected
    assert (r.kind, r.reason) == ("diary", reason)


def test_rejections_survive_a_restart_and_go_with_delete_all(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    openai_server.route(purpose_is("diary"), ChatReply(content="抱歉，我无法完成这个请求。"))
    with open_memory(openai_server, tmp_path / "data", clock, monkeypatch) as mem:
        talk(mem, clock)
        mem.consolidate()
        before = mem.context_preview().rejected
    assert [(r.kind, r.reason) for r in before] == [("diary", "refusal")]
    with open_memory(openai_server, tmp_path / "data", clock, monkeypatch) as mem:
        assert mem.context_preview().rejected == before
        mem.delete_all()
        assert mem.context_preview().rejected == []
    with open_memory(openai_server, tmp_path / "data", clock, monkeypatch) as mem:
        assert mem.context_preview().rejected == []


def test_a_junk_title_becomes_the_first_user_line(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    openai_server.route(purpose_is("title"), ChatReply(content="请为下面这篇日记起一个简短的标题"))
    talk(mem, clock)
    entry = mem.consolidate()
    assert entry is not None and entry.title == "你好！我叫小林，今天刚下班。"
    assert entry.summary == "今天我和用户聊了很多，我很开心。用户说了自己的近况。"
    assert mem.profile().memory_about_user == "用户喜欢和我聊天。"  # the good update stays
    assert [(r.kind, r.reason) for r in mem.context_preview().rejected] == [("title", "echo")]


def test_a_junk_summary_keeps_the_old_one_and_adds_the_user_lines(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folds: list[RecordedRequest] = []

    def summary(request: RecordedRequest) -> ChatReply:
        folds.append(request)
        if len(folds) == 1:
            return ChatReply(content="我们聊了工作和天气。")
        return ChatReply(content="好的，以下是总结：")

    openai_server.route(purpose_is("summary"), summary)
    with open_memory(openai_server, tmp_path / "d", clock, monkeypatch, budget=1500) as mem:
        i = 0
        while len(folds) < 2:
            clock.advance(60_000)
            mem.send(f"第{i}件事：" + "今天发生了很多事情。" * 10)
            i += 1
            assert i < 40, "the conversation never folded twice"
        state = mem.conversation()
        assert state.summary.startswith("我们聊了工作和天气。\n旅行者还说：「")
        assert "今天发生了很多事情" in state.summary
        assert mem.count_tokens(state.summary) <= mem._engine.config.budget.summary_cap
        (r,) = mem.context_preview().rejected
        assert (r.kind, r.reason, r.detail) == ("summary", "unfinished", "好的，以下是总结：")


def test_the_bridge_shows_the_rejections_newest_first(
    openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    openai_server.route(purpose_is("self"), ChatReply(content=JUNK_SELF))
    openai_server.route(purpose_is("profile"), ChatReply(content=""))
    openai_server.default_responder = companion_responder
    api = Api(data_dir, env=make_env(openai_server), emit=lambda _n, _p: None)
    try:
        ok(api.chat_send({"text": "你好"}))
        ok(api.memory_consolidate({}))
        got = ok(api.context_preview({}))["rejected"]
        assert [(r["kind"], r["reason"]) for r in got] == [("user", "empty"), ("self", "heading")]
        assert got[1]["detail"].startswith("### 新旧矛盾") and got[0]["at"] > 0
    finally:
        api.close()


def test_the_preview_view_has_no_rejections_when_all_went_well(
    mem: Memory, clock: FixedClock
) -> None:
    talk(mem, clock)
    mem.consolidate()
    assert preview(mem.context_preview())["rejected"] == []
