"""Digital Life's memory as a library: open, talk, consolidate, recall, move.

    from dl_app.memory import Memory

    with Memory.open("/path/to/data") as mem:       # or Memory.open() for the default
        reply = mem.send("我今天去爬山了")             # one turn, streamed if on_delta given
        hits = mem.search("爬山", k=3)                # the recall search
        mem.consolidate()                             # end the conversation: a diary entry
        mem.export("backup.json")

It pulls in no window or voice code. Import never replaces memory before the
new file is fully validated and embedded; what it replaces is saved first as
a backup file in ``<data dir>/backups/``, and an import a crash interrupted is
finished the next time the memory is opened.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from . import __version__
from .adapters.documents import AttachmentStore
from .core.engine import DeltaFn, EventFn, TurnResult
from .core.errors import DLError, ImportFailed, NotFound, StoreError
from .core.exchange import load_export_bytes, parse_export, summarize_snapshot, to_export
from .core.models import Attachment, DiaryEntry, MemorySnapshot, Message, Profile, SearchHit
from .core.ports import ChatModel, Clock, Embedder, ProgressFn
from .fsutil import atomic_write_text
from .wiring import App, build, default_profile

__all__ = ["ImportReport", "Memory", "MemorySnapshot", "SearchHit", "TurnResult"]

PENDING_IMPORT = "import-pending.json"
BACKUPS = "backups"
log = logging.getLogger(__name__)
_BACKUP_NAME = re.compile(r"memory-[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.json")


@dataclass
class ImportReport:
    entries: int
    messages: int
    archived: int
    backup: Path | None
    warnings: list[str] = field(default_factory=list)
    preview: dict[str, Any] = field(default_factory=dict)


class Memory:
    """One companion's memory in a data dir."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.engine = app.engine
        self._recover_import()
        self.engine.recover()

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        chat: ChatModel | None = None,
        embedder: Embedder | None = None,
        clock: Clock | None = None,
    ) -> Memory:
        root = Path(data_dir) if data_dir is not None else None
        return cls(build(root, env, chat=chat, embedder=embedder, clock=clock))

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- talking -------------------------------------------------------------

    def send(
        self,
        text: str,
        on_delta: DeltaFn | None = None,
        on_event: EventFn | None = None,
        *,
        images: Sequence[tuple[str, str, bytes]] = (),
        files: Sequence[tuple[str, bytes]] = (),
    ) -> TurnResult:
        """One turn. ``images`` are ``(name, mime, bytes)``, ``files`` are
        ``(name, bytes)`` documents. Attachments are checked and converted
        first (``AttachmentError``: nothing changes), stored in
        ``<data dir>/attachments/``, and removed again if the turn fails."""
        store = AttachmentStore(self.app.data_dir)
        saved: list[Attachment] = []
        urls: dict[str, str] = {}
        docs: dict[str, str] = {}
        try:
            for name, mime, data in images:
                att = store.save_image(name, mime, data)
                saved.append(att)
                urls[att.id] = store.data_url(att)
            for name, data in files:
                att, text_of = store.save_document(name, data)
                saved.append(att)
                docs[att.id] = text_of
            return self.engine.send(
                text, on_delta=on_delta, on_event=on_event, attachments=saved,
                image_urls=urls, documents=docs,
            )
        except BaseException:
            store.remove(saved)
            raise

    def attachment(self, att_id: str) -> tuple[Attachment, Path]:
        """An attachment of the current conversation and its file."""
        for m in self.app.state.load().messages:
            for a in m.attachments:
                if a.id == att_id:
                    return a, AttachmentStore(self.app.data_dir).file(a)
        raise NotFound("No such attachment in this conversation.")

    def consolidate(self, progress: ProgressFn | None = None) -> DiaryEntry | None:
        return self.engine.consolidate(progress)

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        return self.engine.search(query, k)

    # -- looking ---------------------------------------------------------------

    def snapshot(self) -> MemorySnapshot:
        state = self.app.state.load()
        return MemorySnapshot(
            profile=state.profile,
            current_summary=state.summary,
            conversation=state.messages,
            archive=self.app.state.archive(),
            diary=self.engine.diary.list(),
        )

    def show(self) -> dict[str, Any]:
        """Names, self-concept, profile, diary count, summary (``memory show``)."""
        state = self.app.state.load()
        indexed, total = self.engine.index_status()
        return {
            "selfName": state.profile.self_name,
            "userName": state.profile.user_name,
            "memoryAboutSelf": state.profile.memory_about_self,
            "memoryAboutUser": state.profile.memory_about_user,
            "diaryCount": total,
            "indexedCount": indexed,
            "currentSummary": state.summary,
            "conversationMessages": len(state.messages),
            "dataDir": str(self.app.data_dir),
            "model": self.app.settings.llm.model,
        }

    # -- moving ------------------------------------------------------------------

    def export_dict(self) -> dict[str, Any]:
        return to_export(self.snapshot(), version=__version__)

    def export(self, path: str | Path) -> None:
        atomic_write_text(
            Path(path), json.dumps(self.export_dict(), ensure_ascii=False, indent=2)
        )

    def preview_import(self, raw: bytes) -> dict[str, Any]:
        result = parse_export(load_export_bytes(raw), default_profile=self._defaults())
        return {**summarize_snapshot(result.snapshot), "warnings": result.warnings}

    def import_bytes(self, raw: bytes, progress: ProgressFn | None = None) -> ImportReport:
        """Validate the file, back up the current memory, replace it, then
        index the new diary entries (with progress).

        The replacement is complete before indexing starts: entries are found
        by full-text search at once, and by vector search as they are embedded.
        An interrupted indexing is resumed by ``reindex`` (nothing is lost).
        """
        result = parse_export(load_export_bytes(raw), default_profile=self._defaults())
        snap = result.snapshot
        with self.engine.lock:
            backup = self._backup()
            staged = {
                "export": to_export(snap, version=__version__),
                "backup": backup.name if backup else None,  # None: it replaces nothing
            }
            atomic_write_text(self.app.data_dir / PENDING_IMPORT, json.dumps(staged))
            try:
                self._apply_import(snap)
            except Exception as e:  # whatever it was, the memory must not stay half-replaced
                raise StoreError(self._roll_back(staged, e)) from e
            warnings = list(result.warnings)
            try:
                self.engine.reindex(progress)
            except DLError as e:  # the import stands; vectors come later
                warnings.append(
                    f"Indexing stopped ({e}); full-text search works, and "
                    "'dl-app memory reindex' finishes the vectors."
                )
        return ImportReport(
            entries=len(snap.diary),
            messages=len(snap.conversation),
            archived=len(snap.archive),
            backup=backup,
            warnings=warnings,
            preview=summarize_snapshot(snap),
        )

    def import_file(self, path: str | Path, progress: ProgressFn | None = None) -> ImportReport:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise ImportFailed(f"Cannot read {path}: {e.strerror or e}") from e
        return self.import_bytes(raw, progress)

    def local_backups(self) -> list[dict[str, Any]]:
        """The backups made before imports and deletions, newest first."""
        folder = self.app.data_dir / BACKUPS
        out = []
        for path in folder.glob("memory-*.json") if folder.is_dir() else []:
            if _BACKUP_NAME.fullmatch(path.name):
                st = path.stat()
                out.append({"name": path.name, "at": int(st.st_mtime * 1000), "size": st.st_size})
        return sorted(out, key=lambda b: (b["at"], b["name"]), reverse=True)

    def restore_local_backup(self, name: str, progress: ProgressFn | None = None) -> ImportReport:
        """Import a file of ``local_backups`` by name (the current memory is backed up first)."""
        path = self.app.data_dir / BACKUPS / name
        if not _BACKUP_NAME.fullmatch(name) or not path.is_file():
            raise NotFound(f"There is no local backup named {name!r}.")
        return self.import_file(path, progress)

    # -- editing -----------------------------------------------------------------

    def set_profile(self, **changes: str) -> Profile:
        """Change some of the names, self-concept and profile (the old one goes to history)."""
        with self.engine.lock:
            profile = self.app.state.load().profile.model_copy(update=changes)
            self.app.state.set_profile(profile)
        return profile

    def restore_profile(self, at: int) -> Profile:
        """Bring back the version of the profile saved in history at ``at``."""
        for when, profile in self.app.state.profile_history():
            if when == at:
                with self.engine.lock:
                    self.app.state.set_profile(profile)
                return profile
        raise NotFound("That earlier version of the names and profile is not in the history.")

    def diary_entry(self, uuid: str) -> DiaryEntry:
        entry = self.engine.diary.get(uuid)
        if entry is None:
            raise NotFound("There is no such diary entry (it may have been deleted).")
        return entry

    def archived_messages(self, uuid: str) -> list[Message]:
        return self.app.state.archive_of(uuid)

    def update_diary_entry(self, uuid: str, title: str, summary: str) -> tuple[DiaryEntry, str]:
        """Change an entry's title and summary and re-embed it. Returns the entry
        and a warning ("" when the entry was embedded again)."""
        with self.engine.lock:
            entry = self.diary_entry(uuid).model_copy(update={"title": title, "summary": summary})
            emb, warning = self.engine.embedder, ""
            vectors = None
            if emb is not None:
                try:
                    vectors = emb.embed_passages([f"{title}\n{summary}"])
                except DLError as e:
                    warning = (f"The entry was saved but not indexed ({e}); full-text search "
                               "finds it, and rebuilding the index adds its vector.")
            if vectors is not None and emb is not None:
                self.engine.diary.upsert([entry], vectors, emb.name)
            else:
                self.engine.diary.upsert([entry])
        return entry, warning

    def delete_diary_entry(self, uuid: str) -> None:
        """Remove an entry, its vectors and the archived conversation it came from."""
        with self.engine.lock:
            if not self.engine.diary.delete(uuid):
                raise NotFound("There is no such diary entry (it may have been deleted).")
            self.app.state.delete_archived(uuid)

    def delete_all(self) -> Path | None:
        """Forget everything (a backup file is written first); returns the backup."""
        with self.engine.lock:
            backup = self._backup("before-delete")
            self.engine.diary.clear()
            self.app.state.replace_all(MemorySnapshot(profile=self._defaults()))
            self.app.state.clear_profile_history()
        return backup

    # -- internals -------------------------------------------------------------

    def _defaults(self) -> Any:
        return default_profile(self.app.prompts)

    def _backup(self, reason: str = "before-import") -> Path | None:
        snap = self.snapshot()
        empty = not (snap.diary or snap.conversation or snap.archive or snap.current_summary)
        if empty and snap.profile == self._defaults():
            return None
        folder = self.app.data_dir / BACKUPS
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"memory-{reason}-{stamp}.json"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"memory-{reason}-{stamp}-{n}.json"
        try:
            atomic_write_text(path, json.dumps(to_export(snap, version=__version__),
                                               ensure_ascii=False, indent=2))
        except OSError as e:
            raise StoreError(f"Could not write the backup {path}: {e}; nothing was changed.") from e
        return path

    def _apply_import(self, snap: MemorySnapshot, *, done: bool = True) -> None:
        """Replace the memory with ``snap``; ``done``: the staged import is finished."""
        diary = self.engine.diary
        diary.clear()
        if snap.diary:
            diary.upsert(snap.diary)
        self.app.state.replace_all(snap)
        if done:
            (self.app.data_dir / PENDING_IMPORT).unlink(missing_ok=True)

    def _recover_import(self) -> None:
        """Finish an import a crash interrupted, or roll it back to the backup
        made before it. Opening never fails on the staged file: one that cannot
        be read is moved aside (never deleted), with a message."""
        path = self.app.data_dir / PENDING_IMPORT
        if not path.exists():
            return
        try:
            staged = json.loads(path.read_text(encoding="utf-8"))
            snap = parse_export(staged["export"], default_profile=self._defaults()).snapshot
        except (OSError, ValueError, KeyError, TypeError, ImportFailed) as e:
            # Written atomically before replacing began: damaged later, memory untouched.
            log.warning("%s", self._set_aside(f"An interrupted import could not be read ({e})."))
            return
        try:
            self._apply_import(snap)
        except Exception as e:  # never brick the memory: undo instead
            log.warning("%s", self._roll_back(staged, e))

    def _roll_back(self, staged: dict[str, Any], error: Exception) -> str:
        """Put back the memory an import was replacing (from its backup), then
        move the staged import aside (a crash before that repeats all this on
        the next open), and say what happened."""
        name = staged.get("backup", "")  # "": staged by an older version, no backup named
        try:
            if name is None:  # the import replaced an empty memory
                self._apply_import(MemorySnapshot(profile=self._defaults()), done=False)
            elif name:
                raw = (self.app.data_dir / BACKUPS / Path(str(name)).name).read_bytes()
                parsed = parse_export(load_export_bytes(raw), default_profile=self._defaults())
                self._apply_import(parsed.snapshot, done=False)
            else:
                raise NotFound("no backup was recorded")
        except Exception as e:  # said below; the files stay for the user
            return self._set_aside(
                f"An import failed while replacing the memory ({error}) and could not be "
                f"undone ({e}); the backups are in {self.app.data_dir / BACKUPS}."
            )
        was = f"the backup {name}" if name else "an empty memory"
        return self._set_aside(
            f"An import failed while replacing the memory ({error}); the memory from "
            f"before it was put back ({was})."
        )

    def _set_aside(self, message: str) -> str:
        """Move the staged import to a dated name beside it; ``message`` plus where."""
        path = self.app.data_dir / PENDING_IMPORT
        aside = path.with_name(f"{path.stem}-failed-{time.strftime('%Y%m%d-%H%M%S')}.json")
        try:
            path.replace(aside)
        except OSError as e:
            return f"{message} Moving {path} aside failed: {e}."
        return f"{message} The staged import is kept as {aside}."
