"""A default responder that plays every part the engine asks of a model.

It tells the engine's requests apart by their prompts (chat requests carry a
system message; memory housekeeping sends one user message) and answers each
deterministically, so long scripted runs (tests, the budget benchmark) need no
per-turn scripting. ``purpose_of`` is also handy for assertions.
"""

from __future__ import annotations

import re

from .openai_wire import ChatReply, RecordedRequest

_MARKERS = {
    "summary": ("# 新增对话内容", "# New messages"),
    "diary": ("写一篇简短的日记", "Write a short first-person diary entry"),
    "title": ("起一个简短的标题", "Give the following diary entry a short title"),
    "self": ("更新你对自己的记忆", "update what you remember about yourself"),
    "profile": ("更新你对用户的记忆", "update what you remember about the user"),
}


def purpose_of(request: RecordedRequest) -> str:
    """chat, summary, diary, title, self or profile."""
    if request.system_text:
        return "chat"
    text = request.last_user_text
    for purpose, markers in _MARKERS.items():
        if any(m in text for m in markers):
            return purpose
    return "unknown"


def _section(text: str, heading: str) -> str:
    match = re.search(rf"# {re.escape(heading)}\n(.*?)(?:\n# |\Z)", text, re.S)
    return match.group(1).strip() if match else ""


def companion_responder(request: RecordedRequest) -> ChatReply:
    purpose = purpose_of(request)
    text = request.last_user_text
    if purpose == "chat":
        said = " ".join(text.split())[:60]
        return ChatReply(content=f"嗯嗯，我记住了：{said}")
    if purpose == "summary":
        new = _section(text, "新增对话内容") or _section(text, "New messages")
        lines = [ln for ln in new.splitlines() if ln.strip()]
        gist = " ".join(ln.split(":", 1)[-1].strip()[:30] for ln in lines[-4:])
        return ChatReply(content=f"我们聊了：{gist}")
    if purpose == "diary":
        return ChatReply(content="今天我和用户聊了很多，我很开心。用户说了自己的近况。")
    if purpose == "title":
        return ChatReply(content="《愉快的聊天》")
    if purpose == "self":
        return ChatReply(content="我是一个喜欢聊天的数字生命。")
    if purpose == "profile":
        return ChatReply(content="用户喜欢和我聊天。")
    return ChatReply(content="好的。")
