"""The diary and the turn index, opened when first used or on a thread of their own.

Opening them imports LanceDB (1.4-1.9 s, most of it in its generated ``lance_namespace``
client) and reads their tables, while the conversation and the profile (SQLite) are all
the window needs to show the chat. :class:`LanceStores` hands out ``diary`` and ``turns``
at once: stand-ins with the stores' interface, each use of which waits until the stores
are open. They open on their first use (on the caller's thread), or earlier on a thread of
their own after :meth:`LanceStores.open_in_background`. ``after_open()`` runs once they
are open, before any other use gets them (the memory's recovery and the turn index's
completion); the stand-ins pass through on the thread that opens, so it can use them.
An error in opening (``StoreError``, as the stores raise it) is raised to every use.
Closing does not wait for an opening under way (the app closes its memory at every
change of settings, and the page's calls wait behind that): the opening ends on its
thread and drops what it opened; the next opening of the directory waits for it.

    stores = LanceStores(root / "diary.lance")
    engine = MemoryEngine(diary=stores.diary, turns=stores.turns, ...)
    stores.open_in_background(then=lambda error: ...)   # or the first use opens them
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from ..closing import close_quietly
from ..core.errors import StoreError
from ..core.ports import DiaryStore, TurnIndex
from ..messages import msg

__all__ = ["LanceStores", "Opener"]

log = logging.getLogger(__name__)

Opener = Callable[[Path], tuple[DiaryStore, TurnIndex]]


def open_lance(path: Path) -> tuple[DiaryStore, TurnIndex]:
    """The app's stores: the diary and the turn index, in one LanceDB directory."""
    from .diary_lancedb import LanceDiaryStore
    from .turns_lancedb import LanceTurnStore

    return LanceDiaryStore(path), LanceTurnStore(path)


class LanceStores:
    """The diary and the turn index of ``path``, opened once (``opener``: how)."""

    def __init__(self, path: Path, opener: Opener | None = None) -> None:
        self.path = path
        self._opener = opener or open_lance
        self._lock = threading.RLock()  # held while opening: the opener's own uses pass
        self._done = threading.Event()
        self._state = threading.Lock()  # guards the flags and the listeners below
        self._begun = False  # an opening has begun (here or on a thread)
        self._closed = False
        self._writing = False  # after_open runs (it writes: recovery)
        self._listeners: list[Callable[[BaseException | None], None]] = []
        self._stores: tuple[DiaryStore, TurnIndex] | None = None
        self._error: BaseException | None = None
        self.after_open: Callable[[], None] | None = None
        self.diary = cast(DiaryStore, _Waiting(self, 0))
        self.turns = cast(TurnIndex, _Waiting(self, 1))

    def open(self) -> tuple[DiaryStore, TurnIndex]:
        """The open stores: opened here if nobody has begun to, else once the opening
        has finished; raises the opening's error (every time)."""
        with self._state:
            self._begun = True
        if not self._done.is_set():
            with self._lock:  # the opening thread passes (after_open uses the stores)
                if self._stores is None and self._error is None:
                    self._open_here()
        if self._error is not None:
            raise self._error
        assert self._stores is not None
        return self._stores

    def open_in_background(
        self, then: Callable[[BaseException | None], None] | None = None
    ) -> None:
        """Open the stores on a thread unless an opening has begun; then ``then(None)``
        or ``then(error)`` once it ends (at once if it has). Nothing after ``close``:
        an opening the close abandoned tells nobody."""
        with self._state:
            if self._closed:
                return
            if then is not None and not self._done.is_set():
                self._listeners.append(then)
                then = None
            begin, self._begun = not self._begun, True
        if then is not None:  # it has ended already
            then(self._error)
        if not begin:
            return

        def run() -> None:
            try:
                self.open()
            except BaseException as e:  # kept for the stores' users; told to listeners
                if not self._closed:
                    log.warning("opening the diary's stores failed: %s", e)

        threading.Thread(target=run, name="dl-stores-open", daemon=True).start()

    def wait(self, timeout: float) -> bool:
        """Whether the opening has ended (open, or failed) within ``timeout`` s."""
        return self._done.wait(timeout)

    def close(self, *, wait: bool = False) -> None:
        """No opening begins after this (the memory was closed). One under way is left
        to end on its thread: its stores are dropped and its ``after_open`` does not
        run; only when that is writing already (or ``wait``) does this wait for it. A
        later opening of the same directory waits for it (``_opening``)."""
        with self._state:
            self._closed = True
            self._listeners.clear()
            waits = self._begun and (wait or self._writing)
        if waits:
            self._done.wait()

    def is_open(self) -> bool:
        return self._done.is_set() and self._error is None

    def error(self) -> BaseException | None:
        """Why the opening failed (None: open, still opening, or not begun)."""
        return self._error if self._done.is_set() else None

    def _open_here(self) -> None:
        try:
            with _opening(self.path):  # an abandoned opening of this directory ends first
                if self._closed:
                    raise StoreError(msg("store.closed", path=str(self.path)))
                self._stores = self._opener(self.path)
                with self._state:
                    self._writing = not self._closed
                if not self._writing:
                    close_quietly(*self._stores, what="an abandoned store")
                    self._stores = None
                    raise StoreError(msg("store.closed", path=str(self.path)))
                if self.after_open is not None:
                    self.after_open()
        except BaseException as e:
            self._stores, self._error = None, e
        finally:
            with self._state:
                self._writing = False
                listeners, self._listeners = self._listeners, []
                self._done.set()
        for then in listeners:
            then(self._error)


_OPENINGS: dict[str, threading.Lock] = {}
_OPENINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def _opening(path: Path) -> Iterator[None]:
    """Held while a directory's stores open: one opening of a directory at a time in
    this process (a closed memory's opening may still run when the next one begins;
    on a new directory both would create the tables)."""
    key = os.path.abspath(path)
    with _OPENINGS_LOCK:
        lock = _OPENINGS.setdefault(key, threading.Lock())
    with lock:
        yield


class _Waiting:
    """One of the stores: every attribute is the open store's. A method of the port
    (``DiaryStore``, ``TurnIndex``) can be taken before they are open (the engine keeps
    ``turns.get``): calling it waits; any other attribute waits when it is asked for."""

    def __init__(self, stores: LanceStores, index: int) -> None:
        self._stores = stores
        self._index = index

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if callable(getattr(_PORTS[self._index], name, None)):
            return functools.partial(self._call, name)
        return getattr(self._stores.open()[self._index], name)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._stores.open()[self._index], name)(*args, **kwargs)


_PORTS: tuple[type, type] = (DiaryStore, TurnIndex)
