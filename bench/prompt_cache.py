"""Where the current time sits, and what it costs a local model (the demo model).

The app puts the current time after the latest user message (``TurnExtra.time_note``),
so the request before it is the same bytes from one minute to the next and
llama.cpp reuses its cache of the conversation. This runs the same Chinese
conversation with the clock advanced 61 s before every turn, three ways:

- ``note``: as the app sends it (the time after the user's message);
- ``system-note``: the same note as a system message before the user's message;
- ``top``: the time back in the system message's world section (before the change).

and prints, per layout, the model's own time to first token (median and max over
turns 2..n) and how many replies mention the time or copy the note.

    .venv/bin/python bench/prompt_cache.py [--turns 8]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dl_app.adapters import demo_model
from dl_app.adapters.clock import FixedClock
from dl_app.adapters.llm_local import LocalChatModel
from dl_app.core.ports import ChatDelta, ChatRequest, ChatResult
from dl_app.memory import Memory

TURNS = [
    "你好！我叫小林，今天刚下班。",
    "我家的猫咪咪今天打翻了水杯，哈哈。",
    "周末想去杭州玩，你有什么推荐吗？",
    "最近在学吉他，手指好疼。",
    "下雨天最适合在家看电影了。",
    "你喜欢什么样的电影？",
    "我明天要早起开会，有点紧张。",
    "你还记得我叫什么名字吗？",
    "今天晚饭吃了火锅，好撑。",
    "好了，我要去睡觉了，晚安。",
]
NOTE = re.compile(r"\n\n(\[[^\]\n]*\])$")
TIME_WORDS = re.compile(r"现在的时间|\d{1,2}:\d{2}|\d+点|时间是|星期[一二三四五六日]|\[")


class Layout:
    """Moves the app's time note to where ``layout`` says, then asks the model."""

    def __init__(self, chat: LocalChatModel, layout: str) -> None:
        self.chat = chat
        self.layout = layout

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chat, name)

    def _moved(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [dict(m) for m in messages]
        last = max(i for i, m in enumerate(out) if m["role"] == "user")
        found = NOTE.search(str(out[last]["content"]))
        if self.layout == "note" or not found:
            return out
        out[last]["content"] = str(out[last]["content"])[: found.start()]
        note = found.group(1).strip("[]")
        if self.layout == "system-note":
            out.insert(last, {"role": "system", "content": note})
        else:  # top: the world section of the system message, as before
            system = str(out[0]["content"])
            at = system.find("\n", system.rfind("# ")) + 1
            out[0]["content"] = f"{system[:at]}{note}\n{system[at:]}"
        return out

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        moved = ChatRequest(
            messages=self._moved(request.messages), max_tokens=request.max_tokens,
            tools=request.tools, temperature=request.temperature, purpose=request.purpose,
        )
        return self.chat.stream(moved)


def run(layout: str, turns: int, chat: LocalChatModel) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "settings.json").write_text(json.dumps({
            "language": "zh", "llm": {"provider": "demo"},
            "memory": {"token_budget": 3000, "reply_tokens": 64},
        }), encoding="utf-8")
        clock = FixedClock(1_764_000_000_000, offset_minutes=480, zone="Asia/Shanghai")
        mem = Memory.open(root, env={"LANG": "zh_CN.UTF-8"}, chat=chat, clock=clock)
        mem._engine.chat = Layout(chat, layout)  # type: ignore[assignment]
        chat._load().reset()  # every layout starts from an empty cache
        ttft, mentions = [], 0
        for i in range(turns):
            clock.advance(61_000)
            n = len(chat.requests)
            reply = mem.send(TURNS[i % len(TURNS)]).reply
            r = chat.requests[n]
            if i:
                ttft.append((r.first_token_s or r.total_s) * 1000)
            mentions += bool(TIME_WORDS.search(reply))
        mem.close()
    print(f"  {layout:12s} first token p50 {statistics.median(ttft):6.0f} ms, "
          f"max {max(ttft):6.0f} ms; replies mentioning the time or the note: "
          f"{mentions}/{turns}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=8)
    args = ap.parse_args()
    problem = demo_model.check()
    if problem is not None:
        sys.exit(f"demo model unavailable: {problem}")
    chat = LocalChatModel(3000)
    print(f"{chat.model_name}: {args.turns} turns, the clock 61 s later each turn")
    for layout in ("note", "system-note", "top"):
        run(layout, args.turns, chat)
    chat.close()


if __name__ == "__main__":
    main()
