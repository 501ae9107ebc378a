"""The desktop window: pywebview over ``frontend/`` with the bridge ``Api`` as ``js_api``.

    run()                 open the window; returns the exit code when it closes
    run(selftest=True)    open it, wait for the page's ``page_ready`` call, close it
    run(pet=True)         open the desktop pet instead (``pet.py``; also when ``app.pet``
                          was left on)

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
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..closing import close_quietly
from ..core.errors import msg
from ..paths import data_dir, frontend_dir, icons_dir
from .environment import ShellUnavailable, preflight, prepare_env

if TYPE_CHECKING:
    from ..memory import Memory
    from .instance import Handler

TITLE = "数字生命 Digital Life"
READY_LINE = "Window ready"
SIZE = (1100, 720)
MIN_SIZE = (800, 600)
FRAME = (16, 48)  # room left on the work area for the window manager's frame and title

log = logging.getLogger(__name__)


# -- Python -> JS events -----------------------------------------------------


class Emitter:
    """``emit(name, payload)`` → ``window.__dlEmit(name, payload)`` in every page.

    Thread-safe (one script at a time); a window gets events once its page has loaded
    and until it closes (the main window and the quick-chat window both listen).
    Call it from worker threads (bridge calls run on their own threads), never from
    the GUI thread: ``evaluate_js`` waits for the GUI thread. ``observer(name, payload)``
    sees every event (the desktop uses it to notice replies and check-ins while hidden)."""

    def __init__(self) -> None:
        self._windows: list[tuple[Any, threading.Event]] = []
        self._lock = threading.Lock()
        self.observer: Callable[[str, Any], None] | None = None

    def attach(self, window: Any) -> None:
        live = threading.Event()
        window.events.loaded += live.set
        window.events.closing += live.clear
        window.events.closed += live.clear
        with self._lock:
            self._windows.append((window, live))

    def revive(self, window: Any) -> None:
        """The close of ``window`` was cancelled (hidden to the tray): its page lives."""
        for w, live in self._windows:
            if w is window:
                live.set()

    def __call__(self, name: str, payload: Any = None) -> None:
        if self.observer is not None:
            with contextlib.suppress(Exception):
                self.observer(name, payload)
        script = f"window.__dlEmit && window.__dlEmit({json.dumps(name)}, {json.dumps(payload)})"
        with self._lock:
            for window, live in list(self._windows):
                if not live.is_set():
                    continue
                try:
                    window.evaluate_js(script)
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


def _qt_app() -> Any:
    """Pywebview's Qt backend reuses an existing QApplication; making it here first
    lets the tray icon be created on this (the GUI) thread before the loop starts."""
    from qtpy.QtWidgets import QApplication

    os.environ["QT_STYLE_OVERRIDE"] = ""  # as pywebview does before it makes the app
    app: Any = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DigitalLife")
    # No application display name: Qt would add " — <it>" to every window title that
    # does not end with it ("快速聊天 · 数字生命 — 数字生命 Digital Life").
    with contextlib.suppress(Exception):
        from qtpy.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icons_dir() / "icon.png")))
    return app


def first_size(
    size: tuple[int, int], min_size: tuple[int, int], work_area: tuple[int, int] | None
) -> tuple[int, int]:
    """The main window's size when it opens: ``size``, smaller where the screen's work
    area (``(width, height)`` without the panels) less ``FRAME`` is smaller, never below
    ``min_size`` (on a 1366x768 laptop, 720 px and a title bar went under the panel)."""
    if work_area is None:
        return size
    return (max(min_size[0], min(size[0], work_area[0] - FRAME[0])),
            max(min_size[1], min(size[1], work_area[1] - FRAME[1])))


def _work_area(app: Any) -> tuple[int, int] | None:
    """The primary screen's work area from Qt (``availableGeometry``); None without."""
    try:
        rect = app.primaryScreen().availableGeometry()
        return int(rect.width()), int(rect.height())
    except Exception:
        return None


def app_handlers(
    cli: Callable[[Sequence[str]], int], api_of: Callable[[], Any]
) -> dict[str, Handler]:
    """The requests the running app answers over the single-instance channel: ``cli``,
    read-only ``dl-app memory`` commands run by ``cli`` (the command line's ``main``)
    with the memory of ``api_of()`` (the bridge ``Api``; None while it is made)."""
    from ..cli import remote

    @contextmanager
    def borrow(timeout: float) -> Iterator[Memory]:
        lend = getattr(api_of(), "borrow_memory", None)
        if lend is None:
            raise TimeoutError("the app is still starting")
        with lend(timeout) as mem:
            yield mem

    return {"cli": remote.handler(cli, borrow)}


def run(
    *,
    selftest: bool = False,
    timeout: float = 60.0,
    hold: float = 0.0,
    api_factory: Callable[[Callable[[str, Any], None]], Any] | None = None,
    single_instance: bool = False,
    in_tray: bool = False,
    cli: Callable[[Sequence[str]], int] | None = None,
    pet: bool = False,
) -> int:
    """Open the window and run the GUI loop on this (main) thread.

    ``selftest``: close the window once the page has called ``page_ready`` (after
    ``hold`` seconds), then check the engine and the data dir (``selfcheck``); return
    0, or 1 if the page did not report ready within ``timeout`` seconds or a check
    failed. ``api_factory(emit)`` builds the ``js_api`` object (default: the bridge
    ``Api``). ``single_instance``: if the app already runs on this data dir, ask it to
    come to the front and return 0; ``cli`` (the command line's ``main``): the running
    app answers read-only ``dl-app memory`` commands with it (``app_handlers``).
    ``in_tray``: start hidden in the tray (login). ``pet``: the desktop pet instead of
    the main window (when the app already runs, it switches to the pet); also when the
    ``app.pet`` setting says the pet was out when the app last ran.
    Raises :class:`ShellUnavailable` when the window cannot open here."""
    started = time.monotonic()
    gui = prepare_env()
    root = data_dir()
    app_settings, language, theme = _read_settings(root)
    if gui == "qt" and (pet or app_settings.pet) and not selftest:
        from .pet import prefer_x11

        prefer_x11(os.environ)  # Wayland: on top and in place only through XWayland
    preflight()
    try:
        frontend = frontend_dir()
    except FileNotFoundError as e:
        raise ShellUnavailable(msg("shell.no_frontend")) from e

    from ..messages import resolve_lang
    from . import instance as single
    from .late_api import LateApi, build_in_background
    from .window import Desktop

    desktop_ref: list[Desktop] = []
    api_ref: list[Any] = []
    claimed = None
    # A second start in this one's first moments (``dl-app --pet`` while it starts): its
    # command is done once the main window exists (it was dropped before).
    commands = single.HeldCommands()

    if single_instance:
        handlers = app_handlers(cli, lambda: api_ref[0] if api_ref else None) if cli else None
        claimed = single.claim(root, commands, handlers)
        if claimed is None:
            if single.notify(root, "pet" if pet else "focus"):
                from ..cli.progress import say

                _say("dl-app: " + say("shell.already_pet" if pet else "shell.already_front"))
                return 0
            raise ShellUnavailable(msg("shell.not_answering", root=str(root)))

    import webview

    size = SIZE
    if gui == "qt":
        size = first_size(SIZE, MIN_SIZE, _work_area(_qt_app()))
    emit = Emitter()
    ready = threading.Event()
    outcome = {"code": 0}

    def on_ready() -> None:
        if not ready.is_set():
            ready.set()
            _say(f"{READY_LINE} in {time.monotonic() - started:.1f} s")

    # The window shows before the bridge (the engine and its adapters) is imported: the
    # page gets ``late`` as its API, which waits for the real one (``late_api.py``).
    late = LateApi()
    desktop_made = threading.Event()

    def make_api() -> Any:
        if api_factory is None:
            from ..bridge.api import Api

            api = Api(emit=emit)
        else:
            api = api_factory(emit)
        watch_ready(api, on_ready)
        desktop_made.wait()
        attach = getattr(api, "attach_shell", None)
        if callable(attach):
            attach(desktop_ref[0])  # the pet's menu: window_show, pet_set, app_quit
        desktop_ref[0].watch_settings(api)
        api_ref.append(api)
        return api

    def prewarm(api: Any) -> None:
        warm = getattr(api, "app_info", None)
        if callable(warm):  # open the engine while the page loads, not after it asks
            warm()

    def bridge_failed(error: BaseException) -> None:
        outcome["code"] = 1
        from ..cli.progress import say

        _say("dl-app: " + say("shell.bridge_failed", error=str(error)), sys.stderr)
        desktop_made.wait()
        desktop_ref[0].quit()

    build_in_background(late, make_api, then=prewarm, on_error=bridge_failed)
    from ..settings_io import apply_patch
    from . import autostart, tray

    desktop = Desktop(
        webview, late, emit, frontend, app_settings=app_settings,
        lang=resolve_lang(language), theme=theme,
        autostart=autostart.Autostart(),
        save_app=lambda patch: apply_patch(root, {"app": patch}),
    )
    pet = (pet or app_settings.pet) and not selftest
    desktop_ref.append(desktop)
    desktop_made.set()
    emit.observer = desktop.note_event
    has_tray = desktop.start_tray(tray.create_tray)
    window = desktop.create_main(TITLE, size, MIN_SIZE, hidden=(in_tray and has_tray) or pet)
    if window is None:  # only when pywebview's GUI loop already runs elsewhere
        raise ShellUnavailable(msg("shell.no_window"))
    if pet:
        desktop.set_pet(True)
    commands.open(desktop.on_command)
    if app_settings.start_on_login and not selftest:
        with contextlib.suppress(OSError):
            desktop.autostart.enable()  # refresh the entry (the app may have moved)

    def selftest_driver() -> None:
        if ready.wait(timeout):
            time.sleep(hold)
        elif outcome["code"] == 0:
            outcome["code"] = 1
            _say(f"dl-app: the page did not report ready within {timeout:g} s", sys.stderr)
        guard = threading.Timer(15.0, os._exit, args=(2,))  # destroy() must not hang CI
        guard.daemon = True
        guard.start()
        desktop.quit()

    if selftest:
        threading.Thread(target=selftest_driver, name="dl-selftest", daemon=True).start()
    try:
        webview.start(gui=gui, http_server=True)  # type: ignore[arg-type]
    except webview.WebViewException as e:
        raise ShellUnavailable(str(e)) from e
    finally:
        _close_bridge(late)
        if claimed is not None:
            claimed.close()
    if selftest:
        from .selfcheck import run_checks

        tray_note = "shown" if has_tray else "none (this desktop has no system tray)"
        if outcome["code"] == 0 and not run_checks(root, _say, tray=tray_note):
            outcome["code"] = 1
    _exit_watchdog(outcome["code"])
    return outcome["code"]


def _read_settings(root: Path) -> tuple[Any, str, str]:
    """The ``app`` group, language and theme; the defaults when the settings cannot be
    read (the page shows the settings error; the window still opens)."""
    from ..settings import AppSettings, SettingsError, load_settings

    try:
        settings = load_settings(root)
        return settings.app, settings.language, settings.theme
    except SettingsError:
        return AppSettings(), "auto", "system"


def _close_bridge(late: Any) -> None:
    """Close the memory when the window has closed (waits for a bridge still loading)."""
    try:
        api = late.real(timeout=30.0)
    except Exception:  # never built, or still loading after 30 s
        return
    close_quietly(api, what="the bridge")
