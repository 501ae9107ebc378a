"""What the LanceDB stores (``diary_lancedb``, ``turns_lancedb``) share about
access: their failures turned into ``StoreError``, the gate that lets many
reads run at once but lets a fold delete old files only when none is running,
filters on a list of ids (in chunks), a vector column read as a matrix, and how
long old table versions stay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..core.errors import StoreError, msg

__all__ = [
    "IN_CHUNK", "KEEP_VERSIONS", "LANCE_ERRORS", "BadArgument", "Gate", "in_chunks", "sql_in",
    "translated", "vector_matrix",
]

LANCE_ERRORS = (OSError, RuntimeError, ValueError, pa.ArrowException)
IN_CHUNK = 500  # values per "column IN (...)" filter
KEEP_VERSIONS = timedelta(seconds=1)  # optimize (a fold) deletes older table versions


def sql_in(column: str, values: Iterable[str]) -> str:
    """``column IN ('a', 'b')``, each value quoted."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def vector_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """A column of fixed-size float lists (a table's ``vector``) as a float32
    matrix, one row per vector (``(0, dim)`` when empty)."""
    array = column.combine_chunks()
    flat = array.flatten().to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(-1, array.type.list_size)


def in_chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    """``items`` in slices of ``IN_CHUNK``: one ``sql_in`` filter each."""
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


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
