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

    stores = LanceStores(root / "diary.lance")
    engine = MemoryEngine(diary=stores.diary, turns=stores.turns, ...)
    stores.open_in_background(then=lambda error: ...)   # or the first use opens them
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from ..core.ports import DiaryStore, TurnIndex

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
        self._begun_lock = threading.Lock()
        self._begun = False  # an opening has begun (here or on a thread)
        self._background = False  # open_in_background was called
        self._closed = False
        self._stores: tuple[DiaryStore, TurnIndex] | None = None
        self._error: BaseException | None = None
        self.after_open: Callable[[], None] | None = None
        self.diary = cast(DiaryStore, _Waiting(self, 0))
        self.turns = cast(TurnIndex, _Waiting(self, 1))

    def open(self) -> tuple[DiaryStore, TurnIndex]:
        """The open stores: opened here if nobody has begun to, else once the opening
        has finished; raises the opening's error (every time)."""
        with self._begun_lock:
            self._begun = True
        if not self._done.is_set():
            with self._lock:
                if self._stores is None and self._error is None:
                    self._open_here()
        if self._error is not None:
            raise self._error
        assert self._stores is not None
        return self._stores

    def open_in_background(
        self, then: Callable[[BaseException | None], None] | None = None
    ) -> None:
        """Open the stores on a thread (or wait there for the opening under way, or
        done), then ``then(None)`` or ``then(error)``; once (later calls, and calls
        after ``close``, do nothing)."""
        with self._begun_lock:
            if self._background or self._closed:
                return
            self._background = self._begun = True

        def run() -> None:
            try:
                self.open()
            except BaseException as e:  # kept for the stores' users; told to ``then``
                log.warning("opening the diary's stores failed: %s", e)
                error: BaseException | None = e
            else:
                error = None
            if then is not None:
                then(error)

        threading.Thread(target=run, name="dl-stores-open", daemon=True).start()

    def close(self) -> None:
        """No opening begins after this (the memory was closed); one under way is
        waited for, so that nothing works on the directory once this returns."""
        with self._begun_lock:
            self._closed = True
            begun = self._begun
        if begun:
            self._done.wait()

    def is_open(self) -> bool:
        return self._done.is_set() and self._error is None

    def error(self) -> BaseException | None:
        """Why the opening failed (None: open, still opening, or not begun)."""
        return self._error if self._done.is_set() else None

    def _open_here(self) -> None:
        try:
            self._stores = self._opener(self.path)
            if self.after_open is not None:
                self.after_open()
        except BaseException as e:
            self._stores, self._error = None, e
        finally:
            self._done.set()


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
