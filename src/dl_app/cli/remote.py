"""Read-only ``dl-app memory`` commands answered by the app that already runs.

Opening a data dir costs seconds (LanceDB alone takes 1.5-2.5 s to import), and
the desktop app has it open already. So ``dl-app memory show`` and ``dl-app memory
search`` first ask the app that holds the data dir (over its single-instance
channel, ``desktop/instance.py``) to run the same command line; it runs it with
its open memory and sends back the exit code and what the command wrote. The
command line prints that as if it had run the command itself.

The app declines, and the command opens the data dir itself as before, when no app
runs, when the app's environment would give another answer (its ``DL_*``, locale
or time zone variables differ, or it is another version), or when its memory is
busy for more than ``LOCK_WAIT`` seconds (a reply in progress).

    code = ask(argv)                 # the command line: None means "run it here"
    handler(main, borrow)            # the app: the "cli" request handler
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from io import StringIO
from typing import TYPE_CHECKING, Any, TextIO

from .. import __version__
from ..desktop import instance
from ..paths import data_dir

if TYPE_CHECKING:
    from ..memory import Memory

__all__ = ["LOCK_WAIT", "READ_ONLY", "ask", "borrowed", "handler", "read_only"]

log = logging.getLogger(__name__)

READ_ONLY = (("memory", "show"), ("memory", "search"))
LOCK_WAIT = 2.0  # seconds the app waits for its memory before it declines
REPLY_WAIT = 30.0  # seconds the command line waits for the app's answer
_ENV_ALSO = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "TZ")

Borrow = Callable[[float], AbstractContextManager["Memory"]]

_borrowed: ContextVar[Memory | None] = ContextVar("dl_app_borrowed_memory", default=None)


def read_only(argv: Sequence[str]) -> bool:
    """``argv`` is a command the running app may answer."""
    return tuple(argv[:2]) in READ_ONLY


def fingerprint(env: Mapping[str, str]) -> str:
    """A digest of the variables that change a command's answer (values stay private)."""
    names = sorted(k for k in env if (k.startswith("DL_") and k != "DL_DATA_DIR")
                   or k in _ENV_ALSO)
    blob = json.dumps([__version__, [(k, env[k]) for k in names]])
    return hashlib.sha256(blob.encode()).hexdigest()


def ask(argv: Sequence[str]) -> int | None:
    """Let the app running on this data dir run ``argv``; print its output and return
    its exit code, or None when it did not (run the command here then)."""
    if not read_only(argv) or _borrowed.get() is not None:
        return None
    request = {"command": "cli", "argv": list(argv), "env": fingerprint(os.environ)}
    reply = instance.ask(data_dir(), request, timeout=REPLY_WAIT)
    if not reply or reply.get("ok") is not True:
        return None
    sys.stdout.write(str(reply.get("stdout", "")))
    sys.stdout.flush()
    sys.stderr.write(str(reply.get("stderr", "")))
    code = reply.get("code")
    return code if isinstance(code, int) else 1


def borrowed() -> Memory | None:
    """In the app, while it answers a command: its open memory (closing it does
    nothing); else None."""
    return _borrowed.get()


class _Kept:
    """The app's memory as a command sees it: everything but ``close``."""

    def __init__(self, mem: Memory) -> None:
        self._mem = mem

    def close(self, **_kw: Any) -> None:
        """The app keeps its memory open."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mem, name)


class _PerThread:
    """Stands in for ``sys.stdout``/``sys.stderr``: what a capturing thread writes goes
    to its buffer, everything else to the stream it replaced (None: dropped)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.local = threading.local()

    def write(self, text: str) -> int:
        target = getattr(self.local, "buffer", None)
        if target is None:
            target = self.stream
        return target.write(text) if target is not None else len(text)

    def flush(self) -> None:
        if getattr(self.local, "buffer", None) is None and self.stream is not None:
            self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_capture_lock = threading.Lock()


@contextlib.contextmanager
def _captured() -> Iterator[tuple[StringIO, StringIO]]:
    """What this thread prints, in two buffers; other threads print as before."""
    out, err = StringIO(), StringIO()
    with _capture_lock:
        proxies = _PerThread(sys.stdout), _PerThread(sys.stderr)
        sys.stdout, sys.stderr = proxies  # type: ignore[assignment]
    proxies[0].local.buffer, proxies[1].local.buffer = out, err
    try:
        yield out, err
    finally:
        with _capture_lock:
            if sys.stdout is proxies[0]:
                sys.stdout = proxies[0].stream  # type: ignore[assignment]
            if sys.stderr is proxies[1]:
                sys.stderr = proxies[1].stream  # type: ignore[assignment]


def handler(
    run: Callable[[Sequence[str]], int], borrow: Borrow
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The app's ``cli`` request handler: ``run(argv)`` (the command line's ``main``)
    with the memory ``borrow(timeout)`` lends, its output captured."""

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        argv = request.get("argv")
        if (not isinstance(argv, list) or not all(isinstance(a, str) for a in argv)
                or not read_only(argv)):
            return {"ok": False, "reason": "not a read-only command"}
        if request.get("env") != fingerprint(os.environ):
            return {"ok": False, "reason": "another environment"}
        try:
            with borrow(LOCK_WAIT) as mem, _captured() as (out, err):
                token = _borrowed.set(_Kept(mem))  # type: ignore[arg-type]
                try:
                    code = run(argv)
                except SystemExit as e:  # argparse: the command line parsed it already
                    code = e.code if isinstance(e.code, int) else 2
                finally:
                    _borrowed.reset(token)
        except TimeoutError:
            return {"ok": False, "reason": "busy"}
        return {"ok": True, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}

    return answer
