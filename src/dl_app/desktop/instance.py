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

Beyond ``focus``, ``quick`` and ``pet`` (switch to the desktop pet), the holder may
answer requests with a reply of their own (``claim(..., handlers={"cli": fn})``:
``fn(request) -> reply``, on the connection's own thread); ``ask(data_dir, request)``
sends one and returns the reply, or None at once when no instance runs. The command
line uses this to let the running app answer read-only ``dl-app memory`` commands
(``cli/remote.py``).
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from ..fsutil import atomic_write_text

LOCK_FILE = "instance.lock"
INFO_FILE = "instance.json"
COMMANDS = ("focus", "quick", "pet")
MAX_REQUEST = 1 << 20  # bytes in one request line

Handler = Callable[[dict[str, Any]], dict[str, Any]]

log = logging.getLogger(__name__)


class HeldCommands:
    """A second start's commands for a holder still starting: the second start is
    answered at once, and its command waits here until ``open(target)`` (the window
    made), then is done, in order; once open, commands go straight to ``target``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[str] = []
        self._target: Callable[[str], None] | None = None

    def __call__(self, command: str) -> None:
        with self._lock:
            target = self._target
            if target is None:
                self._held.append(command)
                return
        target(command)

    def open(self, target: Callable[[str], None]) -> None:
        with self._lock:  # held: a command arriving meanwhile waits behind the held ones
            for command in self._held:
                target(command)
            self._held.clear()
            self._target = target


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
        self,
        data_dir: Path,
        handle: IO[str],
        on_command: Callable[[str], None],
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._handle = handle
        self._on_command = on_command
        self._handlers = dict(handlers or {})
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
            if not self._handle_one(conn):
                conn.close()

    def _handle_one(self, conn: socket.socket) -> bool:
        """Answer one connection; True when a handler's thread took it over (a slow
        handler never delays a focus)."""
        conn.settimeout(5)
        try:
            line = conn.makefile("rb").readline(MAX_REQUEST)
            request = json.loads(line or b"{}")
            token = str(request.get("token", "")) if isinstance(request, dict) else ""
            command = str(request.get("command", "")) if isinstance(request, dict) else ""
        except (OSError, ValueError):
            return False
        authentic = hmac.compare_digest(token, self._token)
        handler = self._handlers.get(command) if authentic else None
        if handler is not None:
            threading.Thread(target=self._reply, args=(conn, handler, request),
                             name=f"dl-instance-{command}", daemon=True).start()
            return True
        ok = authentic and command in COMMANDS
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"ok": ok}).encode() + b"\n")
        if ok:
            try:
                self._on_command(command)
            except Exception:
                log.exception("instance command %s failed", command)
        return False

    def _reply(self, conn: socket.socket, handler: Handler, request: dict[str, Any]) -> None:
        with conn:
            try:
                reply = handler(request)
            except Exception:
                log.exception("instance request %s failed", request.get("command"))
                reply = {"ok": False}
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(reply, ensure_ascii=False).encode() + b"\n")

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


def claim(
    data_dir: Path,
    on_command: Callable[[str], None],
    handlers: Mapping[str, Handler] | None = None,
) -> Instance | None:
    """Become the running instance for ``data_dir``; None if another one is.
    ``handlers``: requests answered with a reply of their own (see ``ask``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")
    if not _try_lock(handle):
        handle.close()
        return None
    try:
        return Instance(data_dir, handle, on_command, handlers)
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


def ask(data_dir: Path, request: Mapping[str, Any], timeout: float = 30.0) -> dict[str, Any] | None:
    """Send ``request`` (a handler's ``command`` and its fields) to the instance
    running on ``data_dir`` and return its reply; None when none runs (no waiting
    for one that is still starting), it does not answer within ``timeout`` seconds,
    or the reply is not a JSON object."""
    info = _read_info(data_dir)
    if info is None:
        return None
    message = {**request, "token": info.get("token", "")}
    try:
        with socket.create_connection(("127.0.0.1", info["port"]), timeout=2) as s:
            s.settimeout(timeout)
            s.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")
            reply = json.loads(s.makefile("rb").readline() or b"null")
    except (OSError, ValueError):
        return None
    return reply if isinstance(reply, dict) else None
