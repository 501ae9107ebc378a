"""Stop, regenerate and edit through the bridge ``Api``, called as the page calls it
(stop from another thread, as the window and the HTTP server run calls), against
the scripted model server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge_helpers import Events, make_env, ok
from dl_app.bridge import Api
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer

WAIT = 20  # seconds at most for an event that must come


class Hooked(Events):
    """Events that also signal the first reply delta."""

    def __init__(self) -> None:
        super().__init__()
        self.first_delta = threading.Event()

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        super().__call__(name, payload)
        if name == "chat.delta":
            self.first_delta.set()


@pytest.fixture
def hooked() -> Hooked:
    return Hooked()


@pytest.fixture
def bridge(openai_server: OpenAICompatServer, tmp_path: Path, hooked: Hooked) -> Iterator[Api]:
    openai_server.default_responder = companion_responder
    api = Api(tmp_path / "data", env=make_env(openai_server), emit=hooked)
    yield api
    api.close()


def test_stop_keeps_what_was_said_and_marks_it(
    bridge: Api, hooked: Hooked, openai_server: OpenAICompatServer
) -> None:
    long = "我们去看海吧，海边的风很舒服。" * 40
    openai_server.enqueue(ChatReply(content=long, chunk_size=2, chunk_delay=0.02))
    out: dict[str, Any] = {}
    sender = threading.Thread(
        target=lambda: out.update(bridge.chat_send({"text": "周末做什么", "turn": "t1"}))
    )
    sender.start()
    assert hooked.first_delta.wait(WAIT)
    assert ok(bridge.chat_stop({"turn": "t1"}))["stopping"] is True
    sender.join(WAIT)
    res = ok(out)
    said = "".join(d["text"] for d in hooked.named("chat.delta"))
    assert res["stopped"] is True and res["reply"] == said and 0 < len(said) < len(long)
    assert hooked.named("chat.done")[-1]["stopped"] is True
    assert openai_server.stream_cut.wait(WAIT)
    history = ok(bridge.chat_history())
    assert [(m["role"], m["stopped"]) for m in history["messages"]] == [
        ("user", False), ("assistant", True)]
    assert history["messages"][1]["content"] == said and history["can_regenerate"] is True


def test_a_stop_before_the_reply_begins_stores_nothing(
    bridge: Api, hooked: Hooked, openai_server: OpenAICompatServer
) -> None:
    assert ok(bridge.chat_stop({}))["stopping"] is False  # nothing in flight
    assert ok(bridge.chat_stop({"turn": "t2"}))["stopping"] is False  # not begun yet
    res = bridge.chat_send({"text": "你好", "turn": "t2"})
    assert res["ok"] is False and res["error"]["type"] == "Stopped"
    assert res["error"]["message"] == "回复开始前已停止，没有保留任何内容。"
    assert hooked.named("chat.error")[-1]["type"] == "Stopped"
    assert ok(bridge.chat_history())["messages"] == []
    assert openai_server.chat_requests == []
    ok(bridge.chat_send({"text": "你好", "turn": "t3"}))  # the next turn is not stopped


def test_regenerate_and_edit_replace_the_last_turn(
    bridge: Api, hooked: Hooked, openai_server: OpenAICompatServer
) -> None:
    ok(bridge.chat_send({"text": "第一句"}))
    ok(bridge.chat_send({"text": "我想去爬山"}))
    openai_server.enqueue(ChatReply(content="爬山很好，记得带水。"))
    res = ok(bridge.chat_regenerate({"turn": "r1"}))
    assert res["reply"] == "爬山很好，记得带水。" and res["stopped"] is False
    assert hooked.named("chat.done")[-1]["reply"] == res["reply"]
    history = ok(bridge.chat_history())["messages"]
    assert [m["content"] for m in history][2:] == ["我想去爬山", "爬山很好，记得带水。"]
    assert history[-1]["id"] == res["message_id"] and history[-2]["id"] == res["user_message_id"]

    openai_server.enqueue(ChatReply(content="海边也不错。"))
    res = ok(bridge.chat_edit({"text": "我想去海边"}))
    history = ok(bridge.chat_history())["messages"]
    assert [m["content"] for m in history][1:] == ["嗯嗯，我记住了：第一句", "我想去海边", "海边也不错。"]

    ok(bridge.chat_clear())
    assert ok(bridge.chat_history())["can_regenerate"] is False
    res = bridge.chat_regenerate({})
    assert res["ok"] is False and res["error"]["type"] == "NotFound"


def test_edit_refuses_an_empty_text(bridge: Api) -> None:
    ok(bridge.chat_send({"text": "你好"}))
    res = bridge.chat_edit({"text": ""})
    assert res["ok"] is False and res["error"]["type"] == "InvalidInput"


def test_text_fit_says_when_a_message_would_be_cut(bridge: Api) -> None:
    short = ok(bridge.chat_text_fit({"text": "今天天气不错"}))
    assert short["cut"] is False and short["as_file_ratio"] == 1.0
    long = ok(bridge.chat_text_fit({"text": "".join(f"第{i}段：今天去了第{i}个地方。" for i in range(1500))}))
    assert long["cut"] is True and 0 < long["as_file"] < long["tokens"]
    assert long["as_file_ratio"] == round(long["as_file"] / long["tokens"], 4)
