"""Degraded, not dead (issue 18): the embedding service down at start and
during use. The memory opens and answers by full text, says what is limited,
asks the service again on its backoff schedule, and when it is back fills in
the vectors that entries and archived turns lack.

Real parts: the scripted OpenAI-compatible server (``embedding_error`` takes
it down), LanceDB and SQLite in a temp dir; a settable clock drives the
schedule, ``ServiceWatch.tick`` stands in for its thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.embed_openai import OpenAIEmbedder
from dl_app.core.errors import DLError
from dl_app.core.health import EMBEDDINGS
from dl_app.memory import Memory
from dl_app.messages import render
from dl_app.service_watch import ServiceWatch
from servers.openai_compat import OpenAICompatServer

T0 = 1_700_000_000_000
DAY = 86_400_000
TURNS = [
    ("e-car", "user", "今天终于提车了，白色的！"),
    ("e-car", "assistant", "恭喜！开车注意安全。"),
    ("e-trip", "user", "下个月我想去大理旅行。"),
    ("e-trip", "assistant", "大理很美。"),
]


def export() -> dict[str, Any]:
    start = {"e-car": T0, "e-trip": T0 + DAY}
    diary = [{"uuid": e, "title": t, "summary": s, "startTime": start[e],
              "endTime": start[e] + 600_000}
             for e, t, s in [("e-car", "提车", "用户买了新车。"),
                             ("e-trip", "旅行计划", "用户计划去大理。")]]
    archive = [{"id": f"m{i}", "belongTo": e, "role": r, "content": t,
                "timestamp": start[e] + i * 60_000} for i, (e, r, t) in enumerate(TURNS)]
    return {"selfName": "小叶子", "userName": "阿明", "memoryAboutSelf": "",
            "memoryAboutUser": "", "currentSummary": "", "longTermMemory": diary,
            "shortTermMemory": [], "archivedMemory": archive}


@pytest.fixture
def down(openai_server: OpenAICompatServer, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Memory, FixedClock]]:
    """A memory whose embedding service is down from the start (503), with two
    diary entries and their conversations imported meanwhile."""
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    openai_server.embedding_error = 503
    clock = FixedClock(T0 + 2 * DAY)
    embedder = OpenAIEmbedder(openai_server.base_url, "", "remote-embed", max_retries=0)
    raw = json.dumps(export(), ensure_ascii=False).encode()
    with Memory.open(tmp_path / "data", embedder=embedder, clock=clock) as mem:
        report = mem.import_bytes(raw)
        assert any("full-text search works" in render(w, "en") for w in report.warnings)
        yield mem, clock


def test_the_embedder_down_at_start_then_back_fills_every_missing_vector(
    down: tuple[Memory, FixedClock], openai_server: OpenAICompatServer
) -> None:
    mem, clock = down
    heard: list[tuple[str, DLError | None]] = []
    filled: list[int] = []
    watch = ServiceWatch(mem, on_change=lambda s, e: heard.append((s, e)),
                         on_filled=filled.append)
    try:
        watch.first_check()  # what the thread does first
        assert [s for s, _ in heard] == [EMBEDDINGS] and heard[0][1] is not None
        assert "embedding service" in str(mem.embedding_problem())
        assert EMBEDDINGS in watch.limited()
        # Meanwhile recall answers by full text, and the entries show unindexed.
        hits = mem.search_evidence("提车", k=3, budget=400)
        assert [h.entry.uuid for h in hits][:1] == ["e-car"]
        assert mem.index_status().indexed == 0
        assert mem._engine.indexer.turn_status() == (0, len(TURNS))

        asked = len(openai_server.embedding_requests)
        # The import's failure, then the first check's: the next probe in 2 s.
        assert watch.tick() == 2.0  # not due yet: nobody is asked
        assert len(openai_server.embedding_requests) == asked
        clock.advance(2000)
        assert watch.tick() == 4.0  # asked, still down: the next in 4 s
        assert len(openai_server.embedding_requests) == asked + 1
        assert filled == [] and len(heard) == 1  # said once

        openai_server.embedding_error = None  # the service is back
        clock.advance(4000)
        assert watch.tick() is None  # nothing limited, nothing more to ask
        assert filled == [2 + len(TURNS)]
        assert [(s, e is None) for s, e in heard] == [(EMBEDDINGS, False), (EMBEDDINGS, True)]
        assert watch.limited() == {} and mem.embedding_problem() is None
        assert mem.index_status().indexed == 2
        assert mem._engine.indexer.turn_status() == (len(TURNS), len(TURNS))
        assert mem.diary_page().unindexed == set()
    finally:
        watch.stop()


def test_a_failure_during_use_is_said_once_and_a_success_during_use_ends_it(
    down: tuple[Memory, FixedClock], openai_server: OpenAICompatServer
) -> None:
    mem, _clock = down
    openai_server.embedding_error = None
    heard: list[tuple[str, bool]] = []
    watch = ServiceWatch(mem, on_change=lambda s, e: heard.append((s, e is None)))
    try:
        watch.first_check()  # back at start: what the import could not embed is filled in
        assert heard == [(EMBEDDINGS, False), (EMBEDDINGS, True)]
        assert mem.index_status().indexed == 2
        heard.clear()
        openai_server.embedding_error = 503  # down during use
        hits = mem.search_evidence("大理", k=3, budget=400)  # the query's embedding fails
        assert [h.entry.uuid for h in hits][:1] == ["e-trip"]  # full text answers
        mem.search_evidence("提车", k=3, budget=400)
        assert heard == [(EMBEDDINGS, False)]  # said once
        openai_server.embedding_error = None
        mem.search_evidence("大理", k=3, budget=400)  # the next use succeeds: back
        assert heard == [(EMBEDDINGS, False), (EMBEDDINGS, True)]
    finally:
        watch.stop()


def test_the_watch_thread_fills_in_without_being_driven(
    down: tuple[Memory, FixedClock], openai_server: OpenAICompatServer
) -> None:
    mem, _clock = down
    openai_server.embedding_error = None
    done = threading.Event()
    watch = ServiceWatch(mem, on_filled=lambda _n: done.set()).start()
    try:
        assert done.wait(60), "the vectors were not filled in"
        assert mem.index_status().indexed == 2
    finally:
        watch.stop()


class CountingLock:
    """A lock that counts how often it was taken (the bridge's call lock's stand-in)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    def acquire(self, timeout: float = -1) -> bool:
        got = self._lock.acquire(timeout=timeout)
        self.taken += got
        return got

    def release(self) -> None:
        self._lock.release()


def test_vectors_are_filled_in_rounds_with_the_lock_free_between_them(
    down: tuple[Memory, FixedClock], openai_server: OpenAICompatServer
) -> None:
    mem, _clock = down
    openai_server.embedding_error = None
    lock, steps, filled = CountingLock(), [], []
    watch = ServiceWatch(mem, lock, progress=lambda d, t: steps.append((d, t)),
                         on_filled=filled.append, round_size=2)
    try:
        watch.first_check()
        # Each round of 2 takes the lock twice (to read, to write), then one finds none.
        assert filled == [6] and lock.taken == 3 * 2 + 1
        assert steps[-1] == (6, 6) and all(t == 6 for _, t in steps)  # one count throughout
        assert mem.index_status().indexed == 2
        assert mem._engine.indexer.turn_status() == (len(TURNS), len(TURNS))
    finally:
        watch.stop()


def test_the_embedder_is_asked_without_the_lock_and_an_entry_edited_meanwhile_keeps_its_edit(
    down: tuple[Memory, FixedClock], openai_server: OpenAICompatServer
) -> None:
    mem, _clock = down
    openai_server.embedding_error = None
    lock = CountingLock()
    seen: list[tuple[bool, bool]] = []  # (call lock free, memory lock free) per request

    def meanwhile(texts: list[str]) -> None:
        if not any("用户买了新车" in t for t in texts) or seen:
            return  # only the fill's first request (the edit below embeds too)
        free = lock._lock.acquire(timeout=5)
        if free:
            lock._lock.release()
        engine_free = mem._engine.lock.acquire(timeout=5)
        if engine_free:
            mem._engine.lock.release()
        seen.append((free, engine_free))
        # A reply could run now; here the user edits the entry being embedded.
        if engine_free:  # (else it would wait for the fill, which waits for this answer)
            mem.update_diary_entry("e-car", "提车", "用户买了一辆白色的新车。")

    openai_server.on_embedding = meanwhile
    filled: list[int] = []
    watch = ServiceWatch(mem, lock, on_filled=filled.append)
    try:
        watch.first_check()
        assert seen == [(True, True)]  # neither lock was held while the service worked
        entry = mem.diary_entry("e-car")
        assert entry.summary == "用户买了一辆白色的新车。"  # the edit stands
        assert mem.index_status().indexed == 2 and mem.diary_page().unindexed == set()
        assert mem._engine.indexer.turn_status() == (len(TURNS), len(TURNS))
        # The edit embedded e-car itself; the fill wrote the other entry and the turns.
        assert filled == [1 + len(TURNS)]
        hits = mem.search("白色的新车", k=1)
        assert [h.entry.uuid for h in hits] == ["e-car"]
    finally:
        watch.stop()
