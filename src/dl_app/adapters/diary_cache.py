"""The diary's entries kept in memory, for the reads a search makes.

An evidence search reads the title, summary and times of its few best entries;
from LanceDB that is a query of its own (3.5 ms at 10k entries, run beside the
read of their turns). ``LanceDiaryStore`` keeps every entry's fields here
instead (10k entries are a few MB), tagged with the table version they are.

- A read asks LanceDB for the table's latest version (a look at its manifest,
  0.15 ms) and uses the copy only if it is of that version; otherwise (the
  first read, or another process wrote) the whole table is read into it again.
- The store's own writes update the copy rather than read it again: the copy
  must be of the latest version before the write (else it is dropped, and the
  next read loads it), and takes the version the write made after it. A write
  that fails halfway leaves the copy at its old version, which the next read
  sees is stale.

The copy is replaced whole (one assignment), so a read never sees half a write;
entries come out as new objects each time (``DiaryEntry`` is mutable).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

import pyarrow as pa

from ..core.models import DiaryEntry

__all__ = ["ENTRY_COLUMNS", "EntryCache", "Row", "Rows", "changed", "entry_of", "rows_of"]

ENTRY_COLUMNS = ["uuid", "title", "summary", "start_time", "end_time", "source_ids"]
Row = tuple[str, str, str, int, int, tuple[str, ...]]
Rows = Mapping[str, Row]


def rows_of(table: pa.Table) -> dict[str, Row]:
    """An Arrow table of ``ENTRY_COLUMNS`` as rows by uuid."""
    cols = [table[c].to_pylist() for c in ENTRY_COLUMNS]
    return {r[0]: (*r[:5], tuple(r[5] or ())) for r in zip(*cols, strict=True)}


def row_of(entry: DiaryEntry) -> Row:
    e = entry
    return (e.uuid, e.title, e.summary, e.start_time, e.end_time, tuple(e.source_ids))


def entry_of(row: Row) -> DiaryEntry:
    uuid, title, summary, start, end, sources = row
    return DiaryEntry(uuid=uuid, title=title, summary=summary, start_time=start,
                      end_time=end, source_ids=list(sources))


class EntryCache:
    """Every entry's fields at one table version (or nothing yet)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[int, dict[str, Row]] | None = None

    def rows(self, version: int) -> Rows | None:
        """The rows, if the copy is of ``version``."""
        state = self._state
        return state[1] if state is not None and state[0] == version else None

    def count(self) -> int | None:
        """How many entries the copy holds (None before the first load)."""
        state = self._state
        return None if state is None else len(state[1])

    def offer(self, version: int, rows: dict[str, Row]) -> None:
        """A read's load of the whole table at ``version``; kept unless the
        copy is already as new (a write may have finished meanwhile)."""
        with self._lock:
            if self._state is None or self._state[0] < version:
                self._state = (version, rows)

    def begin(self, latest: int) -> dict[str, Row] | None:
        """Before a write: a copy of the rows to change, if they are of the
        ``latest`` version; otherwise the copy is dropped and None returned."""
        with self._lock:
            if self._state is None or self._state[0] != latest:
                self._state = None
                return None
            return dict(self._state[1])

    def drop(self) -> None:
        with self._lock:
            self._state = None

    def commit(self, version: int, rows: dict[str, Row]) -> None:
        """After a write: the rows ``begin`` gave, changed as the write changed
        the table, are the copy at ``version``."""
        with self._lock:
            self._state = (version, rows)


def changed(rows: dict[str, Row], upserted: Sequence[DiaryEntry] = (),
            deleted: Iterable[str] = ()) -> dict[str, Row]:
    """``rows`` with these entries written and these uuids deleted (in place)."""
    for entry in upserted:
        rows[entry.uuid] = row_of(entry)
    for uuid in deleted:
        rows.pop(uuid, None)
    return rows
