"""The desktop window: pywebview over ``frontend/`` with the bridge ``Api`` as ``js_api``.

    run()                 open the window; returns the exit code when it closes
    run(selftest=True)    open it, wait for the page's ``page_ready`` call, close it

Backends: the native ones on Windows and macOS; on Linux Qt through PySide6 and
PySide6-WebEngine (LGPL; PyQt is kept out by ``QT_API=pyside6``, since qtpy would pick
PyQt6 when both are installed). ``frontend/`` is served by pywebview's local HTTP server
(Live2D files do not load from ``file://``).

When the page calls ``page_ready`` the app prints ``Window ready in N.N s`` on stdout;
tests and the packaged-app smoke check wait for that line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

TITLE = "数字生命 Digital Life"
READY_LINE = "Window ready"
SIZE = (1100, 720)
MIN_SIZE = (800, 600)

log = logging.getLogger(__name__)


class ShellUnavailable(Exception):
    """The window cannot open here (no display, missing Qt/WebEngine libraries, no frontend)."""


# -- where things are --------------------------------------------------------


def frontend_dir() -> Path:
    """``frontend/`` of a dev checkout (``<repo>/frontend``, as ``dl-app serve`` uses),
    else one shipped inside the package (``dl_app/frontend``)."""
    import dl_app

    pkg = Path(dl_app.__file__).resolve().parent
    for candidate in (pkg.parents[1] / "frontend", pkg / "frontend"):
        if (candidate / "index.html").is_file():
            return candidate
    raise ShellUnavailable(f"the frontend is missing (looked for {pkg.parents[1] / 'frontend'})")


# -- environment -------------------------------------------------------------


def prepare_env(
    environ: MutableMapping[str, str] | None = None,
    *,
    platform: str | None = None,
    euid: int | None = None,
) -> str | None:
    """Set the variables the GUI backend reads at import time; return the ``gui`` to
    pass to ``webview.start`` (``"qt"`` on Linux, None = the platform's native one)."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    env["QT_API"] = "pyside6"
    if not platform.startswith("linux"):
        return None
    if euid is None:
        euid = os.geteuid()
    if euid == 0:
        # Chromium refuses to run its sandbox as root.
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    return "qt"


def _x_display_reachable(display: str) -> bool:
    """Whether an X server answers at ``display`` (``:N``, ``:N.S`` or ``host:N``)."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    try:
        if host in ("", "unix"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(f"/tmp/.X11-unix/X{number}")
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=2).close()
    except OSError:
        # Abstract-namespace sockets (some Xorg/XWayland setups) have no file.
        if host in ("", "unix") and sys.platform.startswith("linux"):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(2)
                    s.connect(f"\0/tmp/.X11-unix/X{number}")
                return True
            except OSError:
                return False
        return False
    return True


def preflight(environ: MutableMapping[str, str] | None = None) -> None:
    """Raise :class:`ShellUnavailable` with the reason when the window cannot open.

    Qt aborts the process (no exception) when it has no display or its platform plugin
    cannot load, so those cases are checked here first."""
    env = os.environ if environ is None else environ
    try:
        import webview  # noqa: F401
    except ImportError as e:
        raise ShellUnavailable(f"pywebview is not installed ({e})") from e
    if not sys.platform.startswith("linux"):
        return
    try:
        import qtpy  # noqa: F401
        from qtpy import QtWebEngineWidgets  # noqa: F401
    except Exception as e:  # ImportError, or qtpy's PythonQtError
        raise ShellUnavailable(
            f"Qt WebEngine cannot be loaded ({e}); install PySide6 and PySide6-WebEngine"
        ) from e
    wayland = env.get("WAYLAND_DISPLAY", "")
    display = env.get("DISPLAY", "")
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if not platform:
        if wayland:
            return
        platform = "xcb"
    if platform == "wayland":
        if not wayland:
            raise ShellUnavailable("QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is not set")
        return
    if platform != "xcb":
        return  # offscreen, vnc, eglfs...: Qt needs no display server
    if not display:
        raise ShellUnavailable("no display (DISPLAY is not set)")
    if not _x_display_reachable(display):
        raise ShellUnavailable(f"cannot connect to the X display {display!r}")
    _check_xcb_plugin()


def _check_xcb_plugin() -> None:
    """Load Qt's xcb platform plugin the way Qt will, to name a missing system library
    (e.g. ``libxcb-icccm.so.4``) instead of letting Qt abort."""
    import ctypes

    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return
    try:
        ctypes.CDLL(str(plugin))
    except OSError as e:
        raise ShellUnavailable(f"Qt's X11 plugin cannot load: {e}") from e


# -- Python -> JS events -----------------------------------------------------


class Emitter:
    """``emit(name, payload)`` → ``window.__dlEmit(name, payload)`` in the page.

    Thread-safe (one script at a time); a no-op until the page has loaded and after the
    window closes. Call it from worker threads (bridge calls run on their own threads),
    never from the GUI thread: ``evaluate_js`` waits for the GUI thread."""

    def __init__(self) -> None:
        self._window: Any = None
        self._live = threading.Event()
        self._lock = threading.Lock()

    def attach(self, window: Any) -> None:
        self._window = window
        window.events.loaded += self._on_loaded
        window.events.closing += self._on_closed
        window.events.closed += self._on_closed

    def _on_loaded(self) -> None:
        self._live.set()

    def _on_closed(self) -> None:
        self._live.clear()

    def __call__(self, name: str, payload: Any = None) -> None:
        if not self._live.is_set():
            return
        script = f"window.__dlEmit && window.__dlEmit({json.dumps(name)}, {json.dumps(payload)})"
        with self._lock:
            if not self._live.is_set():
                return
            try:
                self._window.evaluate_js(script)
            except Exception as e:  # a page mid-reload or a closing window
                log.debug("emit %s dropped: %s", name, e)


def watch_ready(api: Any, on_ready: Callable[[], None]) -> None:
    """Call ``on_ready`` each time the page calls ``api.page_ready`` (after the original)."""
    original = getattr(api, "page_ready", None)

    def page_ready(_self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs) if callable(original) else {"ok": True}
        on_ready()
        return result

    api.page_ready = types.MethodType(page_ready, api)


# -- the window --------------------------------------------------------------


def _say(line: str, stream: Any = None) -> None:
    stream = stream or sys.stdout
    if stream is None:  # a windowed (no console) build on Windows
        return
    with contextlib.suppress(OSError, ValueError):
        print(line, file=stream, flush=True)


def _exit_watchdog(code: int, grace: float = 5.0) -> None:
    """Leave with ``code`` if a stuck worker thread (e.g. a bridge call waiting on the
    closed page) keeps the interpreter alive ``grace`` seconds after the window closed."""

    def watch() -> None:
        time.sleep(grace)
        os._exit(code)

    threading.Thread(target=watch, name="dl-exit-watchdog", daemon=True).start()


def run(
    *,
    selftest: bool = False,
    timeout: float = 60.0,
    hold: float = 0.0,
    api_factory: Callable[[Callable[[str, Any], None]], Any] | None = None,
) -> int:
    """Open the window and run the GUI loop on this (main) thread.

    ``selftest``: close the window once the page has called ``page_ready`` (after
    ``hold`` seconds) and return 0, or 1 if it did not within ``timeout`` seconds.
    ``api_factory(emit)`` builds the ``js_api`` object (default: the bridge ``Api``).
    Raises :class:`ShellUnavailable` when the window cannot open here."""
    started = time.monotonic()
    gui = prepare_env()
    preflight()
    index = frontend_dir() / "index.html"

    import webview

    emit = Emitter()
    if api_factory is None:
        from .bridge.api import Api

        def api_factory(emit_fn: Callable[[str, Any], None]) -> Any:
            return Api(emit=emit_fn)

    api = api_factory(emit)
    ready = threading.Event()

    def on_ready() -> None:
        if not ready.is_set():
            ready.set()
            _say(f"{READY_LINE} in {time.monotonic() - started:.1f} s")

    watch_ready(api, on_ready)
    window = webview.create_window(
        TITLE,
        url=str(index),
        js_api=api,
        width=SIZE[0],
        height=SIZE[1],
        min_size=MIN_SIZE,
    )
    if window is None:  # only when pywebview's GUI loop already runs elsewhere
        raise ShellUnavailable("pywebview did not create the window")
    emit.attach(window)
    outcome = {"code": 0}

    def selftest_driver() -> None:
        if ready.wait(timeout):
            time.sleep(hold)
        else:
            outcome["code"] = 1
            _say(f"dl-app: the page did not report ready within {timeout:g} s", sys.stderr)
        guard = threading.Timer(15.0, os._exit, args=(2,))  # destroy() must not hang CI
        guard.daemon = True
        guard.start()
        window.destroy()

    if selftest:
        threading.Thread(target=selftest_driver, name="dl-selftest", daemon=True).start()
    try:
        webview.start(gui=gui, http_server=True)  # type: ignore[arg-type]
    except webview.WebViewException as e:
        raise ShellUnavailable(str(e)) from e
    finally:
        close = getattr(api, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing the bridge failed")
    _exit_watchdog(outcome["code"])
    return outcome["code"]
