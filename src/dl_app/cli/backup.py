"""``dl-app memory backup|backups|restore``: the S3 backup from the command line.

    dl-app memory backup            upload a backup now (progress on stderr)
    dl-app memory backups [--json]  the backups in the bucket, newest first
    dl-app memory restore KEY       replace memory with a backup (local backup first)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from .progress import Progress, say

if TYPE_CHECKING:
    from ..backup import BackupService
    from ..memory import Memory

__all__ = ["add_commands"]


def _service(mem: Memory) -> BackupService:
    from ..adapters.secrets import SecretStore
    from ..backup import BackupService

    return BackupService(mem.settings.backup, SecretStore(mem.data_dir))


def _open() -> Memory:
    from ..memory import Memory

    return Memory.open()


def cmd_backup(_args: argparse.Namespace) -> int:
    from ..backup import throttled

    mem = _open()
    try:
        service = _service(mem)
        body, encrypted = service.make_body(mem.export_dict(), mem.settings)
    finally:
        mem.close()
    obj = service.upload(body, encrypted, throttled(Progress(say("cli.uploading")), 10))
    print(obj.key)
    print(say("cli.uploaded", size=obj.size, sha256=obj.sha256,
              encrypted=say("cli.uploaded_encrypted") if encrypted else ""), file=sys.stderr)
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    mem = _open()
    try:
        objects = _service(mem).list()
    finally:
        mem.close()
    if args.json:
        print(json.dumps([o.as_dict(with_sha=False) for o in objects], indent=2))
        return 0
    if not objects:
        print(say("cli.no_backups"), file=sys.stderr)
    for o in objects:
        lock = " " + say("cli.uploaded_encrypted") if o.encrypted else ""
        print(say("cli.backup_line", key=o.key, size=o.size, lock=lock))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:

    mem = _open()
    try:
        opened = _service(mem).fetch(args.key, Progress(say("cli.downloading")))
        report = mem.import_bytes(opened.export, Progress(say("cli.indexing_diary")))
    finally:
        mem.close()
    for w in [*opened.warnings, *report.warnings]:
        print("dl-app: " + say("cli.warning", warning=w), file=sys.stderr)
    print(say("cli.restored", key=args.key, entries=report.entries, messages=report.messages,
              archived=report.archived))
    if report.backup:
        print(say("cli.replaced_saved", path=report.backup))
    return 0


def add_commands(msub: Any) -> None:
    """Register the commands on the ``memory`` subparsers."""
    msub.add_parser("backup", help=say("cli.help.backup")).set_defaults(fn=cmd_backup)
    lst = msub.add_parser("backups", help=say("cli.help.backups"))
    lst.add_argument("--json", action="store_true", help=say("cli.help.json_array"))
    lst.set_defaults(fn=cmd_backups)
    res = msub.add_parser("restore", help=say("cli.help.restore"))
    res.add_argument("key", metavar=say("cli.arg.key"), help=say("cli.help.restore_key"))
    res.set_defaults(fn=cmd_restore)
