"""Chat controls in the engine and ``Memory``: stopping a reply while it streams,
regenerating the last reply and editing the last user message, end to end with
real SQLite and LanceDB; the model is the scripted OpenAI-compatible server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.core.errors import NotFound, ServerFailed, Stopped
from dl_app.core.models import ConversationState, DiaryEntry
from dl_app.memory import Memory
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply

T0 = 1_764_000_000_000
HOUR = 3_600_000
STOPPED_NOTE = "[用户在这里停止了这条回复]"


# -- stop ------------------------------------------------------------------------


def test_a_stopped_reply_is_kept_as_said_and_its_stream_is_closed(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    long = "从前有一座山，山里有一座庙。" * 40
    openai_server.enqueue(ChatReply(content=long, chunk_size=2, chunk_delay=0.01))
    stop = threading.Event()
    pieces: list[str] = []

    def on_delta(d: object) -> None:
        pieces.append(d.text)  # type: ignore[attr-defined]
        if len(pieces) == 3:
            stop.set()  # as the page's stop button does, from another thread

    result = mem.send("讲个很长的故事", on_delta=on_delta, stop=stop)
    assert result.stopped and result.reply == "".join(pieces) == long[:6]
    # The connection to the service was closed long before the reply's end.
    assert openai_server.stream_cut.wait(10)
    assert openai_server.cut_streams[0] < len(long) // 2 / 2
    reply = mem.conversation().messages[-1]
    assert reply.role == "assistant" and reply.stopped and reply.content == long[:6]
    # The next turn: the model sees what was said, and that it was stopped.
    mem.send("好吧，换个话题")
    sent = openai_server.chat_requests[-1].body["messages"]
    said = [m["content"] for m in sent if m["role"] == "assistant"]
    assert said == [f"{long[:6]}\n{STOPPED_NOTE}"]


def test_a_reply_stopped_before_it_began_leaves_memory_as_it_was(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    mem.send("第一句")
    before = mem.conversation()
    asked = len(openai_server.chat_requests)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        mem.send("第二句", stop=stop)
    assert mem.conversation() == before
    assert len(openai_server.chat_requests) == asked  # no request was made


# -- regenerate and edit ------------------------------------------------------------


def add_diary(mem: Memory) -> DiaryEntry:
    entry = DiaryEntry(uuid="e-cat", title="猫咪生病", summary="用户的猫咪咪咪生病了，去了医院。",
                       start_time=T0 - 10 * HOUR, end_time=T0 - 9 * HOUR)
    emb = mem._engine.embedder
    assert emb is not None
    mem._engine.diary.upsert([entry], emb.embed_passages([f"{entry.title}\n{entry.summary}"]),
                             emb.name)
    return entry


QUESTION = "还记得我的猫吗？它最近又不太舒服，我很担心。" + "".join(
    f"第{j}天它吃了{j * 3 % 11}口饭。" for j in range(20))


def varied(word: str, n: int) -> str:
    """``n`` different short sentences (repeated text is rejected as junk)."""
    return "".join(f"{word}第{j}件事去了第{j * 7 % 13}个地方。" for j in range(n))


def folding_turn(mem: Memory, server: OpenAICompatServer, clock: FixedClock
                 ) -> ConversationState:
    """A few turns, then one that recalls a diary entry and folds the
    conversation afterwards; returns the state before that turn."""
    for i in range(4):
        clock.advance(60_000)
        server.enqueue(ChatReply(content=f"第{i}次回答：" + varied("我听你说", 10)))
        mem.send(f"第{i}条消息：" + varied("今天", 20))
    before = mem.conversation()
    clock.advance(60_000)
    server.enqueue(
        ChatReply(tool_calls=[ToolCallReply("get_memory", {"memoryDescription": "猫咪 生病"})]),
        ChatReply(content="我记得咪咪那次生病。" + varied("后来", 40)),
    )
    mem.send(QUESTION)
    after = mem.conversation()
    assert after.folded_count > before.folded_count, "the turn did not fold"
    assert after.summary != before.summary and len(after.recalled) == len(before.recalled) + 1
    return before


def new_turn(before: ConversationState, after: ConversationState) -> list[str]:
    """``after`` is ``before`` plus one turn: returns that turn's contents."""
    n = len(before.messages)
    assert after.model_copy(update={"messages": after.messages[:n]}) == before
    turn = after.messages[n:]
    assert len({m.turn_id for m in turn}) == 1
    return [m.content for m in turn]


def test_regenerate_restores_the_state_before_a_turn_that_folded(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    add_diary(mem)
    before = folding_turn(mem, openai_server, clock)
    openai_server.enqueue(ChatReply(content="换一种说法：希望咪咪早日康复。"))
    result = mem.regenerate()
    assert result.reply == "换一种说法：希望咪咪早日康复。"
    after = mem.conversation()
    assert new_turn(before, after) == [QUESTION, result.reply]
    # The request was made from the restored state: no summary of the old turn.
    request = openai_server.chat_requests[-1].body["messages"]
    assert "我记得咪咪那次生病" not in str(request)


def test_edit_restores_the_state_and_sends_the_new_text(
    mem: Memory, openai_server: OpenAICompatServer, clock: FixedClock
) -> None:
    add_diary(mem)
    before = folding_turn(mem, openai_server, clock)
    openai_server.enqueue(ChatReply(content="周末去哪里都好，开心就行。"))
    result = mem.edit_last("周末去哪里玩好？")
    assert new_turn(before, mem.conversation()) == ["周末去哪里玩好？", result.reply]
    assert openai_server.chat_requests[-1].body["messages"][-1]["content"] == "周末去哪里玩好？"


def test_the_snapshot_survives_a_restart_and_a_failed_regenerate_changes_nothing(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    openai_server.default_responder = companion_responder
    with Memory.open(tmp_path / "data", clock=clock) as m:
        add_diary(m)
        before = folding_turn(m, openai_server, clock)
        folded = m.conversation()
        openai_server.enqueue(*[ChatReply.error(500)] * 5)
        with pytest.raises(ServerFailed):
            m.regenerate()
        assert m.conversation() == folded
    with Memory.open(tmp_path / "data", clock=clock) as m:
        openai_server.enqueue(ChatReply(content="重新说一遍。"))
        m.regenerate()
        assert new_turn(before, m.conversation())[1] == "重新说一遍。"
        assert [purpose_of(r) for r in openai_server.chat_requests[-1:]] == ["chat"]


def test_nothing_to_regenerate_after_the_conversation_ends(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    with pytest.raises(NotFound):
        mem.regenerate()
    mem.send("你好")
    mem.clear_conversation()
    with pytest.raises(NotFound):
        mem.edit_last("再来")
