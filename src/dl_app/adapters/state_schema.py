"""The state store's schema (``state_sqlite``): an ordered list of migrations,
each recorded in the database when it has run. A database that names a
migration this app does not know comes from a newer app and is refused.

The tables added since (``calibration_sqlite``, ``followups_sqlite``) are not
migrations: they are created if missing, so an older app still opens the
database (it ignores them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..core.errors import StoreError, msg

Migration = Callable[[sqlite3.Connection], None]


def script(db: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the current transaction (``executescript``
    would commit it)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                               id TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
        CREATE TABLE recalled (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                               uuid TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
        CREATE TABLE archive (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                              conv INTEGER NOT NULL, belong_to TEXT NOT NULL,
                              ts INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE INDEX archive_conv ON archive (conv);
        CREATE INDEX archive_belong ON archive (belong_to);
        CREATE TABLE profile_history (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                      at INTEGER NOT NULL, data TEXT NOT NULL);
        """
    )


MIGRATIONS: list[tuple[str, Migration]] = [
    ("m001_initial", _m001_initial),
]


def to_run(db: sqlite3.Connection, path: Path) -> list[tuple[str, Migration]]:
    """The migrations the database has not had yet, in order (``StoreError`` for a
    database from a newer app). Run each in a transaction with ``record``."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)")
    done = {r[0] for r in db.execute("SELECT name FROM migrations")}
    known = {name for name, _ in MIGRATIONS}
    if done - known:
        raise StoreError(msg("store.db_newer", path=str(path),
                             names=", ".join(sorted(done - known))))
    return [(name, fn) for name, fn in MIGRATIONS if name not in done]


def record(db: sqlite3.Connection, name: str) -> None:
    db.execute("INSERT INTO migrations (name) VALUES (?)", (name,))
