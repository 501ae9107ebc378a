"""The stop button: one ``threading.Event`` per reply in flight, found by the
page's turn id. ``chat_stop`` runs outside the memory lock, beside the
``chat_send`` (``chat_regenerate``, ``chat_edit``) it stops; a stop that
arrives before its turn has begun (the call still waits for the lock) is kept
until the turn begins, which then stops at once."""

from __future__ import annotations

import threading

__all__ = ["Stops"]

_EARLY_MAX = 16  # stops for turns not begun yet (a page sends one turn at a time)


class Stops:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[str, threading.Event] | None = None
        self._early: dict[str, threading.Event] = {}

    def begin(self, turn: str) -> threading.Event:
        """The stop signal of the turn beginning now (already set if stopped early)."""
        with self._lock:
            event = self._early.pop(turn, None) if turn else None
            event = event or threading.Event()
            self._current = (turn, event)
            return event

    def end(self, event: threading.Event) -> None:
        with self._lock:
            if self._current is not None and self._current[1] is event:
                self._current = None

    def stop(self, turn: str = "") -> bool:
        """Stop the turn ``turn`` ("" = the one in flight). True if a reply in
        flight was told to stop; a named turn not begun yet will stop when it does."""
        with self._lock:
            current = self._current
            if current is not None and (not turn or current[0] == turn):
                current[1].set()
                return True
            if turn:
                if len(self._early) >= _EARLY_MAX:
                    self._early.pop(next(iter(self._early)))
                event = threading.Event()
                event.set()
                self._early[turn] = event
            return False
