"""Shared by the bridge tests: an event collector, the environment pointing the
app at the scripted server, and ``ok`` for results. The ``events``/``data_dir``/
``api`` fixtures built on them live in conftest.py."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from servers.openai_compat import OpenAICompatServer


class Events:
    """Collects what the bridge emits, thread-safely."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        json.dumps(payload)  # every payload must be JSON
        with self._lock:
            self.items.append((name, payload))

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for n, p in self.items if n == name]


def make_env(server: OpenAICompatServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
    env.update(
        DL_LLM_BASE_URL=server.base_url, DL_LLM_MODEL="qwen-test",
        DL_EMBED_BASE_URL=server.base_url, DL_EMBED_MODEL="test-embed", LANG="zh_CN.UTF-8",
    )
    env.update(extra)
    return env


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"] is True, result
    return result
