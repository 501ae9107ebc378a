"""The state store in SQLite (stdlib): names, self-concept, profile and their
history, the current conversation, recalled entries, the archive, the
pending-consolidation record, the conversation as it was before its last turn
(``last_turn``, for regenerating it), and each model's token-count calibration.

Every public method is one transaction (WAL journal, ``synchronous=FULL``), so
a process killed at any instant leaves the state before or after the call.
The schema and its migrations: ``state_schema``; the tables created if missing:
``calibration_sqlite``, ``followups_sqlite``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import StoreError, msg
from ..core.models import (
    ArchivedMessage,
    ConversationState,
    DiaryEntry,
    FollowUp,
    MemorySnapshot,
    Message,
    PendingConsolidation,
    Profile,
    TurnSnapshot,
)
from ..core.ports import CalibrationRecord
from ..messages import os_reason
from . import calibration_sqlite as calibration_rows
from . import followups_sqlite as follow_rows
from . import state_schema as schema

log = logging.getLogger(__name__)


class SqliteStateStore:
    def __init__(self, path: str | Path, default_profile: Profile) -> None:
        self.path = Path(path)
        self.default_profile = default_profile
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten
            self._migrate()
            calibration_rows.create(self._db)
            follow_rows.create(self._db)
            self._keep_first_names()
        except sqlite3.DatabaseError as e:
            raise StoreError(msg("store.db_open", path=str(self.path), error=str(e))) from e

    def _keep_first_names(self) -> None:
        """Names and persona are data: the defaults of the language at first start
        are written down then, so a later change of the UI language renames no one."""
        with self._tx() as db:
            meta = self._meta(db)
            d = self.default_profile
            first = {"self_name": d.self_name, "user_name": d.user_name,
                     "memory_about_self": d.memory_about_self}
            missing = {k: v for k, v in first.items() if k not in meta}
            if missing:
                self._set(db, **missing)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plumbing ----------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as e:
                why = os_reason(e)
                raise StoreError(msg("store.db_save", path=str(self.path), error=why)) from e

    def _migrate(self) -> None:
        for name, fn in schema.to_run(self._db, self.path):
            with self._tx() as db:
                fn(db)
                schema.record(db, name)

    def _meta(self, db: sqlite3.Connection) -> dict[str, str]:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    @staticmethod
    def _set(db: sqlite3.Connection, **values: str) -> None:
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def _profile(self, meta: dict[str, str]) -> Profile:
        d = self.default_profile
        return Profile(
            self_name=meta.get("self_name") or d.self_name,
            user_name=meta.get("user_name") or d.user_name,
            memory_about_self=meta.get("memory_about_self", d.memory_about_self),
            memory_about_user=meta.get("memory_about_user", d.memory_about_user),
        )

    def _write_profile(self, db: sqlite3.Connection, profile: Profile) -> None:
        old = self._profile(self._meta(db))
        if old != profile:
            db.execute(
                "INSERT INTO profile_history (at, data) VALUES (?, ?)",
                (int(time.time() * 1000), old.model_dump_json()),
            )
        self._set(db, **profile.model_dump())

    # -- reading -------------------------------------------------------------

    def load(self) -> ConversationState:
        with self._lock:
            meta = self._meta(self._db)
            messages = [
                Message.model_validate_json(r[0])
                for r in self._db.execute("SELECT data FROM messages ORDER BY seq")
            ]
            recalled = [
                DiaryEntry.model_validate_json(r[0])
                for r in self._db.execute("SELECT data FROM recalled ORDER BY seq")
            ]
        return ConversationState(
            profile=self._profile(meta),
            summary=meta.get("summary", ""),
            folded_count=min(int(meta.get("folded_count", "0")), len(messages)),
            messages=messages,
            recalled=recalled,
        )

    def archive(self) -> list[ArchivedMessage]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data, belong_to FROM archive ORDER BY conv DESC, seq ASC"
            ).fetchall()
        return [
            ArchivedMessage(**Message.model_validate_json(d).model_dump(), belong_to=b)
            for d, b in rows
        ]

    def archive_of(self, belong_to: str) -> list[Message]:
        """The archived conversation a diary entry came from, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM archive WHERE belong_to = ? ORDER BY seq", (belong_to,)
            ).fetchall()
        return [Message.model_validate_json(r[0]) for r in rows]

    def archive_counts(self) -> dict[str, int]:
        """Archived messages per diary entry uuid."""
        with self._lock:
            rows = self._db.execute(
                "SELECT belong_to, COUNT(*) FROM archive GROUP BY belong_to"
            ).fetchall()
        return {b: int(n) for b, n in rows}

    def first_archived_time(self) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(ts) FROM archive").fetchone()
        return None if row[0] is None else int(row[0])

    def profile_history(self) -> list[tuple[int, Profile]]:
        """Earlier versions of names/self-concept/profile, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, data FROM profile_history ORDER BY seq DESC"
            ).fetchall()
        return [(at, Profile.model_validate_json(d)) for at, d in rows]

    def last_turn(self) -> TurnSnapshot | None:
        with self._lock:
            raw = self._meta(self._db).get("last_turn")
        return TurnSnapshot.model_validate_json(raw) if raw else None

    def pending_consolidation(self) -> PendingConsolidation | None:
        with self._lock:
            raw = self._meta(self._db).get("pending")
        return PendingConsolidation.model_validate_json(raw) if raw else None

    # -- writing ---------------------------------------------------------------

    def commit_turn(
        self,
        messages: Sequence[Message],
        recalled: Sequence[DiaryEntry],
        before: TurnSnapshot | None = None,
        *,
        rewind: TurnSnapshot | None = None,
    ) -> None:
        with self._tx() as db:
            if rewind is not None:
                rows = db.execute("SELECT seq FROM messages ORDER BY seq").fetchall()
                db.executemany("DELETE FROM messages WHERE seq = ?", rows[rewind.message_count :])
                keep = set(rewind.recalled)
                gone = [r for r in db.execute("SELECT uuid FROM recalled") if r[0] not in keep]
                db.executemany("DELETE FROM recalled WHERE uuid = ?", gone)
                self._set(db, summary=rewind.summary, folded_count=str(rewind.folded_count))
            self._set(db, last_turn=before.model_dump_json() if before is not None else "")
            db.executemany(
                "INSERT INTO messages (id, data) VALUES (?, ?)",
                [(m.id, m.model_dump_json()) for m in messages],
            )
            db.executemany(
                "INSERT OR IGNORE INTO recalled (uuid, data) VALUES (?, ?)",
                [(e.uuid, e.model_dump_json()) for e in recalled],
            )
            if any(m.role == "user" for m in messages):
                self._set(db, **{follow_rows.WAITING: ""})

    def set_summary(self, summary: str, folded_count: int) -> None:
        with self._tx() as db:
            self._set(db, summary=summary, folded_count=str(folded_count))

    def set_profile(self, profile: Profile) -> None:
        with self._tx() as db:
            self._write_profile(db, profile)

    def begin_consolidation(self, pending: PendingConsolidation) -> None:
        with self._tx() as db:
            self._set(db, pending=pending.model_dump_json())

    def finish_consolidation(self) -> None:
        with self._tx() as db:
            meta = self._meta(db)
            raw = meta.get("pending")
            if not raw:
                return
            pending = PendingConsolidation.model_validate_json(raw)
            ids = set(pending.message_ids)
            rows = db.execute("SELECT seq, id, data FROM messages ORDER BY seq").fetchall()
            conv = (db.execute("SELECT COALESCE(MAX(conv), 0) FROM archive").fetchone()[0]) + 1
            moved = [(seq, data) for seq, mid, data in rows if mid in ids]
            db.executemany(
                "INSERT INTO archive (conv, belong_to, ts, data) VALUES (?, ?, ?, ?)",
                [
                    (conv, pending.entry.uuid, json.loads(d)["timestamp"], d)
                    for _, d in moved
                ],
            )
            db.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s, _ in moved])
            db.execute("DELETE FROM recalled")
            profile = self._profile(meta).model_copy(
                update={
                    "memory_about_self": pending.memory_about_self,
                    "memory_about_user": pending.memory_about_user,
                }
            )
            self._write_profile(db, profile)
            follow_rows.insert(db, pending.follow_ups)
            self._set(db, summary="", folded_count="0", pending="", last_turn="")

    def clear_conversation(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM messages")
            db.execute("DELETE FROM recalled")
            self._set(db, summary="", folded_count="0", last_turn="")

    def clear_profile_history(self) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM profile_history")

    def delete_archived(self, belong_to: str) -> int:
        with self._tx() as db:
            count = db.execute("DELETE FROM archive WHERE belong_to = ?", (belong_to,)).rowcount
            follow_rows.delete(db, entry=belong_to)
        self._forget_old_pages()
        return count

    def _forget_old_pages(self) -> None:
        """Empty the write-ahead log, whose old page images still hold deleted text."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:  # busy (another reader): the next one empties it
                log.warning("The memory database's log could not be emptied now")

    def replace_all(self, snapshot: MemorySnapshot) -> None:
        with self._tx() as db:
            self._write_profile(db, snapshot.profile)
            db.execute("DELETE FROM messages")
            db.execute("DELETE FROM recalled")
            db.execute("DELETE FROM archive")
            db.execute("DELETE FROM meta WHERE key LIKE 'note.%'")  # they quote the old memory
            db.executemany(
                "INSERT INTO messages (id, data) VALUES (?, ?)",
                [(m.id, m.model_dump_json()) for m in snapshot.conversation],
            )
            # Archive: newest conversation first in the snapshot; number the
            # conversations so the oldest gets the smallest number.
            groups: list[str] = []
            for m in snapshot.archive:
                if not groups or groups[-1] != m.belong_to:
                    groups.append(m.belong_to)
            conv_of = {b: len(groups) - i for i, b in enumerate(groups)}
            db.executemany(
                "INSERT INTO archive (conv, belong_to, ts, data) VALUES (?, ?, ?, ?)",
                [
                    (
                        conv_of[m.belong_to],
                        m.belong_to,
                        m.timestamp,
                        Message.model_validate(
                            m.model_dump(exclude={"belong_to"})
                        ).model_dump_json(),
                    )
                    for m in snapshot.archive
                ],
            )
            follow_rows.delete(db)
            follow_rows.insert(db, snapshot.follow_ups)
            # The original app's summary covered every message of the conversation.
            folded = len(snapshot.conversation) if snapshot.current_summary.strip() else 0
            self._set(
                db, summary=snapshot.current_summary, folded_count=str(folded), pending="",
                **{follow_rows.WAITING: ""},
                last_turn="",
            )

    # -- notes (core/ports.py Notes) --------------------------------------------

    def note(self, key: str) -> str | None:
        with self._lock:
            return self._meta(self._db).get(f"note.{key}")

    def set_note(self, key: str, value: str) -> None:
        with self._tx() as db:
            self._set(db, **{f"note.{key}": value})

    # -- follow-ups and check-ins (core/followups.py, core/checkin.py) ---------

    def follow_ups(self, entry: str | None = None) -> list[FollowUp]:
        with self._lock:
            return follow_rows.select(self._db, entry)

    def delete_follow_up(self, follow_id: str) -> bool:
        with self._tx() as db:
            gone = follow_rows.delete(db, follow_id=follow_id) > 0
        self._forget_old_pages()
        return gone

    def mark_asked(self, follow_id: str, at_ms: int, message: Message | None) -> None:
        with self._tx() as db:
            found = follow_rows.get(db, follow_id)
            if found is None:
                return
            mid = message.id if message is not None else ""
            follow_rows.insert(db, [found.model_copy(update={"asked_at": at_ms,
                                                              "message_id": mid})])
            if message is not None:
                db.execute("INSERT INTO messages (id, data) VALUES (?, ?)",
                           (message.id, message.model_dump_json()))
                self._set(db, **{follow_rows.WAITING: message.id})

    def awaiting_reply(self) -> bool:
        with self._lock:
            return bool(self._meta(self._db).get(follow_rows.WAITING))

    # -- token-count calibration (core/calibration.py) ------------------------

    def load_calibration(self, address: str, model: str) -> CalibrationRecord | None:
        with self._lock:
            return calibration_rows.load(self._db, address, model)

    def save_calibration(self, address: str, model: str, record: CalibrationRecord) -> None:
        with self._tx() as db:
            calibration_rows.save(db, address, model, record)
