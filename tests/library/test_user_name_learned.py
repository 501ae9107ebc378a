"""The user says their name in chat while the name is still the first start's
placeholder (setup skipped): that reply already calls them by it, the profile
keeps it (the old name in its history), the user is told; a name the user chose
is never replaced, and a failed turn changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dl_app.core.errors import DLError
from dl_app.memory import Memory
from dl_app.messages import render
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer


def _open(root: Path, server: OpenAICompatServer, lang: str = "zh") -> Memory:
    root.mkdir(parents=True, exist_ok=True)
    (root / "settings.json").write_text(json.dumps({"language": lang}), encoding="utf-8")
    return Memory.open(root, env={"LANG": "zh_CN.UTF-8", "DL_LLM_BASE_URL": server.base_url,
                                  "DL_LLM_MODEL": "qwen-test"})


@pytest.fixture
def mem(openai_server: OpenAICompatServer, tmp_path: Path) -> Iterator[Memory]:
    openai_server.default_responder = companion_responder
    m = _open(tmp_path / "data", openai_server)
    yield m
    m.close()


def test_the_name_said_in_chat_replaces_the_placeholder(
    mem: Memory, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    assert mem.profile().user_name == "旅行者"
    result = mem.send("你好！我叫小林。今天刚下班，有点累。")
    system = openai_server.chat_requests[-1].system_text
    assert "用户叫小林" in system and "旅行者" not in system  # this reply already
    assert result.named == "小林"
    assert [render(n, "zh") for n in result.notices] == [
        "以后就叫你小林啦（可以在「记忆」页修改名字）"]
    assert mem.profile().user_name == "小林"
    assert [p.user_name for _, p in mem.profile_history()][-1:] == ["旅行者"]
    mem.send("我叫什么？")  # a question, not a new name
    assert mem.profile().user_name == "小林"
    assert "用户叫小林" in openai_server.chat_requests[-1].system_text
    mem.close()
    again = _open(tmp_path / "data", openai_server, lang="en")  # kept, in any UI language
    try:
        assert again.profile().user_name == "小林"
        assert again.send("My name is Maya").named == ""  # no longer a placeholder
        assert again.profile().user_name == "小林"
    finally:
        again.close()


def test_a_chosen_name_stays(mem: Memory, openai_server: OpenAICompatServer) -> None:
    mem.set_profile(user_name="阿明")
    result = mem.send("叫我小林就好。")
    assert result.named == "" and result.notices == []
    assert mem.profile().user_name == "阿明"
    assert "用户叫阿明" in openai_server.chat_requests[-1].system_text


def test_a_failed_turn_learns_nothing(mem: Memory, openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(*[ChatReply(status=400, error_body={"error": {"message": "no"}})] * 3)
    with pytest.raises(DLError):
        mem.send("你好，我叫小林。")
    assert mem.profile().user_name == "旅行者"
    assert mem.conversation().messages == []
