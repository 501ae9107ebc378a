"""The running desktop app: the main window, the quick-chat window, the desktop pet,
the tray icon, and what the ``app`` settings ask for (close to tray, start on login,
the pet and where it was left).

``shell.run`` builds one :class:`Desktop` and runs pywebview's loop; the tray, the
single-instance server (``instance.py``) and the bridge (``bridge/shell_api.py``) call
:meth:`Desktop.show_main`, :meth:`Desktop.show_quick`, :meth:`Desktop.set_pet` and
:meth:`Desktop.quit` from worker threads (pywebview's window calls wait for the GUI
thread, so they must not run on it).

In pet mode the pet window (``pet.py``) is shown and the main window hidden; leaving it
brings the main window back. The mode is saved as ``app.pet``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..messages import msg as text
from ..messages import render, resolve_lang
from ..settings import AppSettings
from . import x11
from .loading import COLOURS, cover
from .pet import PET_SIZE, PET_TITLE, pet_window_args, place
from .pet_desktop import PetDesktop, detect, notes
from .pet_place import choose, remember, screens_of

log = logging.getLogger(__name__)

QUICK_TITLE = {"zh": "快速聊天 · 数字生命", "en": "Quick chat · Digital Life"}
QUICK_SIZE = (380, 300)
QUICK_MIN = (300, 220)
# The surface a window shows before its page paints: the page's own background
# (``--bg`` in frontend/css/app.css, light and dark; a test keeps them equal), so
# the first frame is not a white flash in a dark theme.
BACKGROUND = {theme: colours["bg"] for theme, colours in COLOURS.items()}
SAVE_PLACE_AFTER = 0.8  # seconds after the pet stops moving


class Desktop:
    """Windows + tray of one app run. ``webview`` is the pywebview module."""

    def __init__(
        self,
        webview: Any,
        api: Any,
        emitter: Any,
        frontend: Path,
        *,
        app_settings: AppSettings,
        lang: str,
        theme: str = "system",
        autostart: Any = None,
        save_app: Callable[[dict[str, Any]], object] | None = None,
        pet_desktop: PetDesktop | None = None,
    ) -> None:
        self.webview = webview
        self.api = api
        self.emitter = emitter
        self.frontend = frontend
        self.app_settings = app_settings
        self.lang = lang
        # "system" cannot be known before Qt runs: light, as most systems are.
        self.set_theme(theme)
        self.autostart = autostart
        self.main: Any = None
        self.quick: Any = None
        self.tray: Any = None
        self.pet: Any = None
        self.pet_shown = False
        self._pet_desktop = pet_desktop  # what the pet can do here; found out when asked
        # Saves a patch of the ``app`` group (settings.json); default: through the bridge.
        self._save_app = save_app or self._save_app_through_api
        self._place_timer: threading.Timer | None = None
        self.quitting = False
        self.main_hidden = False
        self._stale_main = False  # a reply arrived while the main window was hidden
        self._lock = threading.Lock()

    @property
    def page_query(self) -> str:
        """The page learns the chosen theme and the language from its address, so its
        loading state is drawn in them (settings come later, with the engine)."""
        return f"{self._theme_query}lang={self.lang}"

    def set_theme(self, theme: str) -> None:
        """The theme setting ("system", "light", "dark"): what windows opened from now
        on show before their page paints. "system" cannot be known before Qt runs:
        light, as most systems are."""
        self.background = BACKGROUND["dark" if theme == "dark" else "light"]
        self.theme = "dark" if theme == "dark" else "light"
        self._theme_query = f"?theme={theme}&" if theme in BACKGROUND else "?"

    def set_lang(self, lang: str) -> None:
        """The app's language changed (the settings page): the tray's items and the
        windows' titles follow (any thread but the GUI's)."""
        if lang == self.lang or lang not in ("zh", "en"):
            return
        self.lang = lang
        if self.tray is not None:
            with contextlib.suppress(Exception):
                self.tray.set_lang(lang)
        titles = ((self.quick, QUICK_TITLE), (self.pet, PET_TITLE))
        for window, title in titles:
            if window is not None:
                with contextlib.suppress(Exception):
                    window.set_title(title[lang])

    # -- windows ---------------------------------------------------------------

    def create_main(self, title: str, size: tuple[int, int], min_size: tuple[int, int],
                    *, hidden: bool = False) -> Any:
        window = self.webview.create_window(
            title,
            url=str(self.frontend / "index.html") + self.page_query,
            js_api=self.api,
            width=size[0],
            height=size[1],
            min_size=min_size,
            hidden=hidden,
            background_color=self.background,
        )
        if window is None:
            return None
        self.main = window
        self.main_hidden = hidden
        window.events.before_show += self._page_background
        self.emitter.attach(window)
        window.events.closing += self._on_main_closing
        window.events.closed += self._on_main_closed
        return window

    def _page_background(self, window: Any) -> None:
        """The main window's page background (``_web_background``) and its loading
        state, drawn natively until the page draws its own (``loading.py``)."""
        if _qt_page(window) is not None:
            self._web_background(window)
            cover(window, self.theme, render(text("shell.starting"), self.lang))

    def _web_background(self, window: Any) -> None:
        """Qt: its web view paints white until the page does, whatever the window's
        ``background_color`` (which the other platforms' web views take)."""
        page = _qt_page(window)
        if page is None:
            return
        with contextlib.suppress(Exception):  # a Qt without it keeps the white
            from qtpy.QtGui import QColor

            page().setBackgroundColor(QColor(self.background))

    def show_main(self) -> None:
        if self.main is None or self.quitting:
            return
        reload = self._stale_main
        self._stale_main = False
        self.main_hidden = False
        self.main.show()
        self.main.restore()  # un-minimize, raise, activate
        if reload:  # quick-chat turns happened meanwhile: show them in the history
            with contextlib.suppress(Exception):
                self.main.evaluate_js("location.reload()")

    def show_quick(self) -> None:
        if self.quitting:
            return
        with self._lock:
            if self.quick is None:
                self._create_quick()
                return
        self.quick.show()
        self.quick.restore()

    def _create_quick(self) -> None:
        x = y = None
        with contextlib.suppress(Exception):
            screen = self.webview.screens[0]
            x = max(0, int(screen.width) - QUICK_SIZE[0] - 24)
            y = max(0, int(screen.height) - QUICK_SIZE[1] - 64)
        window = self.webview.create_window(
            QUICK_TITLE.get(self.lang, QUICK_TITLE["en"]),
            url=str(self.frontend / "quick.html") + self.page_query,
            js_api=self.api,
            width=QUICK_SIZE[0],
            height=QUICK_SIZE[1],
            min_size=QUICK_MIN,
            x=x,
            y=y,
            on_top=True,
            background_color=self.background,
        )
        if window is None:
            return
        self.quick = window
        window.events.before_show += self._web_background
        self.emitter.attach(window)
        window.events.closing += self._on_quick_closing

    # -- the desktop pet ---------------------------------------------------------------

    def pet_on(self) -> bool:
        return self.pet_shown

    def set_pet(self, on: bool) -> None:
        """Pet mode on (the pet shows, the main window hides) or off (the other way
        round); remembered as ``app.pet``."""
        if self.quitting:
            return
        with self._lock:
            self.pet_shown = on
            created = on and self.pet is None
            if created:
                self._create_pet()
        if on:
            if not created and self.pet is not None:
                self.pet.show()
            if self.main is not None and not self.main_hidden:
                self.main_hidden = True
                self.main.hide()
        else:
            if self.pet is not None:
                self.pet.hide()
            self.show_main()
        if self.app_settings.pet != self.pet_shown:
            self._remember({"pet": self.pet_shown})
        if self.tray is not None:
            with contextlib.suppress(Exception):
                self.tray.refresh()

    def _create_pet(self) -> None:
        screens: Any = ()
        with contextlib.suppress(Exception):
            screens = self.webview.screens
        where = self._pet_place(screens)
        panel = self.pet_desktop().transparent is False  # no compositor: no see-through
        title, kwargs = pet_window_args(self.frontend, self.api, self.lang, where, panel=panel)
        window = self.webview.create_window(title, **kwargs)
        if window is None:
            self.pet_shown = False
            return
        self.pet = window
        self.emitter.attach(window)
        window.events.closing += self._on_pet_closing
        window.events.moved += self._on_pet_moved

    def pet_desktop(self) -> PetDesktop:
        """What the pet can do on this desktop (``pet_desktop.py``), found out once."""
        if self._pet_desktop is None:
            qt = _qt_platform()
            compositor = None
            if qt != "wayland" and os.environ.get("DISPLAY"):
                compositor = x11.compositor_running()
            self._pet_desktop = detect(os.environ, qt, compositor=compositor)
        return self._pet_desktop

    def pet_notes(self) -> dict[str, str]:
        """The settings page's words on what the pet can do here (``settings_get``)."""
        return notes(self.pet_desktop())

    def set_pet_shape(self, rects: list[tuple[int, int, int, int]]) -> bool:
        """Clicks on the pet's window land only inside ``rects`` (window pixels); the
        rest goes to the desktop. False where the platform does not allow it."""
        if not self.pet_desktop().click_through or self.pet is None:
            return False
        native = getattr(self.pet, "native", None)
        try:
            window_id = int(native.winId()) if native is not None else 0
        except Exception:
            return False
        # No compositor: the opaque window is cut to the same shape (not see-through).
        bounding = self.pet_desktop().transparent is False
        return x11.set_input_shape(window_id, rects, bounding=bounding)

    def _places(self) -> dict[str, list[int]]:
        return {p.screen: [p.x, p.y] for p in self.app_settings.pet_places}

    def _pet_place(self, raw_screens: Any) -> tuple[int | None, int | None]:
        """Where the pet opens: its place on the screen where it was last
        (``pet_place.choose``); settings from before places per screen: ``pet.place``."""
        app = self.app_settings
        if not app.pet_places:
            return place(app.pet_x, app.pet_y, raw_screens)
        chosen = choose(self._places(), app.pet_screen, screens_of(raw_screens), PET_SIZE)
        return chosen if chosen is not None else (None, None)

    def _save_pet_place(self, x: int, y: int) -> None:
        patch: dict[str, Any] = {"pet_x": x, "pet_y": y}
        screens: Any = ()
        with contextlib.suppress(Exception):
            screens = self.webview.screens
        places, key = remember(self._places(), x, y, screens_of(screens), PET_SIZE)
        if key is not None:
            patch["pet_screen"] = key
            patch["pet_places"] = [{"screen": k, "x": v[0], "y": v[1]} for k, v in places.items()]
        self._remember(patch)

    def _on_pet_closing(self) -> bool | None:
        if self.quitting:
            return None
        self.emitter.revive(self.pet)
        threading.Thread(target=self.set_pet, args=(False,), name="dl-pet-off",
                         daemon=True).start()
        return False  # kept, hidden, for the next time

    def _on_pet_moved(self, x: int, y: int) -> None:
        """Save where the pet was left, a moment after it stops moving."""
        if self._place_timer is not None:
            self._place_timer.cancel()
        self._place_timer = threading.Timer(
            SAVE_PLACE_AFTER, self._save_pet_place, args=(int(x), int(y))
        )
        self._place_timer.daemon = True
        self._place_timer.start()

    def _remember(self, patch: dict[str, Any]) -> None:
        self.app_settings = AppSettings.model_validate(
            {**self.app_settings.model_dump(), **patch}
        )
        try:
            self._save_app(patch)
        except Exception:
            log.exception("saving %s failed", patch)

    def _save_app_through_api(self, patch: dict[str, Any]) -> None:
        res = self.api.settings_set({"patch": {"app": patch}})
        if not res.get("ok"):
            log.warning("saving %s failed: %s", patch, res.get("error"))

    def quit(self) -> None:
        """Close every window; the GUI loop ends with the last one."""
        self.quitting = True
        if self._place_timer is not None:
            self._place_timer.cancel()
        if self.tray is not None:
            with contextlib.suppress(Exception):
                self.tray.stop()
        for window in (self.quick, self.pet, self.main):
            if window is not None:
                with contextlib.suppress(Exception):
                    window.destroy()

    def on_command(self, command: str) -> None:
        """A second start of the app asked for something (``instance.py``)."""
        log.info("another start asked: %s", command)
        print(f"dl-app: another start asked to {command}", flush=True)
        if command == "quick":
            self.show_quick()
        elif command == "pet":
            self.set_pet(True)
        else:
            self.show_main()

    def note_event(self, name: str, payload: Any = None) -> None:
        """Called for each Python -> page event (see ``Emitter``). A check-in while the
        main window is hidden is also a desktop notification from the tray."""
        if name in ("chat.done", "chat.checkin") and self.main_hidden:
            self._stale_main = True
        if name == "chat.checkin" and self.main_hidden and self.tray is not None:
            text = str((payload or {}).get("text", ""))
            with contextlib.suppress(Exception):  # a notification is a nicety
                self.tray.notify(text)

    # -- closing -----------------------------------------------------------------

    def keeps_running_in_tray(self) -> bool:
        return bool(self.app_settings.close_to_tray and self.tray is not None)

    def _on_main_closing(self) -> bool | None:
        if self.quitting or not (self.pet_shown or self.keeps_running_in_tray()):
            return None  # (while the pet is out, closing the main window only hides it)
        self.main_hidden = True
        self.emitter.revive(self.main)
        threading.Thread(target=self.main.hide, name="dl-hide", daemon=True).start()
        return False  # cancel the close: the app lives on in the tray

    def _on_main_closed(self) -> None:
        if not self.quitting:
            self.quit()  # the quick-chat window must not keep the app alive

    def _on_quick_closing(self) -> bool | None:
        if self.quitting:
            return None
        self.emitter.revive(self.quick)
        threading.Thread(target=self.quick.hide, name="dl-hide", daemon=True).start()
        return False  # keep it for the next quick chat

    # -- tray and settings --------------------------------------------------------

    def start_tray(self, factory: Callable[[Any, str], Any]) -> bool:
        """Show the tray icon (``factory(host, lang)`` -> tray or None)."""
        if self.tray is not None or not self.app_settings.tray_enabled:
            return self.tray is not None
        self.tray = factory(self, self.lang)
        if self.tray is None:
            return False
        self.tray.start()
        return True

    def apply_settings(self, app: AppSettings) -> None:
        """The ``app`` group after a change: start-on-login entry, tray visibility, the
        desktop pet."""
        before, self.app_settings = self.app_settings, app
        if self.autostart is not None and before.start_on_login != app.start_on_login:
            try:
                self.autostart.apply(app.start_on_login)
            except OSError as e:
                log.warning("start on login: %s", e)
        if self.tray is not None and not app.tray_enabled:
            self.tray.stop()  # hidden; shown again on the next start
            self.tray = None
        if before.pet != app.pet and app.pet != self.pet_shown:  # the settings page
            threading.Thread(target=self.set_pet, args=(app.pet,), name="dl-pet",
                             daemon=True).start()

    def watch_settings(self, api: Any = None) -> None:
        """Re-apply the ``app`` group after each successful ``settings_set`` of ``api``
        (default: the window's ``js_api``; the shell passes the bridge it is building)."""
        api = self.api if api is None else api
        original = api.settings_set
        desktop = self

        def settings_set(_self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if isinstance(result, dict) and result.get("ok"):
                try:
                    app = AppSettings.model_validate(result["settings"].get("app", {}))
                    desktop.apply_settings(app)
                    if result["settings"].get("theme") in ("system", "light", "dark"):
                        desktop.set_theme(result["settings"]["theme"])
                    language = result["settings"].get("language")
                    if language in ("zh", "en", "auto"):
                        desktop.set_lang(resolve_lang(language))
                except Exception:
                    log.exception("applying the app settings failed")
            return result

        api.settings_set = types.MethodType(settings_set, api)


def _qt_page(window: Any) -> Any:
    """The ``page`` method of a pywebview window's Qt web view; None elsewhere."""
    page = getattr(getattr(getattr(window, "native", None), "webview", None), "page", None)
    return page if callable(page) else None


def _qt_platform() -> str:
    """The Qt platform plugin in use (``xcb``, ``wayland``), "" without a Qt app."""
    try:
        from qtpy.QtGui import QGuiApplication
    except Exception:
        return ""
    if QGuiApplication.instance() is None:
        return ""
    return str(QGuiApplication.platformName())
