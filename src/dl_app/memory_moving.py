"""``Memory``'s part for moving memory: export (also encrypted), import with a
preview and a backup first, the local backups made before imports and deletions.
Use it through ``Memory``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__, crypto
from .core.engine import MemoryEngine
from .core.errors import DLError, ImportFailed, StoreError, msg
from .core.exchange import load_export_bytes, parse_export, summarize_snapshot, to_export
from .core.models import MemorySnapshot
from .core.ports import ProgressFn
from .fsutil import atomic_write_text
from .memory_files import backup_path, list_backups, write_backup
from .memory_import import StagedImport
from .memory_types import ImportReport
from .messages import os_reason
from .wiring import App, default_profile

__all__ = ["MovingPart"]


class MovingPart:
    _app: App
    _engine: MemoryEngine
    _staged: StagedImport
    snapshot: Callable[[], MemorySnapshot]  # Memory's

    def _defaults(self) -> Any:
        return default_profile(self._app.prompts)

    def export_dict(self) -> dict[str, Any]:
        return to_export(self.snapshot(), version=__version__)

    def export(self, path: str | Path) -> None:
        text = json.dumps(self.export_dict(), ensure_ascii=False, indent=2)
        try:
            atomic_write_text(Path(path), text)
        except OSError as e:
            raise StoreError(msg("store.cannot_write", path=str(path), error=os_reason(e))) from e

    def export_bytes(self, passphrase: str | None = None) -> bytes:
        """The export as UTF-8 JSON, or encrypted with ``passphrase`` (see ``crypto``)."""
        text = json.dumps(self.export_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        return crypto.encrypt(text, passphrase) if passphrase else text

    def preview_import(self, raw: bytes, *, passphrase: str | None = None) -> dict[str, Any]:
        """What importing ``raw`` would bring (names, counts), with warnings."""
        result = parse_export(load_export_bytes(_plain(raw, passphrase)),
                              default_profile=self._defaults())
        return {**summarize_snapshot(result.snapshot), "warnings": result.warnings}

    def import_bytes(
        self, raw: bytes, progress: ProgressFn | None = None, *, passphrase: str | None = None
    ) -> ImportReport:
        """Validate the file (decrypted with ``passphrase`` if given and it is
        encrypted), back up the current memory, replace it, then index the new
        diary entries (with progress).

        The replacement is complete before indexing starts: entries are found
        by full-text search at once, and by vector search as they are embedded.
        An interrupted indexing is resumed by ``reindex`` (nothing is lost).
        """
        raw = _plain(raw, passphrase)
        result = parse_export(load_export_bytes(raw), default_profile=self._defaults())
        snap = result.snapshot
        with self._engine.lock:
            backup = self._backup()
            self._staged.run(snap, backup)
            warnings = list(result.warnings)
            try:
                self._engine.reindex(progress)
            except DLError as e:  # the import stands; vectors come later
                warnings.append(msg("import.warn.index_stopped", error=e.text or str(e)))
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
            raise ImportFailed(msg("store.cannot_read", path=str(path), error=os_reason(e))) from e
        return self.import_bytes(raw, progress)

    def local_backups(self) -> list[dict[str, Any]]:
        """The backups made before imports and deletions, newest first."""
        return list_backups(self._app.data_dir)

    def restore_local_backup(self, name: str, progress: ProgressFn | None = None) -> ImportReport:
        """Import a file of ``local_backups`` by name (the current memory is backed up first)."""
        return self.import_file(backup_path(self._app.data_dir, name), progress)

    def _backup(self, reason: str = "before-import") -> Path | None:
        snap = self.snapshot()
        empty = not (snap.diary or snap.conversation or snap.archive or snap.current_summary)
        if empty and snap.profile == self._defaults():
            return None
        return write_backup(self._app.data_dir, to_export(snap, version=__version__), reason)


def _plain(raw: bytes, passphrase: str | None) -> bytes:
    """``raw`` decrypted when a passphrase is given and it is encrypted."""
    return crypto.decrypt(raw, passphrase) if passphrase and crypto.is_encrypted(raw) else raw
