"""The window's chat before the diary's stores are open (issue 14: a usable window
sooner): what the page asks for on its start (``frontend/js/app.js``) is answered while
the opening of LanceDB is held; a message sent then waits for it and is answered with
recall once it is open; an opening that fails is reported to the page at once and by
the next call, as the memory's opening failure was.

Real parts: the bridge (``Api``) over LanceDB and SQLite in a temp dir, the scripted
OpenAI-compatible server as the model and embedder. The opening is LanceDB's own,
behind an event the test holds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge_helpers import Events, make_env, ok
from dl_app.adapters import lance_stores
from dl_app.bridge.api import Api
from dl_app.core.errors import StoreError
from dl_app.core.ports import DiaryStore, TurnIndex
from dl_app.settings import SETTINGS_FILE
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer

WAIT = 60  # s: only a hang reaches it
FACT = "我的新车车牌号是沪A·53Q71，白色的。"
# What the page awaits on its start, in its order, up to page_ready (app.js start());
# then it asks for the greeting and the gauge (chat.js), which wait for the stores.
PAGE_START = ["app_info", "settings_get", "chat_history", "setup_status", "service_health",
              "page_ready"]


class HeldOpening:
    """LanceDB's opening of the stores, held until ``release()``."""

    def __init__(self, real: Callable[[Path], tuple[DiaryStore, TurnIndex]]) -> None:
        self.real = real
        self.entered = threading.Event()
        self.released = threading.Event()
        self.error: Exception | None = None
        self.path = Path()  # the data dir of the test, for its checks

    def __call__(self, path: Path) -> tuple[DiaryStore, TurnIndex]:
        self.entered.set()
        assert self.released.wait(WAIT)
        if self.error is not None:
            raise self.error
        return self.real(path)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldOpening:
    opening = HeldOpening(lance_stores.open_lance)
    monkeypatch.setattr(lance_stores, "open_lance", opening)
    return opening


def call_all(api: Api, names: list[str]) -> dict[str, dict[str, Any]]:
    """The calls, one after another on a thread of their own (as the page's are);
    fails if they do not all return (they waited for the held stores)."""
    out: dict[str, dict[str, Any]] = {}

    def run() -> None:
        for name in names:
            out[name] = getattr(api, name)()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), f"the page's start waited; answered: {list(out)}"
    return out


def wait_for(events: Events, name: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT
    while not events.named(name):
        assert time.monotonic() < deadline, f"no {name} event"
        time.sleep(0.01)
    return events.named(name)


def seeded(server: OpenAICompatServer, data_dir: Path) -> str:
    """A data dir with a diary entry of the fact; its uuid."""
    data_dir.mkdir(parents=True)
    (data_dir / SETTINGS_FILE).write_text(json.dumps({"llm": {"recall_mode": "auto"}}))
    server.default_responder = companion_responder
    api = Api(data_dir, env=make_env(server), emit=Events())
    try:
        for text in (FACT, "周末我们去公园散步了。", "最近在学做红烧肉。", "工作有点忙，经常加班。"):
            server.enqueue(ChatReply(content="OK"))
            ok(api.chat_send({"text": text}))
        return str(ok(api.memory_consolidate())["entry"]["uuid"])
    finally:
        api.close()


def page_start(api: Api, held: HeldOpening) -> dict[str, dict[str, Any]]:
    """The page's start while the stores' opening is held: every answer."""
    held.entered.clear()
    held.released.clear()
    start = call_all(api, PAGE_START)
    assert held.entered.wait(WAIT)  # page_ready began the opening, on a thread
    assert not held.released.is_set()
    for result in start.values():
        ok(result)
    assert start["app_info"]["data_dir"] == str(held.path)
    return start


def test_the_page_starts_before_the_stores_open_and_a_message_sent_then_recalls(
    openai_server: OpenAICompatServer, data_dir: Path, held: HeldOpening
) -> None:
    held.release()  # the first run opens them freely
    uuid = seeded(openai_server, data_dir)
    held.path = data_dir
    question = "你还记得我的车牌号吗？"
    api = Api(data_dir, env=make_env(openai_server), emit=Events())
    try:
        assert page_start(api, held)["chat_history"]["messages"] == []
        asked = len(openai_server.chat_requests)
        sent: dict[str, Any] = {}
        later = [threading.Thread(target=getattr(api, n), daemon=True)
                 for n in ("chat_greeting", "budget_gauge")]
        later.append(threading.Thread(
            target=lambda: sent.update(api.chat_send({"text": question})), daemon=True))
        for thread in later:
            thread.start()
        held.release()
        for thread in later:
            thread.join(WAIT)
            assert not thread.is_alive()
        recalled = ok(sent)["recalled"]
        assert [r["uuid"] for r in recalled] == [uuid]
        chats = [r for r in openai_server.chat_requests[asked:] if purpose_of(r) == "chat"]
        assert FACT in chats[-1].body["messages"][0]["content"]  # recalled, word for word
        ok(api.budget_gauge())
    finally:
        held.release()
        api.close()

    # Started again: the conversation shows, with what it recalled, before they open.
    api = Api(data_dir, env=make_env(openai_server), emit=Events())
    try:
        history = page_start(api, held)["chat_history"]["messages"]
        assert [m["role"] for m in history] == ["user", "assistant"]
        assert history[0]["content"] == question and history[1]["recalled"] == recalled
    finally:
        held.release()
        api.close()


def test_an_opening_that_fails_is_reported_at_once_and_by_the_next_call(
    openai_server: OpenAICompatServer, data_dir: Path, held: HeldOpening
) -> None:
    events = Events()
    api = Api(data_dir, env=make_env(openai_server), emit=events)
    try:
        held.error = StoreError("diary.lance cannot be read")
        start = call_all(api, ["app_info", "chat_history", "page_ready"])
        assert all(r["ok"] for r in start.values()), start
        held.release()
        status = wait_for(events, "memory.status")
        assert status == [{"ok": False, "error": {"type": "StoreError",
                                                   "message": "diary.lance cannot be read"}}]
        for _ in range(2):  # opened again on each call, as the memory was
            failed = api.chat_history()
            assert failed["ok"] is False and failed["error"] == status[0]["error"]
        failed = api.chat_send({"text": "你好"})
        assert failed["ok"] is False and failed["error"]["type"] == "StoreError"

        held.error = None  # repaired: the next call opens them
        ok(api.chat_history())
        ok(api.diary_list())
        assert len(events.named("memory.status")) == 1
    finally:
        api.close()


def test_changes_of_settings_while_the_stores_open_do_not_wait_for_them(
    openai_server: OpenAICompatServer, data_dir: Path, held: HeldOpening
) -> None:
    # The app closes its memory at every change of settings, under the lock every page
    # call waits on. Closing waited for LanceDB's opening under way, and the gauge and
    # the greeting (asked for at the page's start) waited for it under that lock: each
    # change of settings in a row (theme, language, voice...) waited seconds on a busy
    # machine, and the page's forms were drawn again under the tests' hands.
    held.path = data_dir
    api = Api(data_dir, env=make_env(openai_server), emit=Events())
    try:
        page_start(api, held)  # the opening begun by page_ready is held
        gauge: dict[str, Any] = {}  # the page asks for it now; it needs the diary
        waiting = threading.Thread(target=lambda: gauge.update(api.budget_gauge()), daemon=True)
        waiting.start()
        changed: list[dict[str, Any]] = []

        def change() -> None:
            for budget in (3500, 4000):
                changed.append(api.settings_set({"patch": {"memory": {"token_budget": budget}}}))
                changed.append(api.app_info())  # the memory opened again (its stores later)

        thread = threading.Thread(target=change, daemon=True)
        thread.start()
        thread.join(WAIT)
        assert not thread.is_alive() and not held.released.is_set()
        for result in changed:
            ok(result)
        assert waiting.is_alive()  # it waits for the stores of the newest memory
        held.release()
        waiting.join(WAIT)
        assert not waiting.is_alive()
        assert ok(gauge)["budget"] == 4000
    finally:
        held.release()
        api.close()
