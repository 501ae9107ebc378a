"""Check-in tests' helpers: the scripted model's check-in replies and a data dir
opened and reopened with a fake clock (``tests/library/test_checkins.py``, the
chat page test in ``tests/pages/test_followups_playwright.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dl_app.adapters.clock import FixedClock
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer, RecordedRequest

T0 = 1_764_000_000_000 + 9 * 3_600_000  # Tuesday 25 November 2025, 09:00 at UTC+08:00
HOUR = 3_600_000
DAY = 24 * HOUR
SAT_9 = T0 + 4 * DAY  # Saturday 29 November, 09:00: the exam on Friday is over


def is_checkin(r: RecordedRequest) -> bool:
    text = r.last_user_text
    return not r.system_text and ("怎么样了" in text or ("ask" in text and "how it went" in text))


def checker(r: RecordedRequest) -> ChatReply:
    return ChatReply(content="考试怎么样？" if "考试" in r.last_user_text else "How did it go?")


def checkins(server: OpenAICompatServer) -> list[RecordedRequest]:
    return [r for r in server.chat_requests if is_checkin(r)]


class Home:
    """A data dir opened and reopened with a fake clock and the scripted model."""

    def __init__(self, root: Path, server: OpenAICompatServer, clock: FixedClock) -> None:
        self.root, self.server, self.clock = root, server, clock
        server.default_responder = companion_responder
        server.route(is_checkin, checker)
        self.mem: Memory | None = None

    def open(self, lang: str = "zh", **plugins: Any) -> Memory:
        if self.mem is not None:
            self.mem.close()
        settings = {"language": lang, "plugins": {"checkins_enabled": True, **plugins}}
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        env = {"LANG": "zh_CN.UTF-8", "DL_LLM_BASE_URL": self.server.base_url,
               "DL_LLM_MODEL": "qwen-test"}
        self.mem = Memory.open(self.root, env=env, clock=self.clock)
        return self.mem

    def say(self, *texts: str) -> None:
        assert self.mem is not None
        for t in texts:
            self.mem.send(t)
        self.mem.consolidate()


