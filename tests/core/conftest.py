"""The domain's tests: a fixed clock in Shanghai and a Chinese memory on the
scripted model (the tests that need another build their own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

T0 = 1_764_000_000_000  # Tuesday 25 November 2025, 00:00 at UTC+08:00


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0, offset_minutes=480, zone="Asia/Shanghai")


@pytest.fixture
def mem(
    openai_server: OpenAICompatServer, tmp_path: Path, clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Memory]:
    """A memory in Chinese whose every model part is the scripted server."""
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    openai_server.default_responder = companion_responder
    with Memory.open(tmp_path / "data", clock=clock) as m:
        yield m
