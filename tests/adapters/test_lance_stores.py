"""The diary's stores opened off the caller's thread (``adapters/lance_stores.py``):
their stand-ins can be handed out and their methods taken before the stores are open;
each use waits for the opening, which runs once; its error reaches every use.

Real parts: LanceDB in a temp dir; the openings the tests hold are the real one behind
an event.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from dl_app.adapters.lance_stores import LanceStores, open_lance
from dl_app.core.errors import StoreError
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import DiaryStore, TurnIndex

WAIT = 60  # s: only a hang reaches it


class HeldOpening:
    """The real opening, held until ``release()``; counts how often it ran."""

    def __init__(self, error: Exception | None = None) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.error = error
        self.runs = 0

    def __call__(self, path: Path) -> tuple[DiaryStore, TurnIndex]:
        self.runs += 1
        self.entered.set()
        assert self.released.wait(WAIT)
        if self.error is not None:
            raise self.error
        return open_lance(path)

    def release(self) -> None:
        self.released.set()


def entry(uuid: str) -> DiaryEntry:
    return DiaryEntry(uuid=uuid, title="爬山", summary="周末去爬山了", start_time=1000,
                      end_time=2000, source_ids=[])


def in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_use_waits_for_the_opening_on_its_thread_and_sees_what_after_open_did(
    tmp_path: Path,
) -> None:
    held = HeldOpening()
    stores = LanceStores(tmp_path / "diary.lance", held)
    seen: list[str] = []

    def after_open() -> None:  # runs on the opening thread, through the stand-ins
        stores.diary.upsert([entry("a")])
        seen.append(threading.current_thread().name)

    stores.after_open = after_open
    count = stores.diary.count  # a method taken before the opening: it waits when called
    stores.open_in_background()
    assert held.entered.wait(WAIT)
    user, out = in_thread(lambda: (count(), stores.diary.get("a")))
    assert not stores.is_open() and user.is_alive()  # the opening is still held
    held.release()
    user.join(WAIT)
    assert out["value"][0] == 1 and out["value"][1].title == "爬山"  # after_open's write
    assert seen == ["dl-stores-open"] and held.runs == 1 and stores.is_open()
    assert stores.turns.count() == 0 and stores.error() is None


def test_the_first_use_opens_them_when_nobody_began(tmp_path: Path) -> None:
    held = HeldOpening()
    held.release()
    stores = LanceStores(tmp_path / "diary.lance", held)
    assert held.runs == 0  # made, not opened
    stores.diary.upsert([entry("b")])
    assert stores.diary.count() == 1 and held.runs == 1
    assert (tmp_path / "diary.lance").is_dir()
    stores.open_in_background()  # begun already: no second opening
    stores.close()
    assert stores.diary.count() == 1 and held.runs == 1


def test_closed_stores_begin_no_opening(tmp_path: Path) -> None:
    held = HeldOpening()
    held.release()
    stores = LanceStores(tmp_path / "diary.lance", held)
    stores.close()
    stores.open_in_background()
    assert not held.entered.wait(0.2) and held.runs == 0


def test_closing_leaves_an_opening_under_way_which_drops_what_it_opened(tmp_path: Path) -> None:
    # The app closes its memory at every change of settings, under the lock the page's
    # calls wait on: that close must not wait for LanceDB's opening (seconds on a busy
    # machine). The abandoned opening does not recover anything nor tell its listeners;
    # the next memory's opening of the same directory waits for it to end.
    held = HeldOpening()
    stores = LanceStores(tmp_path / "diary.lance", held)
    ran: list[str] = []
    stores.after_open = lambda: ran.append("after_open")
    told: list[BaseException | None] = []
    stores.open_in_background(told.append)
    assert held.entered.wait(WAIT)
    stores.close()  # returns while the opening is held
    assert not stores.wait(0) and not held.released.is_set()

    nxt = HeldOpening()
    nxt.release()
    again = LanceStores(tmp_path / "diary.lance", nxt)
    again.open_in_background()
    assert not nxt.entered.wait(0.3)  # waits for the abandoned opening of the directory
    held.release()
    assert stores.wait(WAIT) and again.wait(WAIT)
    assert nxt.runs == 1 and again.is_open() and again.diary.count() == 0
    assert ran == [] and told == []  # nothing recovered, nobody told
    with pytest.raises(StoreError, match="closed"):
        stores.diary.count()


def test_closing_waits_when_asked_or_when_the_opening_writes(tmp_path: Path) -> None:
    held = HeldOpening()
    stores = LanceStores(tmp_path / "diary.lance", held)
    stores.open_in_background()
    assert held.entered.wait(WAIT)
    closing, out = in_thread(lambda: (stores.close(wait=True), held.released.is_set())[1])
    assert not held.released.wait(0.2)
    held.release()
    closing.join(WAIT)
    assert out["value"] is True and stores.wait(0)  # close returned after the opening
    assert not stores.is_open()  # which dropped what it opened

    writing, go_on = threading.Event(), threading.Event()
    held = HeldOpening()
    held.release()
    stores = LanceStores(tmp_path / "diary.lance", held)

    def after_open() -> None:  # the memory's recovery: it writes
        writing.set()
        assert go_on.wait(WAIT)
        stores.diary.upsert([entry("r")])

    stores.after_open = after_open
    stores.open_in_background()
    assert writing.wait(WAIT)
    closed = threading.Event()
    closing, _ = in_thread(lambda: (stores.close(), closed.set()))
    assert not closed.wait(0.3)  # waits for the recovery's write
    go_on.set()
    closing.join(WAIT)
    assert closed.is_set() and stores.is_open() and stores.diary.count() == 1


def test_the_openings_error_reaches_every_use_and_whoever_waits(tmp_path: Path) -> None:
    held = HeldOpening(StoreError("diary.lance is damaged"))
    told: list[BaseException | None] = []
    heard = threading.Event()
    stores = LanceStores(tmp_path / "diary.lance", held)
    stores.open_in_background(lambda error: (told.append(error), heard.set()))
    assert held.entered.wait(WAIT)
    waiting, out = in_thread(stores.turns.count)
    held.release()
    waiting.join(WAIT)
    assert heard.wait(WAIT)
    assert isinstance(out["error"], StoreError)
    for use in (stores.diary.count, lambda: stores.diary.list(0, 5), stores.open):
        with pytest.raises(StoreError, match="damaged"):
            use()
    assert held.runs == 1  # not opened again
    assert isinstance(stores.error(), StoreError)
    assert len(told) == 1 and told[0] is stores.error()
