"""The real desktop window under Xvfb: ``dl-app`` opens, the page reports ready through
the bridge, and a screenshot of the X display shows a rendered page.

Needs Xvfb and PySide6 with QtWebEngine (skipped without them; CI installs both).
Set ``WINDOW_TEST_SHOTS=<dir>`` to keep the screenshots as ``window-<lang>.png``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.openai_compat import OpenAICompatServer

READY_TIMEOUT = 90.0
DL_APP = [sys.executable, "-m", "dl_app"]


def _missing() -> str | None:
    if not shutil.which("Xvfb"):
        return "Xvfb is not installed (apt-get install xvfb xauth)"
    try:
        found = importlib.util.find_spec("PySide6.QtWebEngineWidgets")
    except ImportError:
        found = None
    if found is None:
        return "PySide6 QtWebEngine is not installed (pip install PySide6-WebEngine)"
    return None


needs_display = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

# Grabs the root window of $DISPLAY through Qt's xcb plugin, saves a PNG and prints
# how much of the screen is covered and how many colours it has.
_GRAB = r"""
import json, sys
from collections import Counter
from PySide6.QtGui import QGuiApplication, QImage
app = QGuiApplication(sys.argv[:1])
img = app.primaryScreen().grabWindow(0).toImage().convertToFormat(QImage.Format.Format_RGB32)
img.save(sys.argv[1])
data = bytes(img.constBits())
pixels = Counter(data[i:i + 3] for i in range(0, len(data), 4 * 3))  # every 3rd pixel, BGR
total = sum(pixels.values())
root = pixels.get(b"\0\0\0", 0)  # Xvfb's bare root window is black
page = Counter({k: v for k, v in pixels.items() if k != b"\0\0\0"})
top = page.most_common(1)[0][1] if page else 0
print(json.dumps({
    "width": img.width(), "height": img.height(),
    "covered": 1 - root / total,
    "colours": len(page),
    "dominant": top / max(sum(page.values()), 1),
}))
"""


def grab_screen(display: str, path: Path) -> dict[str, float]:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "QT_API": "pyside6"}
    out = subprocess.run(
        [sys.executable, "-c", _GRAB, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    stats: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return stats


def rendered(stats: dict[str, float]) -> bool:
    """A window covers most of the screen and is not one flat colour (text alone on a
    plain background leaves about 2% of the pixels off the background colour)."""
    return stats["covered"] > 0.4 and stats["colours"] >= 16 and stats["dominant"] < 0.995


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (``-displayfd``)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number.isdigit():
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"Xvfb did not start: {err[-2000:]}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def app_env(display: str, server: OpenAICompatServer, lang: str) -> dict[str, str]:
    env = dict(os.environ)  # DL_DATA_DIR: the tmp dir of the autouse fixture
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    env.update(
        DISPLAY=display,
        LANG=lang,
        DL_LLM_BASE_URL=server.base_url,
        DL_EMBED_BASE_URL=server.base_url,  # no built-in embedder to load
        PYTHONUNBUFFERED="1",
    )
    return env


@contextlib.contextmanager
def running(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """The app as a child process; its stdout lines arrive on the queue, its stderr
    (Chromium is chatty) goes to ``log``."""
    with log.open("w") as err:
        proc = subprocess.Popen(
            DL_APP + args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # pywebview's Qt backend quits on SIGINT
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_ready(proc: subprocess.Popen[str], lines: queue.Queue[str], log: Path) -> float:
    """Seconds until the app printed ``Window ready`` (the page called ``page_ready``)."""
    start = time.monotonic()
    seen: list[str] = []
    while time.monotonic() - start < READY_TIMEOUT:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith("Window ready"):
            return time.monotonic() - start
    proc.poll()
    err = log.read_text(errors="replace")
    pytest.fail(
        f"no 'Window ready' within {READY_TIMEOUT:g} s (exit {proc.returncode}); "
        f"stdout: {''.join(seen)[-2000:]!r}; stderr: {err[-4000:]}"
    )


@needs_display
@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
def test_window_opens_and_renders(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path, lang: str
) -> None:
    env = app_env(xvfb, openai_server, lang)
    shot = tmp_path / f"window-{lang[:2]}.png"
    log = tmp_path / "stderr.log"
    with running([], env, log) as (proc, lines):
        seconds = wait_ready(proc, lines, log)
        print(f"window ready in {seconds:.1f} s ({lang})")
        deadline = time.monotonic() + 10
        stats = grab_screen(xvfb, shot)
        while not rendered(stats) and time.monotonic() < deadline:
            time.sleep(0.5)  # ready, but the compositor may be a frame behind
            stats = grab_screen(xvfb, shot)
        assert proc.poll() is None, "the app quit after reporting ready"
    keep = os.environ.get("WINDOW_TEST_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    assert stats["width"] == 1280 and stats["height"] == 800
    assert rendered(stats), f"the screen looks blank: {stats} ({shot})"


@needs_display
def test_selftest_exits_once_ready(xvfb: str, openai_server: OpenAICompatServer) -> None:
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    out = subprocess.run(
        [*DL_APP, "window", "--selftest", "--timeout", "60"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "Window ready in" in out.stdout


def test_no_display_says_what_to_use_instead() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    if not sys.platform.startswith("linux"):
        pytest.skip("a missing display is a Linux condition")
    out = subprocess.run(DL_APP, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "dl-app chat" in out.stderr and "dl-app serve" in out.stderr
    assert out.stdout == ""
