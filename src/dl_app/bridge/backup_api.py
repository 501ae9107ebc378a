"""The S3 backup methods (``backup_*``) and the auto-backup after a diary entry.
See ``docs/memory-pages-api.md``. A mixin of ``Api``.

Uploads and downloads run outside the memory lock (chat stays usable); the
body is built, and a restore applied, under it. One backup task runs at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from .. import settings_io
from ..adapters.secrets import SecretStore
from ..backup import BackupService, throttled
from ..core.errors import DLError
from ..memory import Memory
from ..settings import Settings
from .memory_api import MemoryApi, report_out
from .params import NoParams, failure, invalid

__all__ = ["BACKUP_METHODS", "BackupApi"]

log = logging.getLogger(__name__)

BACKUP_METHODS = ("backup_test", "backup_upload", "backup_list", "backup_preview",
                  "backup_restore")


class KeyParams(NoParams):
    key: str = Field(min_length=1, max_length=1024)


class RestoreParams(KeyParams):
    apply_settings: bool = False  # also take the backup's settings (not its backup group)


class BackupApi:
    """The ``backup_*`` methods."""

    _run: Callable[..., dict[str, Any]]
    _mem: Callable[[], Memory]
    _progress: Callable[[str], Callable[[int, int], None]]
    _emit: Callable[[str, dict[str, Any]], None]
    _reset: Callable[[], None]
    _lock: threading.RLock
    _backup_lock: threading.Lock
    _data_dir: Path
    _env: Any
    _secrets: SecretStore
    _auto_thread: threading.Thread | None

    _backup_part_size = 8 * 1024 * 1024  # multipart threshold and part size (tests lower it)
    _backup_timeout = 30.0

    def _backup_service(self, settings: Settings | None = None) -> BackupService:
        s = settings or settings_io.effective(self._data_dir, self._env)
        return BackupService(s.backup, self._secrets, part_size=self._backup_part_size,
                             timeout=self._backup_timeout)

    def backup_test(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._backup_test, locked=False)

    def _backup_test(self, _p: NoParams) -> dict[str, Any]:
        try:
            message = self._backup_service().test()
        except DLError as e:
            return {**failure(e), "message": str(e)}
        return {"ok": True, "message": message}

    def backup_upload(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, lambda _p: self._upload(), locked=False)

    def _upload(self) -> dict[str, Any]:
        with self._backup_lock:
            with self._lock:
                mem = self._mem()
                settings = settings_io.effective(self._data_dir, self._env)
                service = self._backup_service(settings)
                body, encrypted = service.make_body(mem.export_dict(), settings)
            obj = service.upload(body, encrypted, throttled(self._progress("backup")))
        return {"object": obj.as_dict()}

    def backup_list(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._backup_list, locked=False)

    def _backup_list(self, _p: NoParams) -> dict[str, Any]:
        return {"objects": [o.as_dict(with_sha=False) for o in self._backup_service().list()]}

    def backup_preview(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, KeyParams, self._backup_preview, locked=False)

    def _backup_preview(self, p: KeyParams) -> dict[str, Any]:
        opened = self._backup_service().fetch(p.key)
        with self._lock:
            out = MemoryApi._preview(self._mem(), opened.export, opened.encrypted,
                                     opened.warnings)
        return {**out, "settings": opened.settings}

    def backup_restore(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, RestoreParams, self._backup_restore, locked=False)

    def _backup_restore(self, p: RestoreParams) -> dict[str, Any]:
        with self._backup_lock:
            opened = self._backup_service().fetch(p.key, throttled(self._progress("restore")))
            with self._lock:
                report = self._mem().import_bytes(opened.export, self._progress("import"))
                out = report_out(report)
                out["warnings"] = [*opened.warnings, *out["warnings"]]
                if p.apply_settings and opened.settings is not None:
                    out["warnings"] += self._apply_backup_settings(opened.settings)
        return {"report": out}

    def _apply_backup_settings(self, saved: dict[str, Any]) -> list[str]:
        """Take a backup's settings, keeping this machine's backup group."""
        current = settings_io.effective(self._data_dir, self._env)
        merged = {**saved, "backup": current.backup.model_dump(mode="json")}
        try:
            Settings.model_validate(merged)
            settings_io.apply_patch(self._data_dir, merged)
        except (ValidationError, DLError) as e:
            detail = invalid(e, "settings") if isinstance(e, ValidationError) else e
            return [f"The backup's settings were not applied: {detail}"]
        self._reset()
        return []

    # -- automatic backup after a diary entry

    def _after_diary(self, mem: Memory) -> bool:
        """Start a background upload if ``backup.auto_after_diary``; True if started.
        Reports ``backup.auto`` ``{ok, object}`` or ``{ok: false, error}``."""
        if not mem.settings.backup.auto_after_diary:
            return False
        thread = threading.Thread(target=self._auto_backup, name="auto-backup", daemon=True)
        self._auto_thread = thread
        thread.start()
        return True

    def _auto_backup(self) -> None:
        try:
            result = self._upload()
        except DLError as e:
            log.info("the automatic backup failed: %s", e)
            self._emit("backup.auto", failure(e))
        except Exception as e:
            log.exception("the automatic backup failed")
            self._emit("backup.auto", failure(e))
        else:
            self._emit("backup.auto", {"ok": True, **result})
