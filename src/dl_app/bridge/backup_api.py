"""The S3 backup methods (``backup_*``) and the auto-backup after a diary entry.
See ``docs/memory-pages-api.md``.

Uploads and downloads run outside the memory lock (chat stays usable); the
body is built, and a restore applied, under it. One backup task runs at a time.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from pydantic import Field, ValidationError

from .. import settings_io
from ..backup import BackupService, throttled
from ..core.errors import DLError
from ..core.health import S3
from ..memory import Memory
from ..messages import render, say
from ..settings import Settings
from .context import Context
from .health_api import used
from .memory_api import preview_out, report_out
from .params import NoParams, failure, invalid
from .registry import Methods

__all__ = ["after_diary", "methods"]

log = logging.getLogger(__name__)

methods = Methods()


class KeyParams(NoParams):
    key: str = Field(min_length=1, max_length=1024)


class RestoreParams(KeyParams):
    apply_settings: bool = False  # also take the backup's settings (not its backup group)


def _service(ctx: Context, settings: Settings | None = None) -> BackupService:
    s = settings or ctx.settings()
    return BackupService(s.backup, ctx.secrets, part_size=ctx.backup_part_size,
                         timeout=ctx.backup_timeout)


@methods.expose(locked=False)
def backup_test(ctx: Context, _p: NoParams) -> dict[str, Any]:
    try:
        with used(ctx, S3):
            message = _service(ctx).test()
    except DLError as e:
        said = failure(e, ctx.lang())
        return {**said, "message": said["error"]["message"]}
    return {"ok": True, "message": render(message, ctx.lang())}


@methods.expose(locked=False)
def backup_upload(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return _upload(ctx)


def _upload(ctx: Context) -> dict[str, Any]:
    with ctx.backup_lock:
        with ctx.lock:
            mem = ctx.mem()
            settings = ctx.settings()
            service = _service(ctx, settings)
            body, encrypted = service.make_body(mem.export_dict(), settings)
        with used(ctx, S3):
            obj = service.upload(body, encrypted, throttled(ctx.progress("backup")))
    return {"object": obj.as_dict()}


@methods.expose(locked=False)
def backup_list(ctx: Context, _p: NoParams) -> dict[str, Any]:
    with used(ctx, S3):
        found = _service(ctx).list()
    return {"objects": [o.as_dict(with_sha=False) for o in found]}


@methods.expose(KeyParams, locked=False)
def backup_preview(ctx: Context, p: KeyParams) -> dict[str, Any]:
    with used(ctx, S3):
        opened = _service(ctx).fetch(p.key)
    with ctx.lock:
        out = preview_out(ctx, opened.export, opened.encrypted, opened.warnings)
    return {**out, "settings": opened.settings}


@methods.expose(RestoreParams, locked=False)
def backup_restore(ctx: Context, p: RestoreParams) -> dict[str, Any]:
    with ctx.backup_lock:
        with used(ctx, S3):
            opened = _service(ctx).fetch(p.key, throttled(ctx.progress("restore")))
        with ctx.lock:
            report = ctx.mem().import_bytes(opened.export, ctx.progress("import"))
            out = report_out(report, ctx.lang())
            out["warnings"] = [*(render(w, ctx.lang()) for w in opened.warnings), *out["warnings"]]
            if p.apply_settings and opened.settings is not None:
                out["warnings"] += _apply_backup_settings(ctx, opened.settings)
    return {"report": out}


def _apply_backup_settings(ctx: Context, saved: dict[str, Any]) -> list[str]:
    """Take a backup's settings, keeping this machine's backup group."""
    current = ctx.settings()
    merged = {**saved, "backup": current.backup.model_dump(mode="json")}
    try:
        Settings.model_validate(merged)
        settings_io.apply_patch(ctx.data_dir, merged)
    except (ValidationError, DLError) as e:
        detail = invalid(e, "settings") if isinstance(e, ValidationError) else e
        return [say(ctx.lang(), "backup.settings_not_applied", detail=detail)]
    ctx.reset()
    return []


# -- automatic backup after a diary entry


def after_diary(ctx: Context, mem: Memory) -> bool:
    """Start a background upload if ``backup.auto_after_diary``; True if started.
    Reports ``backup.auto`` ``{ok, object}`` or ``{ok: false, error}``."""
    if not mem.settings.backup.auto_after_diary:
        return False
    thread = threading.Thread(target=_auto_backup, args=(ctx,), name="auto-backup",
                              daemon=True)
    ctx.auto_thread = thread
    thread.start()
    return True


def _auto_backup(ctx: Context) -> None:
    try:
        result = _upload(ctx)
    except DLError as e:
        log.info("the automatic backup failed: %s", e)
        ctx.emit("backup.auto", failure(e, ctx.lang()))
    except Exception as e:
        log.exception("the automatic backup failed")
        ctx.emit("backup.auto", failure(e, ctx.lang()))
    else:
        ctx.emit("backup.auto", {"ok": True, **result})
