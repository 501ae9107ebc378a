"""The data dir's format version (``format.json``).

Every data dir says which storage format it holds: ``{"format": N,
"written_by": "<app version>"}``, written atomically when a data dir is opened.
A data dir without the file was written before formats were numbered (the first
releases: format 1). A format newer than ``FORMAT`` is refused before anything
is read or written, so an older app never damages a newer app's memory. A
version that changes the storage raises ``FORMAT``, upgrades older data dirs in
place when it opens them, and keeps a fixture of the old format in
``tests/data/upgrade/``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from . import __version__
from .core.errors import DataDirTooNew, StoreError, msg
from .fsutil import atomic_write_text
from .messages import os_reason

__all__ = ["FILE", "FORMAT", "check_format"]

FORMAT = 1
FILE = "format.json"
log = logging.getLogger(__name__)


def _read(path: Path) -> tuple[int, str] | None:
    """(format, written_by) from ``path``; None when there is none."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(msg("store.cannot_read", path=str(path), error=os_reason(e))) from e
    try:
        data = json.loads(raw)
        return int(data["format"]), str(data.get("written_by", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        # Written atomically by every version, so this is outside damage: the data
        # dir's own files decide; it is rewritten below.
        log.warning("%s is unreadable; taking the data dir as format %d", path, FORMAT)
        return None


def check_format(root: Path) -> None:
    """Refuse a data dir of a newer format; stamp an older or unnumbered one."""
    path = root / FILE
    found = _read(path)
    if found is not None and found[0] > FORMAT:
        number, by = found
        raise DataDirTooNew(msg(
            "store.too_new", root=str(root), by=msg("store.too_new_by", by=by) if by else "",
            number=number, version=__version__, max=FORMAT))
    if found is None or found[0] != FORMAT:
        try:
            atomic_write_text(
                path, json.dumps({"format": FORMAT, "written_by": __version__}) + "\n"
            )
        except OSError as e:
            raise StoreError(msg("store.cannot_write", path=str(path), error=os_reason(e))) from e
