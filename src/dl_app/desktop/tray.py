"""The tray icon: open Digital Life, quick chat, pet mode, mute voice, quit.

The actions are plain functions over a :class:`TrayHost` (the desktop shell; tests pass
a fake one), so they run the same whatever draws the icon:

    open_main(host)  quick_chat(host)  toggle_pet(host)  toggle_mute(host)  quit_app(host)

Backends behind one small interface (``Tray.start()``, ``Tray.stop()``,
``Tray.refresh()``, ``Tray.notify(text)``: a desktop notification, e.g. a check-in
while the window is hidden; ``Tray.set_lang(lang)``: the app's language changed):

- Linux: Qt's ``QSystemTrayIcon`` -- the window already runs Qt's event loop. Needs a
  tray host on the desktop (StatusNotifier/XEmbed); ``create_tray`` returns None
  without one (e.g. a bare X server), and the app then quits when its window closes.
- Windows/macOS: ``pystray`` beside pywebview's native loop (its own thread on
  Windows; ``run_detached`` on the main thread on macOS, sharing NSApplication).

Menu callbacks come from the GUI thread; each action runs on a short worker thread,
since pywebview's window calls wait for the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..paths import icons_dir

log = logging.getLogger(__name__)

MUTE_PATH = "voice.tts_enabled"
MENU = ("open", "quick", "pet", "mute", "quit")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "open": "打开数字生命",
        "quick": "快速聊天",
        "pet": "桌宠模式",
        "mute": "静音",
        "quit": "退出",
        "tooltip": "数字生命",
    },
    "en": {
        "open": "Open Digital Life",
        "quick": "Quick chat",
        "pet": "Pet mode",
        "mute": "Mute voice",
        "quit": "Quit",
        "tooltip": "Digital Life",
    },
}


class TrayHost(Protocol):
    """What the tray acts on (the desktop shell)."""

    api: Any  # the bridge Api: settings_get / settings_set

    def show_main(self) -> None: ...
    def show_quick(self) -> None: ...
    def pet_on(self) -> bool: ...
    def set_pet(self, on: bool) -> None: ...
    def quit(self) -> None: ...


def icon_path() -> Path:
    return icons_dir() / "tray.png"


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


# -- the actions ----------------------------------------------------------------


def open_main(host: TrayHost) -> None:
    host.show_main()


def quick_chat(host: TrayHost) -> None:
    host.show_quick()


def quit_app(host: TrayHost) -> None:
    host.quit()


def toggle_pet(host: TrayHost) -> bool:
    """Desktop pet on or off; returns whether it is on now."""
    on = not host.pet_on()
    host.set_pet(on)
    return on


def _get_path(settings: dict[str, Any], path: str) -> Any:
    node: Any = settings
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _patch(path: str, value: Any) -> dict[str, Any]:
    keys = path.split(".")
    patch: dict[str, Any] = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        patch = {key: patch}
    return patch


def muted(host: TrayHost) -> bool | None:
    """True/False when voice output is off/on; None when there is no voice setting
    (the voice feature is not installed), and the menu leaves the item out."""
    res = host.api.settings_get()
    if not res.get("ok"):
        return None
    value = _get_path(res.get("settings", {}), MUTE_PATH)
    return None if not isinstance(value, bool) else not value


def toggle_mute(host: TrayHost) -> bool | None:
    """Flip ``voice.tts_enabled`` through the bridge (saved to settings.json, engine
    rebuilt); returns the new muted state, or None when there is no such setting."""
    now = muted(host)
    if now is None:
        return None
    res = host.api.settings_set({"patch": _patch(MUTE_PATH, now)})  # muted -> enabled
    if not res.get("ok"):
        log.warning("mute voice failed: %s", res.get("error"))
        return now
    return not now


ACTIONS: dict[str, Callable[[TrayHost], Any]] = {
    "open": open_main,
    "quick": quick_chat,
    "pet": toggle_pet,
    "mute": toggle_mute,
    "quit": quit_app,
}


def run_action(host: TrayHost, name: str, after: Callable[[], None] | None = None) -> None:
    """Run an action off the GUI thread (then ``after``, e.g. a menu refresh)."""

    def work() -> None:
        try:
            ACTIONS[name](host)
        except Exception:
            log.exception("tray action %s failed", name)
        if after is not None:
            after()

    threading.Thread(target=work, name=f"dl-tray-{name}", daemon=True).start()


# -- backends -------------------------------------------------------------------


class Tray(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def refresh(self) -> None: ...
    def notify(self, text: str) -> None: ...
    def set_lang(self, lang: str) -> None: ...


class QtTray:
    """``QSystemTrayIcon`` with a ``QMenu``; create it on the Qt GUI thread."""

    def __init__(self, host: TrayHost, lang: str) -> None:
        from qtpy.QtCore import QObject, Signal
        from qtpy.QtGui import QAction, QIcon
        from qtpy.QtWidgets import QMenu, QSystemTrayIcon

        class _Relay(QObject):  # carries refresh requests from worker threads
            poke = Signal()
            message = Signal(str)
            relabel = Signal(str)

        self.host = host
        self.text = labels(lang)
        self.icon = QSystemTrayIcon(QIcon(str(icon_path())))
        self.icon.setToolTip(self.text["tooltip"])
        self.menu = QMenu()
        self.actions: dict[str, Any] = {}
        for name in MENU:
            if name == "quit":
                self.menu.addSeparator()
            action = QAction(self.text[name], self.menu)
            if name in ("pet", "mute"):
                action.setCheckable(True)
            action.triggered.connect(lambda _c=False, n=name: self.trigger(n))
            self.menu.addAction(action)
            self.actions[name] = action
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._relay = _Relay()
        self._relay.poke.connect(self._refresh_now)
        self._relay.message.connect(lambda text: self.icon.showMessage(self.text["tooltip"], text))
        self._relay.relabel.connect(self._relabel_now)
        self._reason_click = QSystemTrayIcon.ActivationReason.Trigger

    def trigger(self, name: str) -> None:
        run_action(self.host, name, after=self.refresh if name in ("pet", "mute") else None)

    def _activated(self, reason: Any) -> None:
        if reason == self._reason_click:  # a left click opens the window
            self.trigger("open")

    def set_lang(self, lang: str) -> None:
        """The app's language changed: the items and the tooltip in it (any thread)."""
        self._relay.relabel.emit(lang)

    def _relabel_now(self, lang: str) -> None:
        self.text = labels(lang)
        self.icon.setToolTip(self.text["tooltip"])
        for name, action in self.actions.items():
            action.setText(self.text[name])

    def _refresh_now(self) -> None:
        state = self._mute_state
        self.actions["mute"].setVisible(state is not None)
        self.actions["mute"].setChecked(bool(state))
        self.actions["pet"].setChecked(self._pet_state)

    def refresh(self) -> None:
        """Re-read the mute and pet states (any thread; from the GUI thread, e.g. the pet
        turned on at start, on a worker thread: the bridge may still be loading)."""
        if threading.current_thread() is threading.main_thread():
            threading.Thread(target=self.refresh, name="dl-tray-refresh", daemon=True).start()
            return
        self._mute_state = muted(self.host)
        self._pet_state = bool(self.host.pet_on())
        self._relay.poke.emit()

    _mute_state: bool | None = None
    _pet_state = False

    def start(self) -> None:
        """Show the icon now; the mute item appears once the bridge answers (read on a
        worker thread: the GUI thread never waits for the bridge, which may be loading)."""
        self._pet_state = bool(self.host.pet_on())
        self._refresh_now()
        self.icon.show()
        self.refresh()  # on a worker thread (this is the GUI thread)

    def stop(self) -> None:
        self.icon.hide()

    def notify(self, text: str) -> None:
        """A notification balloon from the tray icon (any thread)."""
        self._relay.message.emit(text)


class PystrayTray:
    """``pystray`` for Windows and macOS (not exercised on the Linux CI)."""

    def __init__(self, host: TrayHost, lang: str) -> None:
        import pystray  # type: ignore[import-not-found,unused-ignore]
        from PIL import Image

        self.host = host
        self.text = labels(lang)
        self._muted: bool | None = None
        item = pystray.MenuItem
        self.icon = pystray.Icon(
            "DigitalLife",
            Image.open(icon_path()),
            self.text["tooltip"],
            menu=pystray.Menu(
                item(lambda _i: self.text["open"], lambda: self.trigger("open"), default=True),
                item(lambda _i: self.text["quick"], lambda: self.trigger("quick")),
                item(
                    lambda _i: self.text["pet"],
                    lambda: self.trigger("pet"),
                    checked=lambda _i: bool(self.host.pet_on()),
                ),
                item(
                    lambda _i: self.text["mute"],
                    lambda: self.trigger("mute"),
                    checked=lambda _i: bool(self._muted),
                    visible=lambda _i: self._muted is not None,
                ),
                pystray.Menu.SEPARATOR,
                item(lambda _i: self.text["quit"], lambda: self.trigger("quit")),
            ),
        )

    def trigger(self, name: str) -> None:
        run_action(self.host, name, after=self.refresh if name in ("pet", "mute") else None)

    def refresh(self) -> None:
        if threading.current_thread() is threading.main_thread():  # the bridge may load
            threading.Thread(target=self.refresh, name="dl-tray-refresh", daemon=True).start()
            return
        self._muted = muted(self.host)
        self.icon.update_menu()

    def _first_refresh(self) -> None:
        self._muted = muted(self.host)
        with contextlib.suppress(Exception):  # a backend not running yet reads it later
            self.icon.update_menu()

    def start(self) -> None:
        # The mute state on a worker thread: the bridge may still be loading.
        threading.Thread(target=self._first_refresh, name="dl-tray-refresh", daemon=True).start()
        if sys.platform == "darwin":
            self.icon.run_detached()  # pywebview's Cocoa loop drives it
        else:
            threading.Thread(target=self.icon.run, name="dl-tray", daemon=True).start()

    def stop(self) -> None:
        self.icon.stop()

    def notify(self, text: str) -> None:
        self.icon.notify(text, self.text["tooltip"])  # where the backend can

    def set_lang(self, lang: str) -> None:
        """The app's language changed: the items (texts read when the menu is drawn)."""
        self.text = labels(lang)
        self.icon.title = self.text["tooltip"]
        with contextlib.suppress(Exception):
            self.icon.update_menu()


def tray_available(platform: str | None = None) -> bool:
    """Whether this desktop shows tray icons (Linux: asks Qt; needs a QApplication)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        from qtpy.QtWidgets import QSystemTrayIcon

        return bool(QSystemTrayIcon.isSystemTrayAvailable())
    try:
        import pystray  # noqa: F401
    except ImportError:
        return False
    return True


def create_tray(host: TrayHost, lang: str, platform: str | None = None) -> Tray | None:
    """The tray for this platform, not yet shown; None when there is no tray here."""
    platform = platform or sys.platform
    try:
        if not tray_available(platform):
            return None
        if platform.startswith("linux"):
            return QtTray(host, lang)
        return PystrayTray(host, lang)
    except Exception as e:  # a broken tray must not stop the window
        log.warning("no tray icon: %s", e)
        return None
