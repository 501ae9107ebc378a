"""Where the current time sits, and what it costs a local model (the demo model).

The app sends the current time as a short system message right before the latest
user message (``TurnExtra.time_note``), so the request before it is the same bytes
from one minute to the next and llama.cpp reuses its cache of the conversation.
This runs the same Chinese conversation with the clock advanced 61 s before every
turn, four ways:

- ``system-note``: as the app sends it;
- ``note``: the note in brackets after the user's words;
- ``note-first``: the note in brackets before the user's words;
- ``top``: the time back in the system message's world section (before the change).

The layouts take turns, each with its own model instance. Printed per layout:
how many prompt tokens llama.cpp had to read per turn (the rest it kept from the
previous request; this does not depend on the machine's load), the model's own
time to first token (median and max over turns 2..n; this does), and how many
replies mention the time or copy the note.

    .venv/bin/python bench/prompt_cache.py [--turns 8] [--layouts note,top] [--show]
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
from dl_app.adapters.llm_local import LocalChatModel, plain_messages
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
TIME_WORDS = re.compile(r"现在的时间|\d{1,2}:\d{2}|\d+点|时间是|星期[一二三四五六日]|\[")


class Layout:
    """Moves the app's time note to where ``layout`` says, then asks the model."""

    def __init__(self, chat: LocalChatModel, layout: str) -> None:
        self.chat = chat
        self.layout = layout
        self.reread: list[int] = []  # prompt tokens llama.cpp had to read, per request

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chat, name)

    def _moved(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [dict(m) for m in messages]
        last = max(i for i, m in enumerate(out) if m["role"] == "user")
        if self.layout == "system-note" or last < 2 or out[last - 1]["role"] != "system":
            return out
        note = str(out.pop(last - 1)["content"])
        last -= 1
        if self.layout == "note":
            out[last]["content"] = f"{out[last]['content']}\n\n[{note}]"
        elif self.layout == "note-first":
            out[last]["content"] = f"[{note}]\n{out[last]['content']}"
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
        # The prompt's tokens as the adapter makes them, against what llama.cpp holds.
        llm = self.chat._load()
        prompt = self.chat._formatter(messages=plain_messages(moved.messages))
        ids = llm.tokenize(prompt.prompt.encode("utf-8"), add_bos=not prompt.added_special,
                           special=True)
        held = list(llm._input_ids)
        same = next((i for i, (a, b) in enumerate(zip(held, ids, strict=False)) if a != b),
                    min(len(held), len(ids)))
        self.reread.append(len(ids) - same)
        return self.chat.stream(moved)


class Run:
    """One layout's conversation: its own model instance (so its own cache) and data dir."""

    def __init__(self, layout: str, root: Path) -> None:
        root.mkdir()
        (root / "settings.json").write_text(json.dumps({
            "language": "zh", "llm": {"provider": "demo"},
            "memory": {"token_budget": 3000, "reply_tokens": 64},
        }), encoding="utf-8")
        self.layout = layout
        self.chat = LocalChatModel(3000)
        self.clock = FixedClock(1_764_000_000_000, offset_minutes=480, zone="Asia/Shanghai")
        self.mem = Memory.open(root, env={"LANG": "zh_CN.UTF-8"}, chat=self.chat,
                               clock=self.clock)
        self.wrapped = Layout(self.chat, layout)
        self.mem._engine.chat = self.wrapped  # type: ignore[assignment]
        self.ttft: list[float] = []
        self.prompts: list[int] = []
        self.mentions = 0

    def turn(self, i: int, show: bool) -> None:
        self.clock.advance(61_000)
        n = len(self.chat.requests)
        reply = self.mem.send(TURNS[i % len(TURNS)]).reply
        r = self.chat.requests[n]
        if i:  # the first turn fills the cache
            self.ttft.append((r.first_token_s or r.total_s) * 1000)
            self.prompts.append(r.prompt_tokens)
        self.mentions += bool(TIME_WORDS.search(reply))
        if show:
            print(f"    {self.layout}: {reply!r}")

    def report(self, turns: int) -> None:
        reread = self.wrapped.reread[1:]
        print(f"  {self.layout:12s} prompt tokens read per turn p50 "
              f"{statistics.median(reread):4.0f} of {statistics.median(self.prompts):4.0f}; "
              f"first token p50 {statistics.median(self.ttft):5.0f} ms, "
              f"max {max(self.ttft):5.0f} ms; replies mentioning the time or the note: "
              f"{self.mentions}/{turns}")
        self.mem.close()
        self.chat.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--layouts", default="system-note,note,note-first,top")
    ap.add_argument("--show", action="store_true", help="print every reply")
    args = ap.parse_args()
    problem = demo_model.check()
    if problem is not None:
        sys.exit(f"demo model unavailable: {problem}")
    layouts = args.layouts.split(",")
    print(f"{args.turns} turns, the clock 61 s later each turn; the layouts take turns "
          "(so a busy machine slows them alike), each with its own model instance")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [Run(name, Path(tmp) / name) for name in layouts]
        print(f"model: {runs[0].chat.model_name}")
        for i in range(args.turns):
            for run in runs:
                run.turn(i, args.show)
        for run in runs:
            run.report(args.turns)


if __name__ == "__main__":
    main()
