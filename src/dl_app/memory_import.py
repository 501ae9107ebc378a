"""Replacing the whole memory with an import, so that no crash can break it.

The import is staged first (``import-pending.json``, written atomically: the new
memory and the name of the backup made of the old one), then applied, then the
staged file is removed. Opening a data dir finishes a staged import that a kill
interrupted; an import that fails while replacing is rolled back to the backup.
Opening never fails on the staged file: one that cannot be read is moved aside
(never deleted), with a message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .core.errors import ImportFailed, NotFound, StoreError
from .core.exchange import load_export_bytes, parse_export, to_export
from .core.models import MemorySnapshot, Profile
from .fsutil import atomic_write_text
from .memory_files import BACKUPS, PENDING_IMPORT

__all__ = ["StagedImport"]

log = logging.getLogger(__name__)


class StagedImport:
    """The staged import of one data dir. ``replace`` puts a snapshot in place of
    the whole memory (diary and state); ``defaults`` is the default profile."""

    def __init__(
        self,
        data_dir: Path,
        replace: Callable[[MemorySnapshot], None],
        defaults: Callable[[], Profile],
    ) -> None:
        self.path = data_dir / PENDING_IMPORT
        self.backups = data_dir / BACKUPS
        self._replace = replace
        self._defaults = defaults

    def run(self, snap: MemorySnapshot, backup: Path | None) -> None:
        """Stage, apply, finish; on failure put the old memory back (StoreError)."""
        staged = {
            "export": to_export(snap, version=__version__),
            "backup": backup.name if backup else None,  # None: it replaces nothing
        }
        atomic_write_text(self.path, json.dumps(staged))
        try:
            self._replace(snap)
        except Exception as e:  # whatever it was, the memory must not stay half-replaced
            raise StoreError(self._roll_back(staged, e)) from e
        self.path.unlink(missing_ok=True)

    def recover(self) -> None:
        """Finish an import a crash interrupted, or roll it back to the backup."""
        if not self.path.exists():
            return
        try:
            staged = json.loads(self.path.read_text(encoding="utf-8"))
            snap = parse_export(staged["export"], default_profile=self._defaults()).snapshot
        except (OSError, ValueError, KeyError, TypeError, ImportFailed) as e:
            # Written atomically before replacing began: damaged later, memory untouched.
            log.warning("%s", self._set_aside(f"An interrupted import could not be read ({e})."))
            return
        try:
            self._replace(snap)
        except Exception as e:  # never brick the memory: undo instead
            log.warning("%s", self._roll_back(staged, e))
            return
        self.path.unlink(missing_ok=True)

    def _roll_back(self, staged: dict[str, Any], error: Exception) -> str:
        """Put back the memory an import was replacing (from its backup), then
        move the staged import aside (a crash before that repeats all this on
        the next open), and say what happened."""
        name = staged.get("backup", "")  # "": staged by an older version, no backup named
        try:
            if name is None:  # the import replaced an empty memory
                self._replace(MemorySnapshot(profile=self._defaults()))
            elif name:
                raw = (self.backups / Path(str(name)).name).read_bytes()
                parsed = parse_export(load_export_bytes(raw), default_profile=self._defaults())
                self._replace(parsed.snapshot)
            else:
                raise NotFound("no backup was recorded")
        except Exception as e:  # said below; the files stay for the user
            return self._set_aside(
                f"An import failed while replacing the memory ({error}) and could not be "
                f"undone ({e}); the backups are in {self.backups}."
            )
        was = f"the backup {name}" if name else "an empty memory"
        return self._set_aside(
            f"An import failed while replacing the memory ({error}); the memory from "
            f"before it was put back ({was})."
        )

    def _set_aside(self, message: str) -> str:
        """Move the staged import to a dated name beside it; ``message`` plus where."""
        aside = self.path.with_name(
            f"{self.path.stem}-failed-{time.strftime('%Y%m%d-%H%M%S')}.json"
        )
        try:
            self.path.replace(aside)
        except OSError as e:
            return f"{message} Moving {self.path} aside failed: {e}."
        return f"{message} The staged import is kept as {aside}."
