"""The calibration table of the state store (``state_sqlite``): each model's
learned token-count ratios (``core/calibration.py``), keyed by the service's
address and the model. Created if missing, so an older app still opens the
database. Each function runs inside the caller's transaction or lock."""

from __future__ import annotations

import json
import sqlite3
import time

from ..core.ports import CalibrationRecord

TABLE = """CREATE TABLE IF NOT EXISTS calibration (
    address TEXT NOT NULL, model TEXT NOT NULL, ratios TEXT NOT NULL, floor REAL NOT NULL,
    updated INTEGER NOT NULL, PRIMARY KEY (address, model))"""


def create(db: sqlite3.Connection) -> None:
    db.execute(TABLE)


def load(db: sqlite3.Connection, address: str, model: str) -> CalibrationRecord | None:
    row = db.execute(
        "SELECT ratios, floor FROM calibration WHERE address = ? AND model = ?",
        (address, model),
    ).fetchone()
    if row is None:
        return None
    try:
        ratios = tuple(float(r) for r in json.loads(row[0]))
    except (ValueError, TypeError):
        ratios = ()  # damaged: learned again
    return CalibrationRecord(ratios, float(row[1]))


def save(db: sqlite3.Connection, address: str, model: str, record: CalibrationRecord) -> None:
    db.execute(
        "INSERT INTO calibration (address, model, ratios, floor, updated) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (address, model) DO UPDATE SET "
        "ratios = excluded.ratios, floor = excluded.floor, updated = excluded.updated",
        (address, model, json.dumps(list(record.ratios)), record.floor,
         int(time.time() * 1000)),
    )
