"""Automatic recall (``recall_mode: auto``, for models that call no tools)
quotes what was said: a question about an earlier conversation puts the exact
words of that conversation in the prompt, under the budget, in zh and en.

Real parts: the bridge (``Api``) over LanceDB and SQLite in a temp dir, the
built-in embedder, the scripted OpenAI-compatible server as the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge_helpers import Events, make_env, ok
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.bridge.api import Api
from dl_app.core.tokens import request_tokens
from dl_app.settings import SETTINGS_FILE
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer

DIARY_TEXT = "今天我和用户聊了很多"  # what the scripted model writes as the diary

TALK = {
    "zh": {
        "lang": "zh_CN.UTF-8",
        "fact": "我的新车车牌号是沪A·53Q71，白色的。",
        "others": ["周末我们去公园散步了。", "最近在学做红烧肉。", "工作有点忙，经常加班。"],
        "question": "你还记得我的车牌号吗？",
        "again": "车牌号我跟你说过的吧？",
    },
    "en": {
        "lang": "en_US.UTF-8",
        "fact": "My new car's licence plate is KX-7Q41, a white one.",
        "others": ["We walked in the park at the weekend.", "I am learning to cook pork.",
                   "Work is busy, lots of overtime."],
        "question": "Do you remember my licence plate?",
        "again": "I told you my licence plate, right?",
    },
}


def fits_budget(server: OpenAICompatServer, budget: int) -> None:
    """Every request the model got, counted by the real tokenizer, with its answer."""
    counter = QwenCounter()
    sizes = [request_tokens(counter, r.body["messages"], r.body.get("tools"))
             + r.body["max_tokens"] for r in server.chat_requests]
    assert sizes and max(sizes) <= budget, sizes


def open_api(server: OpenAICompatServer, data_dir: Path, lang: str) -> Api:
    return Api(data_dir, env=make_env(server, LANG=lang), emit=Events())


def recalled_text(preview: dict[str, Any]) -> str:
    return next((s["text"] for s in preview["sections"] if s["name"] == "recalled"), "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_question_about_an_earlier_conversation_brings_back_its_words(
    openai_server: OpenAICompatServer, data_dir: Path, lang: str
) -> None:
    talk = TALK[lang]
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text(json.dumps({"llm": {"recall_mode": "auto"}}))
    openai_server.default_responder = companion_responder
    api = open_api(openai_server, data_dir, talk["lang"])
    try:
        for text in [talk["fact"], *talk["others"]]:
            openai_server.enqueue(ChatReply(content="OK"))  # replies that repeat nothing
            ok(api.chat_send({"text": text}))
        entry = ok(api.memory_consolidate())["entry"]
        assert entry is not None

        res = ok(api.chat_send({"text": talk["question"]}))
        chats = [r for r in openai_server.chat_requests if purpose_of(r) == "chat"]
        system = chats[-1].body["messages"][0]["content"]
        assert "tools" not in chats[-1].body
        assert talk["fact"] in system  # the words, not a summary of them
        assert DIARY_TEXT not in system  # the entry's summary gave way to its words
        assert [r["uuid"] for r in res["recalled"]] == [entry["uuid"]]
        assert ok(api.chat_history())["messages"][-1]["recalled"] == res["recalled"]
        fits_budget(openai_server, 3000)

        # The inspector shows the same words in the recalled section, within its cap.
        preview = ok(api.context_preview({"text": "嗯"}))
        section = next(s for s in preview["sections"] if s["name"] == "recalled")
        assert talk["fact"] in section["text"] and section["tokens"] <= section["cap"]

        # Asked again: the words stay in the prompt, once (never quoted twice).
        ok(api.chat_send({"text": talk["again"]}))
        system = openai_server.chat_requests[-1].body["messages"][0]["content"]
        assert system.count(talk["fact"]) == 1
    finally:
        api.close()

    # After a restart the conversation's recalled words are still there.
    api = open_api(openai_server, data_dir, talk["lang"])
    try:
        assert talk["fact"] in recalled_text(ok(api.context_preview({"text": "嗯"})))
        # The export keeps its format: a user's message carries no recall.
        exported = json.loads(ok(api.transfer_export({}))["content"])
        for m in exported["shortTermMemory"]:
            assert "recall" not in m or m["role"] == "tool", m
        ok(api.transfer_preview({"content": json.dumps(exported)}))
        # Deleting the entry takes its words out of every later request.
        ok(api.diary_delete({"uuid": entry["uuid"]}))
        preview = ok(api.context_preview({"text": "嗯"}))
        system = preview["messages"][0]["content"]
        assert talk["fact"] not in system and entry["title"] not in system
    finally:
        api.close()


def test_quotes_fill_the_recalled_cap_and_every_request_fits_a_small_budget(
    openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    """Many long turns match: whole quotes, best first, within the section's cap."""
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text(json.dumps(
        {"llm": {"recall_mode": "auto"}, "memory": {"token_budget": 1500}}))
    openai_server.default_responder = companion_responder
    api = open_api(openai_server, data_dir, "zh_CN.UTF-8")
    said = [f"第{i}次说到咖啡：我喜欢在早上喝一杯拿铁，" + "慢慢地看着窗外的风景。" * 6
            for i in range(8)]
    try:
        for text in said:
            openai_server.enqueue(ChatReply(content="好"))
            ok(api.chat_send({"text": text}))
        ok(api.memory_consolidate())
        ok(api.chat_send({"text": "我以前说过喜欢喝什么咖啡？"}))
        fits_budget(openai_server, 1500)
        preview = ok(api.context_preview({"text": "嗯"}))
        section = next(s for s in preview["sections"] if s["name"] == "recalled")
        quoted = [t for t in said if t in section["text"]]
        assert 1 <= len(quoted) < len(said)  # whole quotes, as many as fit
        assert section["tokens"] <= section["cap"]
        assert preview["request_tokens"] <= 1500
    finally:
        api.close()
