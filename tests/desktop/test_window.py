"""The real desktop window under Xvfb: ``dl-app`` opens, the page reports ready through
the bridge, and a screenshot of the X display shows a rendered page.

Needs Xvfb and PySide6 with QtWebEngine (skipped without them; CI installs both).
Set ``WINDOW_TEST_SHOTS=<dir>`` to keep the screenshots as ``window-<lang>.png``.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lang_check import cjk_chars, latin_words
from servers.openai_compat import ChatReply, OpenAICompatServer

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


if _missing() is not None and os.environ.get("CI"):  # CI installs both: missing is a failure
    raise RuntimeError(f"window tests cannot run on CI: {_missing()}")
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


@contextlib.contextmanager
def xvfb_screen(screen: str = "1280x800x24") -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (``-displayfd``)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
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


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    with xvfb_screen() as display:
        yield display


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


# The bridge (engine, adapters) is built on a thread while the window opens: this
# factory waits until the window is on screen; a start that built the bridge first
# would never show it (issue 17: a frame within 1 s).
_SHOWN_FIRST = r"""
import sys, time
import webview
from dl_app.bridge.api import Api
from dl_app.desktop import shell

def factory(emit):
    deadline = time.monotonic() + 30
    while not webview.windows and time.monotonic() < deadline:
        time.sleep(0.01)
    shown = bool(webview.windows) and webview.windows[0].events.shown.wait(30)
    print("shown before the bridge" if shown else "no window without the bridge", flush=True)
    return Api(emit=emit)

sys.exit(shell.run(selftest=True, timeout=60, api_factory=factory))
"""


@needs_display
def test_the_window_shows_before_the_bridge_exists(
    xvfb: str, openai_server: OpenAICompatServer
) -> None:
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    out = subprocess.run([sys.executable, "-c", _SHOWN_FIRST], env=env,
                         capture_output=True, text=True, timeout=180)
    assert "shown before the bridge" in out.stdout, out.stdout + out.stderr[-3000:]
    assert out.returncode == 0 and "Window ready in" in out.stdout, out.stderr[-3000:]


def test_no_display_says_what_to_use_instead() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    if not sys.platform.startswith("linux"):
        pytest.skip("a missing display is a Linux condition")
    out = subprocess.run(DL_APP, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "dl-app chat" in out.stderr and "dl-app serve" in out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
@pytest.mark.parametrize("why", ["no display", "wayland without its display"])
def test_why_the_window_cannot_open_is_said_in_the_terminals_language(
    lang: str, why: str
) -> None:
    """Every reason, not only a missing DISPLAY: ``QT_QPA_PLATFORM=wayland`` without
    ``WAYLAND_DISPLAY`` was said in English in a Chinese terminal."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux conditions")
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "LC_ALL", "LC_MESSAGES", "LANGUAGE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["LANG"] = lang
    if why != "no display":
        env["QT_QPA_PLATFORM"] = "wayland"
    out = subprocess.run(DL_APP, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("dl-app: ") for line in lines), out.stderr
    if lang.startswith("zh"):
        assert latin_words(out.stderr) == [], out.stderr
        assert "窗口在这里打不开" in out.stderr
    else:
        assert cjk_chars(out.stderr) == [], out.stderr
        assert "the window cannot open here" in out.stderr


# -- driving the page over QtWebEngine's DevTools port (stdlib WebSocket client) --------


class DevTools:
    """``Runtime.evaluate`` in the window's page through ``QTWEBENGINE_REMOTE_DEBUGGING``."""

    def __init__(self, port: int) -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10) as r:
            targets = json.load(r)
        page = next(t for t in targets if t.get("type") == "page")
        path = page["webSocketDebuggerUrl"].split(str(port), 1)[1]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        self.next_id = 0

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def _recv(self) -> dict[str, Any]:
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            size = b1 & 0x7F
            if size == 126:
                size = struct.unpack(">H", self._recv_exact(2))[0]
            elif size == 127:
                size = struct.unpack(">Q", self._recv_exact(8))[0]
            message += self._recv_exact(size)
            if b0 & 0x80:  # FIN
                result: dict[str, Any] = json.loads(message)
                return result

    def evaluate(self, expression: str) -> Any:
        self.next_id += 1
        body = json.dumps(
            {
                "id": self.next_id,
                "method": "Runtime.evaluate",
                "params": {"expression": expression, "awaitPromise": True, "returnByValue": True},
            }
        ).encode()
        mask = os.urandom(4)
        size = len(body)
        header = bytes([0x81]) + (
            bytes([0x80 | size])
            if size < 126
            else bytes([0x80 | 126]) + struct.pack(">H", size)
            if size < 65536
            else bytes([0x80 | 127]) + struct.pack(">Q", size)
        )
        self.sock.sendall(header + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(body)))
        while True:
            reply = self._recv()
            if reply.get("id") == self.next_id:
                assert "exceptionDetails" not in reply["result"], reply
                return reply["result"]["result"].get("value")

    def close(self) -> None:
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@needs_display
def test_chat_streams_through_emit(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    """Type a message in the real window: the reply streams back through
    ``evaluate_js("window.__dlEmit(...)")`` and lands in the page."""
    openai_server.enqueue(ChatReply(content="Hello from the window test!"))
    port = free_port()
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    log = tmp_path / "stderr.log"
    with running([], env, log) as (proc, lines):
        wait_ready(proc, lines, log)
        tools = DevTools(port)
        try:
            tools.evaluate(
                "window.__seen = []; const orig = window.__dlEmit;"
                "window.__dlEmit = (n, p) => { window.__seen.push(n); return orig(n, p); }; 1"
            )
            tools.evaluate(
                "const box = document.querySelector('#chat-input'); box.value = 'hi there';"
                "box.dispatchEvent(new Event('input', {bubbles: true}));"
                "box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true})); 1"
            )
            deadline = time.monotonic() + 30
            text, seen = "", []
            while time.monotonic() < deadline:
                text = tools.evaluate(
                    "document.querySelector('.msg.assistant:last-of-type')?.textContent || ''"
                )
                seen = tools.evaluate("window.__seen")
                if "Hello from the window test!" in text and "chat.done" in seen:
                    break
                time.sleep(0.3)
        finally:
            tools.close()
        grab_screen(xvfb, tmp_path / "window-chat.png")
    keep = os.environ.get("WINDOW_TEST_SHOTS")
    if keep:
        shutil.copy(tmp_path / "window-chat.png", Path(keep) / "window-chat.png")
    assert "Hello from the window test!" in text, (text, seen)
    assert "chat.delta" in seen and "chat.done" in seen, seen
    assert openai_server.chat_requests[-1].body["messages"][-1]["content"] == "hi there"


@pytest.mark.parametrize(
    ("work_area", "size"),
    [((1280, 776), (1100, 720)),  # room enough: as designed
     ((1366, 744), (1100, 696)),  # a 1366x768 laptop with a 24-px panel
     ((1024, 600), (1008, 600)),  # smaller than the minimum: the minimum
     (None, (1100, 720))],
)
def test_the_first_size_fits_the_work_area(
    work_area: tuple[int, int] | None, size: tuple[int, int]
) -> None:
    from dl_app.desktop.shell import MIN_SIZE, SIZE, first_size

    assert first_size(SIZE, MIN_SIZE, work_area) == size


@needs_display
def test_the_window_fits_a_short_screen(openai_server: OpenAICompatServer, tmp_path: Path) -> None:
    """On a 1366x768 laptop the 720-px window with its title bar went under the panel:
    the footer (About, the status) could not be seen. Here the screen is 700 px high."""
    port = free_port()
    log = tmp_path / "stderr.log"
    with xvfb_screen("1280x700x24") as display:
        env = app_env(display, openai_server, "en_US.UTF-8")
        env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
        with running([], env, log) as (proc, lines):
            wait_ready(proc, lines, log)
            tools = DevTools(port)
            try:
                inner = tools.evaluate("[window.innerWidth, window.innerHeight]")
            finally:
                tools.close()
    assert inner[0] == 1100 and 600 <= inner[1] <= 700 - 48, inner
