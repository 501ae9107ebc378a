"""The follow-ups table of the state store (``state_sqlite``): one JSON row per
follow-up, keyed by its id, with the diary entry it belongs to. Like the
calibration table it is created if missing, so an older app still opens the
database. Each function runs inside the caller's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..core.models import FollowUp

TABLE = """CREATE TABLE IF NOT EXISTS follow_ups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, entry TEXT NOT NULL,
    data TEXT NOT NULL)"""
INDEX = "CREATE INDEX IF NOT EXISTS follow_ups_entry ON follow_ups (entry)"
WAITING = "checkin_waiting"  # meta key: the check-in shown last, until the user writes


def create(db: sqlite3.Connection) -> None:
    db.execute(TABLE)
    db.execute(INDEX)


def insert(db: sqlite3.Connection, items: Sequence[FollowUp]) -> None:
    db.executemany(
        "INSERT INTO follow_ups (id, entry, data) VALUES (?, ?, ?) ON CONFLICT (id) "
        "DO UPDATE SET entry = excluded.entry, data = excluded.data",
        [(f.id, f.entry, f.model_dump_json()) for f in items],
    )


def select(db: sqlite3.Connection, entry: str | None = None) -> list[FollowUp]:
    if entry is None:
        rows = db.execute("SELECT data FROM follow_ups ORDER BY seq").fetchall()
    else:
        rows = db.execute(
            "SELECT data FROM follow_ups WHERE entry = ? ORDER BY seq", (entry,)
        ).fetchall()
    return [FollowUp.model_validate_json(r[0]) for r in rows]


def get(db: sqlite3.Connection, follow_id: str) -> FollowUp | None:
    row = db.execute("SELECT data FROM follow_ups WHERE id = ?", (follow_id,)).fetchone()
    return FollowUp.model_validate_json(row[0]) if row else None


def delete(db: sqlite3.Connection, *, follow_id: str | None = None,
           entry: str | None = None) -> int:
    if follow_id is not None:
        return db.execute("DELETE FROM follow_ups WHERE id = ?", (follow_id,)).rowcount
    if entry is not None:
        return db.execute("DELETE FROM follow_ups WHERE entry = ?", (entry,)).rowcount
    return db.execute("DELETE FROM follow_ups").rowcount
