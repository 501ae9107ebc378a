"""One app per data dir: a second start tells the first and leaves.

Two real processes share a data dir through ``dl_app.desktop.instance`` (lock file + loopback
command server); the last test runs the real ``dl-app`` twice under Xvfb.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dl_app.desktop import instance

# The first process: claims the data dir, prints each command it gets.
FIRST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dl_app.desktop import instance
    inst = instance.claim(Path(sys.argv[1]), lambda c: print("command", c, flush=True))
    print("claimed" if inst else "busy", flush=True)
    sys.stdin.read()
    inst.close()
    """
)
# The second: must not get the lock; asks the first to focus.
SECOND = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from dl_app.desktop import instance
    root = Path(sys.argv[1])
    if instance.claim(root, print) is not None:
        print("claimed too"); sys.exit(3)
    sys.exit(0 if instance.notify(root, sys.argv[2]) else 4)
    """
)


def _first(root: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", FIRST, str(root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "claimed"
    return proc


def test_second_process_notifies_the_first(tmp_path: Path) -> None:
    first = _first(tmp_path)
    try:
        for command in ("focus", "quick"):
            second = subprocess.run(
                [sys.executable, "-c", SECOND, str(tmp_path), command],
                capture_output=True, text=True, timeout=60,
            )
            assert second.returncode == 0, second.stdout + second.stderr
            assert first.stdout is not None
            assert first.stdout.readline().strip() == f"command {command}"
        info = json.loads((tmp_path / instance.INFO_FILE).read_text())
        assert info["pid"] == first.pid
        if os.name == "posix":
            assert (tmp_path / instance.INFO_FILE).stat().st_mode & 0o077 == 0
    finally:
        first.communicate("", timeout=30)
    assert first.returncode == 0
    assert not (tmp_path / instance.INFO_FILE).exists()  # close() removed it


def test_lock_is_released_when_the_first_dies(tmp_path: Path) -> None:
    first = _first(tmp_path)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    calls: list[str] = []
    inst = instance.claim(tmp_path, calls.append)  # the stale instance.json is replaced
    assert inst is not None
    try:
        assert instance.notify(tmp_path, "focus", timeout=5)
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls == ["focus"]
    finally:
        inst.close()


def test_wrong_token_and_unknown_command_are_refused(tmp_path: Path) -> None:
    calls: list[str] = []
    inst = instance.claim(tmp_path, calls.append)
    assert inst is not None
    try:
        for body in (
            {"token": "0" * 32, "command": "focus"},
            {"token": json.loads((tmp_path / instance.INFO_FILE).read_text())["token"],
             "command": "rm -rf"},
            "not an object",
        ):
            with socket.create_connection(("127.0.0.1", inst.port), timeout=5) as s:
                s.sendall(json.dumps(body).encode() + b"\n")
                reply = json.loads(s.makefile("rb").readline())
            assert reply == {"ok": False}
        with socket.create_connection(("127.0.0.1", inst.port), timeout=5) as s:
            s.sendall(b"garbage\n")  # not JSON: the server drops it and keeps serving
        assert instance.notify(tmp_path, "focus", timeout=5)
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls == ["focus"]
    finally:
        inst.close()
    with pytest.raises(ValueError):
        instance.notify(tmp_path, "shutdown")


def test_handlers_answer_requests_that_carry_the_token(tmp_path: Path) -> None:
    seen: list[str] = []

    def echo(request: dict[str, object]) -> dict[str, object]:
        seen.append(str(request["text"]))
        return {"ok": True, "echo": str(request["text"]) * 2}

    inst = instance.claim(tmp_path, lambda _c: None, {"echo": echo})
    assert inst is not None
    try:
        assert instance.ask(tmp_path, {"command": "echo", "text": "话"}) == {"ok": True,
                                                                            "echo": "话话"}
        with socket.create_connection(("127.0.0.1", inst.port), timeout=5) as s:
            s.sendall(json.dumps({"token": "0" * 32, "command": "echo", "text": "x"}).encode()
                      + b"\n")
            assert json.loads(s.makefile("rb").readline()) == {"ok": False}
        assert seen == ["话"]
    finally:
        inst.close()
    assert instance.ask(tmp_path, {"command": "echo", "text": "x"}) is None  # none runs


def test_notify_without_a_running_instance_gives_up(tmp_path: Path) -> None:
    started = time.monotonic()
    assert instance.notify(tmp_path, "focus", timeout=0.5) is False
    assert time.monotonic() - started < 5


# -- the real app ------------------------------------------------------------------

from test_window import app_env, needs_display, running, wait_ready, xvfb  # noqa: E402

__all__ = ["xvfb"]  # the fixture, imported for this module's tests


@needs_display
def test_second_dl_app_focuses_the_first(
    xvfb: str, openai_server: object, tmp_path: Path
) -> None:
    env = app_env(xvfb, openai_server, "en_US.UTF-8")  # type: ignore[arg-type]
    log = tmp_path / "stderr.log"
    with running([], env, log) as (proc, lines):
        wait_ready(proc, lines, log)
        second = subprocess.run(
            [sys.executable, "-m", "dl_app"], env=env, capture_output=True, text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr[-3000:]
        assert "already running" in second.stdout
        deadline = time.monotonic() + 20
        seen = ""
        while "asked to focus" not in seen and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                seen += lines.get(timeout=0.5)
        assert "another start asked to focus" in seen
        assert proc.poll() is None  # the first is still running


def test_a_command_for_a_holder_still_starting_is_done_once_it_can_be(tmp_path: Path) -> None:
    """``dl-app --pet`` while the first start has no window yet: the second start is
    answered at once; its command waits and is done, in order, once the window exists
    (it was dropped: the second start said "ok" and nothing happened)."""
    held = instance.HeldCommands()
    inst = instance.claim(tmp_path, held)
    assert inst is not None
    done: list[str] = []
    try:
        assert instance.notify(tmp_path, "pet", timeout=5)
        assert instance.notify(tmp_path, "quick", timeout=5)
        assert done == []  # nothing to do them yet
        held.open(done.append)  # (the server may hand over "quick" just before or after)
        assert instance.notify(tmp_path, "focus", timeout=5)
        deadline = time.monotonic() + 30
        while len(done) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done == ["pet", "quick", "focus"]
    finally:
        inst.close()
