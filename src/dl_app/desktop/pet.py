"""The desktop pet's window: where it goes and how pywebview makes it.

The pet is the page in pet mode (``index.html#pet``, ``frontend/js/pet.js``) in a small
frameless window that stays on top, with a transparent background. A drag on the avatar
moves it: the page marks the avatar as pywebview's drag region
(``.pywebview-drag-region``, moved by pywebview's own script on every platform).
pywebview's ``easy_drag`` stays off: on Qt (pywebview 6.2) it installs an event filter
on the whole application, and a frameless window made with it while the app runs
crashed the process here (segmentation fault, under Xvfb).
:class:`~dl_app.desktop.window.Desktop` opens and closes it (``set_pet``) and saves
where it was left on each screen (``pet_place.py``: ``app.pet_places``, ``app.pet_screen``;
``app.pet_x``/``app.pet_y`` from before, used while there are no places per screen).

What the platforms give (``pet_desktop.py`` finds it out and says it in settings;
``docs/desktop-pet.md``): transparency needs a compositor on Linux (without one the pet
is opaque, with the panel's background: ``panel``); clicks beside what the page draws
pass through to the desktop on X11 (the window's input shape, ``x11.py``), not elsewhere
(pywebview has no input-shape call); on Wayland apps cannot stay on top or pick their
place, so the pet asks Qt for X11 (XWayland) there (``prefer_x11``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from .pet_place import MARGIN
from .pet_place import PET as PET_SIZE

__all__ = ["PET_SIZE", "PET_TITLE", "pet_window_args", "place", "prefer_x11"]

PET_TITLE = {"zh": "桌宠 · 数字生命", "en": "Pet · Digital Life"}


def _rects(screens: Any) -> list[tuple[int, int, int, int]]:
    out = []
    for s in screens or []:
        try:
            out.append((int(getattr(s, "x", 0) or 0), int(getattr(s, "y", 0) or 0),
                        int(s.width), int(s.height)))
        except (AttributeError, TypeError, ValueError):
            continue
    return out


def place(x: int | None, y: int | None, screens: Any) -> tuple[int | None, int | None]:
    """Where the pet opens: the saved place while it is still on one of the screens
    (its top-left corner and at least 40 px of it), else the bottom right of the first
    screen; (None, None) when no screen is known (the toolkit chooses)."""
    rects = _rects(screens)
    if x is not None and y is not None:
        for sx, sy, sw, sh in rects:
            if sx <= x <= sx + sw - 40 and sy <= y <= sy + sh - 40:
                return x, y
    if not rects:
        return None, None
    sx, sy, sw, sh = rects[0]
    return (max(sx, sx + sw - PET_SIZE[0] - MARGIN[0]),
            max(sy, sy + sh - PET_SIZE[1] - MARGIN[1]))


def pet_window_args(
    frontend: Path, api: Any, lang: str, position: tuple[int | None, int | None],
    *, panel: bool = False,
) -> tuple[str, dict[str, Any]]:
    """``(title, kwargs)`` for ``webview.create_window``. ``panel``: no compositor
    runs (``pet_desktop.py``), so the pet is an opaque window with the panel's
    background (``?bg=panel``) instead of a black one."""
    x, y = position
    return PET_TITLE.get(lang, PET_TITLE["en"]), {
        "url": str(frontend / "index.html") + ("?bg=panel#pet" if panel else "#pet"),
        "js_api": api,
        "width": PET_SIZE[0],
        "height": PET_SIZE[1],
        "x": x,
        "y": y,
        "frameless": True,
        "easy_drag": False,  # see above: the page's drag region moves it
        "on_top": True,
        "transparent": not panel,
        "shadow": False,
        "resizable": False,
    }


def prefer_x11(environ: MutableMapping[str, str]) -> bool:
    """On a Wayland session with XWayland, run Qt on X11 so the pet can stay on top
    and go where it was left; True when it did (an explicit ``QT_QPA_PLATFORM`` wins)."""
    if environ.get("QT_QPA_PLATFORM") or not environ.get("WAYLAND_DISPLAY"):
        return False
    if not environ.get("DISPLAY"):
        return False  # no XWayland: stay on Wayland (the pet cannot stay on top there)
    environ["QT_QPA_PLATFORM"] = "xcb"
    return True
