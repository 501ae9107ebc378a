"""What the desktop pet can do on this desktop, found out once and said in settings.

* Transparent background: on Windows and macOS always; on Linux only where a compositor
  runs (X11: someone holds the ``_NET_WM_CM_S<n>`` selection, ``x11.py``; a Wayland
  session always has one). Without one the pet gets the panel's background instead of
  black (``pet_window_args(panel=True)``: ``transparent=False``, ``index.html?bg=panel#pet``).
* Clicks on the empty part pass through to the desktop on X11 (also XWayland): the page
  tells the desktop where it draws (``pet_shape``), and that becomes the window's input
  shape (``x11.set_input_shape``). Elsewhere (Windows, macOS, Qt on Wayland) the window
  catches them: pywebview has no call for it.
* Wayland lets no app stay on top or choose its place: started as the pet, the app runs
  Qt on XWayland (``pet.prefer_x11``); started without it, the pet is an ordinary window
  until the next start.

:func:`notes` says it in both languages (``messages/*.json``, ``pet.can.*``); the
settings page shows it under the ``app.pet`` switch (``settings_get``'s ``field_notes``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from ..messages import LANGS, msg, render

__all__ = ["PetDesktop", "detect", "notes"]


@dataclass(frozen=True)
class PetDesktop:
    system: str  # sys.platform: linux, win32, darwin
    wayland: bool  # a Wayland session
    qt_platform: str  # the Qt platform plugin in use: xcb, wayland; "" when not Qt
    xwayland: bool  # an X server beside Wayland (DISPLAY set in a Wayland session)
    compositor: bool | None  # X11: a compositing manager runs; None: could not tell

    @property
    def on_x11(self) -> bool:
        return self.system.startswith("linux") and self.qt_platform != "wayland"

    @property
    def transparent(self) -> bool | None:
        """Whether a transparent window shows the desktop through it."""
        if not self.system.startswith("linux") or self.qt_platform == "wayland":
            return True
        return self.compositor

    @property
    def click_through(self) -> bool:
        return self.on_x11


def detect(environ: Mapping[str, str], qt_platform: str, *, system: str = sys.platform,
           compositor: bool | None = None) -> PetDesktop:
    """``compositor``: the answer of ``x11.compositor_running`` (asked by the caller)."""
    wayland = bool(environ.get("WAYLAND_DISPLAY")) or environ.get("XDG_SESSION_TYPE") == "wayland"
    return PetDesktop(system, wayland, qt_platform.lower(), bool(environ.get("DISPLAY")),
                      compositor)


def _keys(d: PetDesktop) -> list[str]:
    if not d.system.startswith("linux"):
        keys = ["pet.can.transparent", "pet.can.clicks_caught"]
        return keys
    keys = []
    if d.wayland:
        if d.qt_platform == "wayland":
            keys.append("pet.can.wayland_native" if d.xwayland else "pet.can.wayland_no_x")
        else:
            keys.append("pet.can.xwayland")
    transparent = d.transparent
    keys.append("pet.can.transparent" if transparent else
                "pet.can.no_compositor" if transparent is False else "pet.can.unknown_compositor")
    keys.append("pet.can.clicks_pass" if d.click_through else "pet.can.clicks_caught")
    return keys


def notes(d: PetDesktop) -> dict[str, str]:
    """``{"zh": ..., "en": ...}``: what the pet can do here, a sentence a line."""
    return {lang: "\n".join(render(msg(k), lang) for k in _keys(d)) for lang in LANGS}
