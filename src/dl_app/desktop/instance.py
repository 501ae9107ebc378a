"""One running app per data dir: a lock file plus a loopback command server.

    inst = claim(data_dir, on_command)   # None when another instance holds the lock
    if inst is None:
        notify(data_dir, "focus")         # ask the running one to come to the front
        ...exit 0
    ...
    inst.close()                          # (or just exit: the OS drops the lock)

The first instance holds an exclusive lock on ``<data dir>/instance.lock`` for its whole
life (``flock`` on POSIX, ``msvcrt.locking`` on Windows; the OS releases it when the
process dies, so a crash leaves no stale lock) and listens on ``127.0.0.1:<random
port>``. ``<data dir>/instance.json`` (mode 0600) holds the port and a random token; a
second start sends ``{"token": ..., "command": "focus"}`` as one JSON line and reads
``{"ok": true}``. A wrong token gets ``{"ok": false}`` and nothing happens, so other
local users cannot drive the app.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..fsutil import atomic_write_text

LOCK_FILE = "instance.lock"
INFO_FILE = "instance.json"
COMMANDS = ("focus", "quick")

log = logging.getLogger(__name__)


def _try_lock(handle: IO[str]) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Instance:
    """The lock holder: serves commands from later starts until :meth:`close`."""

    def __init__(
        self, data_dir: Path, handle: IO[str], on_command: Callable[[str], None]
    ) -> None:
        self.data_dir = data_dir
        self._handle = handle
        self._on_command = on_command
        self._token = secrets.token_hex(16)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self.port: int = self._server.getsockname()[1]
        self._closed = threading.Event()
        info = {"port": self.port, "token": self._token, "pid": os.getpid()}
        path = data_dir / INFO_FILE
        atomic_write_text(path, json.dumps(info))
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self._serve, name="dl-instance", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            with conn:
                self._handle_one(conn)

    def _handle_one(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            line = conn.makefile("rb").readline(4096)
            request = json.loads(line or b"{}")
            token = str(request.get("token", "")) if isinstance(request, dict) else ""
            command = str(request.get("command", "")) if isinstance(request, dict) else ""
        except (OSError, ValueError):
            return
        ok = hmac.compare_digest(token, self._token) and command in COMMANDS
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"ok": ok}).encode() + b"\n")
        if ok:
            try:
                self._on_command(command)
            except Exception:
                log.exception("instance command %s failed", command)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with contextlib.suppress(OSError):
            (self.data_dir / INFO_FILE).unlink()
        with contextlib.suppress(OSError):
            self._handle.close()  # releases the lock


def claim(data_dir: Path, on_command: Callable[[str], None]) -> Instance | None:
    """Become the running instance for ``data_dir``; None if another one is."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")
    if not _try_lock(handle):
        handle.close()
        return None
    try:
        return Instance(data_dir, handle, on_command)
    except OSError:
        handle.close()
        raise


def _read_info(data_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((data_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("port"), int):
        return None
    return info


def notify(data_dir: Path, command: str = "focus", timeout: float = 10.0) -> bool:
    """Send ``command`` to the running instance; True when it accepted it.

    Waits up to ``timeout`` seconds for an instance that is still starting (it holds
    the lock before its command server is up)."""
    if command not in COMMANDS:
        raise ValueError(f"unknown instance command {command!r}")
    deadline = time.monotonic() + timeout
    while True:
        info = _read_info(data_dir)
        if info is not None:
            try:
                with socket.create_connection(("127.0.0.1", info["port"]), timeout=5) as s:
                    s.sendall(
                        json.dumps({"token": info.get("token", ""), "command": command}).encode()
                        + b"\n"
                    )
                    reply = json.loads(s.makefile("rb").readline(4096) or b"{}")
                return bool(isinstance(reply, dict) and reply.get("ok"))
            except (OSError, ValueError):
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
