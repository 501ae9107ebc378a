"""Where the desktop pet goes: one place per screen, remembered and chosen again.

A screen is known by its name where the toolkit gives one (Qt: ``QScreen.name()``, such
as ``HDMI-1``; pywebview passes the ``QScreen`` as ``Screen.frame``), else by its
geometry. The place on a screen is kept relative to the screen's top-left corner, so a
screen that moves in the desktop's layout keeps the pet where it was on it.

Opening the pet (:func:`choose`): on the screen where it was last, at its place there,
pulled inside the screen when the screen became smaller; when that screen is gone, on
the first screen that has a place of its own, else the last place pulled inside the
first screen; with nothing remembered, the bottom right of the first screen. No I/O:
the desktop reads the screens and saves the settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_PLACES", "PlacedScreen", "choose", "clamp", "remember", "screens_of"]

MAX_PLACES = 8  # screens remembered; the oldest is forgotten first
PET = (320, 440)  # the pet window's size (``pet.PET_SIZE``)
MARGIN = (24, 64)  # the default place: from the right and bottom edges


@dataclass(frozen=True)
class PlacedScreen:
    key: str
    x: int
    y: int
    width: int
    height: int


def _name(frame: Any) -> str:
    for attr in ("name", "localizedName"):  # Qt's QScreen, Cocoa's NSScreen
        value = getattr(frame, attr, None)
        try:
            value = value() if callable(value) else value
        except Exception:
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def screens_of(raw: Any) -> list[PlacedScreen]:
    """pywebview's ``webview.screens`` (or anything with x, y, width, height and
    maybe a ``frame``) as :class:`PlacedScreen`; unreadable ones are left out."""
    out: list[PlacedScreen] = []
    for s in raw or []:
        try:
            x, y = int(getattr(s, "x", 0) or 0), int(getattr(s, "y", 0) or 0)
            w, h = int(s.width), int(s.height)
        except (AttributeError, TypeError, ValueError):
            continue
        if w <= 0 or h <= 0:
            continue
        key = _name(getattr(s, "frame", None)) or f"{w}x{h}+{x}+{y}"
        if any(o.key == key for o in out):  # two screens of one name: tell them apart
            key = f"{key} {w}x{h}+{x}+{y}"
        out.append(PlacedScreen(key, x, y, w, h))
    return out


def clamp(dx: int, dy: int, screen: PlacedScreen, size: tuple[int, int] = PET) -> tuple[int, int]:
    """The absolute place for an offset on ``screen``, with the whole pet inside it
    (its top-left corner when the screen is smaller than the pet)."""
    dx = max(0, min(dx, screen.width - size[0]))
    dy = max(0, min(dy, screen.height - size[1]))
    return screen.x + dx, screen.y + dy


def screen_at(x: int, y: int, screens: Sequence[PlacedScreen],
              size: tuple[int, int] = PET) -> PlacedScreen | None:
    """The screen under the pet's middle, else the one nearest to it."""
    if not screens:
        return None
    cx, cy = x + size[0] // 2, y + size[1] // 2

    def distance(s: PlacedScreen) -> int:
        ox = max(s.x - cx, 0, cx - (s.x + s.width - 1))
        oy = max(s.y - cy, 0, cy - (s.y + s.height - 1))
        return ox * ox + oy * oy

    return min(screens, key=distance)  # min keeps the first of equals: 0 = under it


def _offset(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
    return None


def remember(places: Mapping[str, Any], x: int, y: int, screens: Sequence[PlacedScreen],
             size: tuple[int, int] = PET) -> tuple[dict[str, list[int]], str | None]:
    """``(places, screen key)`` after the pet was left at ``(x, y)``: this screen's
    offset updated and moved last (the most recent), at most :data:`MAX_PLACES`."""
    screen = screen_at(x, y, screens, size)
    if screen is None:
        return dict(places), None
    kept = {k: list(v) for k, v in places.items() if k != screen.key and _offset(v)}
    kept[screen.key] = [x - screen.x, y - screen.y]
    while len(kept) > MAX_PLACES:
        kept.pop(next(iter(kept)))
    return kept, screen.key


def choose(places: Mapping[str, Any], last: str | None, screens: Sequence[PlacedScreen],
           size: tuple[int, int] = PET) -> tuple[int, int] | None:
    """Where the pet opens (see the module's text); None when no screen is known."""
    if not screens:
        return None
    by_key = {s.key: s for s in screens}
    last_offset = _offset(places.get(last)) if last else None
    if last in by_key and last_offset is not None:
        return clamp(*last_offset, by_key[last], size)
    for s in screens:  # the last screen is gone: one that has a place of its own
        own = _offset(places.get(s.key))
        if own is not None:
            return clamp(*own, s, size)
    first = screens[0]
    if last_offset is not None:
        return clamp(*last_offset, first, size)
    return clamp(first.width - size[0] - MARGIN[0], first.height - size[1] - MARGIN[1],
                 first, size)
