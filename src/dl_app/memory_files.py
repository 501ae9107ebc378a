"""The files ``Memory`` keeps beside its stores in the data dir.

    backups/memory-<reason>-<stamp>.json   the memory as it was before an import or
                                           a deletion (the export format)
    import-pending.json                    an import staged before it replaces the
                                           memory; finished on the next open if a
                                           crash interrupted it
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .core.errors import NotFound, StoreError, msg
from .fsutil import atomic_write_text
from .messages import os_reason

__all__ = ["BACKUPS", "PENDING_IMPORT", "backup_path", "list_backups", "write_backup"]

PENDING_IMPORT = "import-pending.json"
BACKUPS = "backups"
_BACKUP_NAME = re.compile(r"memory-[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.json")


def list_backups(data_dir: Path) -> list[dict[str, Any]]:
    """``{name, at, size}`` of each backup file, newest first."""
    folder = data_dir / BACKUPS
    out = []
    for path in folder.glob("memory-*.json") if folder.is_dir() else []:
        if _BACKUP_NAME.fullmatch(path.name):
            st = path.stat()
            out.append({"name": path.name, "at": int(st.st_mtime * 1000), "size": st.st_size})
    return sorted(out, key=lambda b: (b["at"], b["name"]), reverse=True)


def backup_path(data_dir: Path, name: str) -> Path:
    """The backup file called ``name``; ``NotFound`` for any other name."""
    path = data_dir / BACKUPS / name
    if not _BACKUP_NAME.fullmatch(name) or not path.is_file():
        raise NotFound(msg("memory.no_local_backup", name=name))
    return path


def write_backup(data_dir: Path, export: dict[str, Any], reason: str) -> Path:
    """Write ``export`` as a new backup file; ``StoreError`` if it cannot be written."""
    folder = data_dir / BACKUPS
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"memory-{reason}-{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"memory-{reason}-{stamp}-{n}.json"
    try:
        atomic_write_text(path, json.dumps(export, ensure_ascii=False, indent=2))
    except OSError as e:
        raise StoreError(msg("store.backup_write", path=str(path), error=os_reason(e))) from e
    return path
