"""What the LanceDB stores (``diary_lancedb``, ``turns_lancedb``) share about
access: their failures turned into ``StoreError``, and the gate that lets many
reads run at once but lets a fold delete old files only when none is running.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from ..core.errors import StoreError, msg

__all__ = ["LANCE_ERRORS", "BadArgument", "Gate", "translated"]

LANCE_ERRORS = (OSError, RuntimeError, ValueError, pa.ArrowException)


class BadArgument(ValueError): ...  # a caller's mistake: a ValueError, not a StoreError


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Turn LanceDB, Arrow and OS failures into ``StoreError``."""
    try:
        yield
    except BadArgument:
        raise
    except LANCE_ERRORS as exc:
        raise StoreError(msg("store.diary_failed", path=str(path), error=str(exc))) from exc


class Gate:
    """Many readers at once, or one writer deleting files under them."""

    def __init__(self) -> None:
        self._cond, self._readers, self._closed = threading.Condition(), 0, False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:  # writers come one at a time (the store's lock)
            self._closed = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()
