"""Pictures the companion sends: the ``send_picture`` tool against the scripted
server's ``/images/generations``; the real engine, stores and data dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.images_openai import OpenAIImageMaker
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.bridge import views
from dl_app.core.errors import AuthFailed, ServerFailed
from dl_app.core.tokens import request_tokens
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import TINY_PNG, ChatReply, OpenAICompatServer, ToolCallReply

T0 = 1_764_000_000_000
COUNTER = QwenCounter()
CALL = ToolCallReply("send_picture", {"prompt": "a red fox in the snow"})


def open_mem(server: OpenAICompatServer, root: Path, enabled: bool) -> Memory:
    root.mkdir(parents=True, exist_ok=True)
    images = {"enabled": enabled, "base_url": server.base_url, "model": "img-test"}
    (root / "settings.json").write_text(json.dumps({"images": images}))
    clock = FixedClock(T0, offset_minutes=480, zone="Asia/Shanghai")
    return Memory.open(root, clock=clock)


@pytest.fixture
def env(openai_server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    openai_server.default_responder = companion_responder


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path, env: None) -> Iterator[Memory]:
    with open_mem(openai_server, tmp_path / "data", True) as m:
        yield m


def tool_names(body: dict) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]


def within_budget(server: OpenAICompatServer, budget: int) -> None:
    totals = [
        request_tokens(COUNTER, r.body["messages"], r.body.get("tools")) + r.body["max_tokens"]
        for r in server.chat_requests
    ]
    assert totals and max(totals) <= budget, totals


def test_the_companion_sends_a_picture_kept_with_the_conversation(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(ChatReply(tool_calls=[CALL]), ChatReply(content="Here is your fox!"))
    result = mem.send("Can you draw me a fox?")
    first = openai_server.chat_requests[0].body
    assert "send_picture" in tool_names(first) and "get_memory" in tool_names(first)
    assert result.reply == "Here is your fox!"
    (img,) = openai_server.image_requests
    assert img.body["prompt"] == "a red fox in the snow"
    assert img.body["model"] == "img-test" and img.body["size"] == "512x512"
    assert img.body["response_format"] == "b64_json" and img.body["n"] == 1
    reply = result.messages[-1]
    (att,) = reply.attachments
    assert att.kind == "image" and att.mime == "image/png"
    _, path = mem.attachment(att.id)
    assert path.read_bytes() == TINY_PNG and path.parent == mem.data_dir / "attachments"
    # kept with the conversation: the history shows it on the reply
    history = mem.conversation().messages
    assert history[-1].attachments[0].id == att.id
    tool_msg = next(m for m in result.messages if m.role == "tool")
    assert "sent" in tool_msg.content
    assert views.attachments(history[-1])[0]["id"] == att.id
    within_budget(openai_server, mem.settings.memory.token_budget)
    # a later turn carries the picture's note, not the file
    mem.send("Thanks!")
    later = json.dumps(openai_server.chat_requests[-1].body["messages"], ensure_ascii=False)
    assert "a picture I sent: a red fox in the snow" in later
    within_budget(openai_server, mem.settings.memory.token_budget)


def test_no_picture_tool_when_images_are_off(
    openai_server: OpenAICompatServer, tmp_path: Path, env: None
) -> None:
    with open_mem(openai_server, tmp_path / "data", False) as mem:
        assert mem._engine.pictures is None
        mem.send("Draw me a fox")
    for r in openai_server.chat_requests:
        assert "send_picture" not in tool_names(r.body)
    assert openai_server.image_requests == []


def test_a_failing_image_service_does_not_fail_the_turn(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    openai_server.image_error = 500
    openai_server.enqueue(
        ChatReply(tool_calls=[CALL]), ChatReply(content="Sorry, I could not draw it.")
    )
    result = mem.send("Can you draw me a fox?")
    assert result.reply == "Sorry, I could not draw it."
    assert result.messages[-1].attachments == []
    tool_msg = next(m for m in result.messages if m.role == "tool")
    assert "could not be made" in tool_msg.content and "500" in tool_msg.content
    assert not list((mem.data_dir / "attachments").glob("*")) if (
        mem.data_dir / "attachments"
    ).exists() else True
    within_budget(openai_server, mem.settings.memory.token_budget)


def test_adapter_errors(openai_server: OpenAICompatServer) -> None:
    maker = OpenAIImageMaker(openai_server.base_url, "", "img-test")
    assert maker.make("x") == (TINY_PNG, "image/png")
    openai_server.image_error = 500
    with pytest.raises(ServerFailed, match="image service"):
        maker.make("x")
    openai_server.image_error = 401
    with pytest.raises(AuthFailed):
        maker.make("x")


def test_bridge_chat_send_returns_and_serves_the_picture(
    openai_server: OpenAICompatServer, tmp_path: Path, env: None
) -> None:
    """Through the real bridge: the reply's picture comes back with chat_send and
    chat.done, and attachment_get serves it."""
    from dl_app.bridge import Api

    root = tmp_path / "bridge-data"
    root.mkdir()
    images = {"enabled": True, "base_url": openai_server.base_url, "model": "img-test"}
    (root / "settings.json").write_text(json.dumps({"images": images}))
    events: list[tuple[str, dict]] = []
    api = Api(root, emit=lambda name, payload: events.append((name, payload)))
    try:
        openai_server.enqueue(ChatReply(tool_calls=[CALL]), ChatReply(content="Done"))
        result = api.chat_send({"text": "Picture please"})
        assert result["ok"] is True, result
        (picture,) = result["reply_attachments"]
        assert picture["kind"] == "image" and picture["mime"] == "image/png"
        done = [p for n, p in events if n == "chat.done"]
        assert done and done[-1]["reply_attachments"] == result["reply_attachments"]
        served = api.attachment_get({"id": picture["id"]})
        assert served["ok"] is True
        assert served["data_url"].startswith("data:image/png;base64,")
    finally:
        api.close()
