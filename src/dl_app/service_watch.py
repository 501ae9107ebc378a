"""Probing the limited services in the background, and what follows their return.

``ServiceWatch`` runs one daemon thread beside an open ``Memory``: it asks
every watched service once at start, then waits until the next probe of a
limited service is due (``core.health.Health``: 1, 2, 4, ... at most 60 s
apart) and asks it again. When the embedding service is back (a probe, or any
call that succeeds), it fills in the vectors that diary entries and archived
turns lack, in rounds of ``ROUND`` with progress: each round reads what lacks
a vector under the caller's lock, embeds it without the lock, and writes what
still fits under it again (``Memory.plan_fill``, ``embed_fill``, ``write_fill``).
Until then recall uses full-text search, which ranks entries with and without
vectors alike. Listeners hear each change once: the command line says it on
stderr, the bridge sends ``service.health`` to the page.

Tests drive it without its thread: ``tick()`` probes what is due by the
memory's clock and fills what the return made possible.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .core.errors import DLError
from .core.health import EMBEDDINGS, Health, Listener
from .core.ports import ProgressFn
from .memory import Memory

__all__ = ["ServiceWatch"]

log = logging.getLogger(__name__)

ROUND = 256  # vectors per round of filling in (a few seconds from a remote service)
MAX_AGAIN = 3  # rounds read afresh when what they embedded changed meanwhile


class ServiceWatch:
    def __init__(
        self,
        mem: Memory,
        lock: Any = None,
        *,
        on_change: Listener | None = None,
        progress: ProgressFn | None = None,
        on_filled: Callable[[int], None] | None = None,
        round_size: int = ROUND,
    ) -> None:
        self._mem = mem
        self._round = round_size
        # Held while vectors are written, beside the memory's own (the bridge's call
        # lock); anything with ``acquire(timeout=)`` and ``release``.
        self._lock = lock if lock is not None else threading.Lock()
        self._health = mem.health()
        self._on_change = on_change
        self._progress = progress
        self._on_filled = on_filled
        self._fill_due = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unlisten = self._health.listen(self._changed)

    @property
    def health(self) -> Health:
        return self._health

    def limited(self) -> dict[str, DLError]:
        return self._health.limited()

    def start(self) -> ServiceWatch:
        self._thread = threading.Thread(target=self._run, name="service-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)  # a probe in flight ends on its own after
        self._unlisten()

    def first_check(self) -> None:
        """Say what was found down before the watch began, ask every watched
        service once; if the embedder answers, fill what it lacks."""
        for service, error in self._health.limited().items():
            self._tell(service, error)
        self._health.probe_all()
        # Only an embedding service fills by itself (the built-in embedder cannot be
        # down, and what it lacks is for 'reindex': it would hold the CPU for long).
        if self._health.watched(EMBEDDINGS) and EMBEDDINGS not in self._health.limited():
            self._fill_due = True
        self._fill_if_due()

    def tick(self) -> float | None:
        """Probe what is due, fill the vectors a return made possible; returns the
        seconds until the next probe (None: nothing is limited)."""
        self._health.probe_due()
        self._fill_if_due()
        return self._health.next_probe()

    def _fill_if_due(self) -> None:
        """Fill in what lacks a vector, ``round_size`` at a time. Each round reads
        what lacks one under the lock, asks the embedder without it, and writes
        under it again: a reply waits for a write, never for the service."""
        if not self._fill_due or self._stop.is_set():
            return
        self._fill_due = False
        filled = again = 0
        while True:
            got = self._fill_round(filled)
            if got is None:
                break
            planned, written = got
            filled += written
            if written < planned:  # some changed meanwhile: read them afresh
                if again >= MAX_AGAIN:
                    break
                again += 1
            elif planned < self._round:
                break
        if filled and self._on_filled is not None:
            self._on_filled(filled)

    def _fill_round(self, before: int) -> tuple[int, int] | None:
        """One round: (how many lacked a vector, how many were written); None when
        stopped or failed."""
        try:
            # Not under the lock, and stoppable: the page's calls do not wait while the
            # stores open, and the memory's close (under the lock) does not wait for this.
            self._mem.open_stores_in_background()
            while not self._mem.stores_opened(0.2):
                if self._stop.is_set():
                    return None
            self._mem.open_stores()  # raises the opening's error
            with self._locked() as go:
                fill = self._mem.plan_fill(self._round) if go else None
            if fill is None or fill.size == 0:
                return None
            progress = self._progress

            def step(done: int, _total: int) -> None:
                if progress is not None:
                    progress(before + done, before + fill.total)

            step(0, fill.size)
            vectors = self._mem.embed_fill(fill, step)
            with self._locked() as go:
                return (fill.size, self._mem.write_fill(fill, vectors)) if go else None
        except DLError as e:  # down again (Health heard it) or a store error: next return
            log.warning("Filling in the missing vectors stopped: %s", e)
            return None

    @contextmanager
    def _locked(self) -> Iterator[bool]:
        """The caller's lock; yields False when the watch is stopping meanwhile."""
        while not self._lock.acquire(timeout=0.2):  # the holder may be stopping the watch
            if self._stop.is_set():
                yield False
                return
        try:
            yield not self._stop.is_set()
        finally:
            self._lock.release()

    def _changed(self, service: str, error: DLError | None) -> None:
        if service == EMBEDDINGS and error is None and self._health.watched(EMBEDDINGS):
            self._fill_due = True
        self._wake.set()
        self._tell(service, error)

    def _tell(self, service: str, error: DLError | None) -> None:
        if self._on_change is not None:
            try:
                self._on_change(service, error)
            except Exception:  # a closed window or stream must not stop the app
                log.exception("telling of %s failed", service)

    def _run(self) -> None:
        try:
            self.first_check()
            while not self._stop.is_set():
                self._wake.clear()
                delay = self.tick()
                self._wake.wait(delay)
        except Exception:  # the memory was closed under it: the watch ends quietly
            if not self._stop.is_set():
                log.exception("the service watch stopped")
