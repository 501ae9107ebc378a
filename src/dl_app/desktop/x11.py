"""The two X11 questions the desktop pet asks, through libX11/libXext (ctypes, no
extra package): does a compositing manager run (the owner of the ``_NET_WM_CM_S<n>``
selection, which the EWMH asks every compositor to hold), and the pet window's input
shape (the X Shape extension's ``ShapeInput``: clicks outside it go to the window
below, the desktop). Each call opens its own short connection to the display; X
resources live in the server, so Qt's own connection sees the same window.

Every function answers None (or False) when the libraries or the display are not
there; an X error (a window that is gone) is caught, not the process's end (Xlib's
default handler would exit).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

__all__ = ["SHAPE_BOUNDING", "SHAPE_INPUT", "compositor_running", "input_shape", "set_input_shape"]

log = logging.getLogger(__name__)

SHAPE_BOUNDING = 0  # ShapeBounding (shape.h): what the window covers
SHAPE_INPUT = 2  # ShapeInput: where it takes clicks
SHAPE_SET = 0  # ShapeSet
UNSORTED = 0
MAX_RECTS = 32

_lock = threading.Lock()
_errors: list[int] = []


class _XRectangle(ctypes.Structure):
    _fields_ = [("x", ctypes.c_short), ("y", ctypes.c_short),
                ("width", ctypes.c_ushort), ("height", ctypes.c_ushort)]


_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


@_ERROR_HANDLER
def _on_error(_display: Any, _event: Any) -> int:
    _errors.append(1)
    return 0


@cache
def _libs() -> tuple[Any, Any] | None:
    names = ctypes.util.find_library("X11"), ctypes.util.find_library("Xext")
    if not all(names):
        return None
    try:
        x11, xext = ctypes.CDLL(names[0]), ctypes.CDLL(names[1])
    except OSError:
        return None
    p, ul = ctypes.c_void_p, ctypes.c_ulong
    x11.XOpenDisplay.argtypes, x11.XOpenDisplay.restype = [ctypes.c_char_p], p
    x11.XCloseDisplay.argtypes = [p]
    x11.XDefaultScreen.argtypes, x11.XDefaultScreen.restype = [p], ctypes.c_int
    x11.XInternAtom.argtypes, x11.XInternAtom.restype = [p, ctypes.c_char_p, ctypes.c_int], ul
    x11.XGetSelectionOwner.argtypes, x11.XGetSelectionOwner.restype = [p, ul], ul
    x11.XSync.argtypes = [p, ctypes.c_int]
    x11.XFree.argtypes = [p]
    x11.XSetErrorHandler.argtypes, x11.XSetErrorHandler.restype = [p], p
    ip = ctypes.POINTER(ctypes.c_int)
    xext.XShapeQueryExtension.argtypes = [p, ip, ip]
    xext.XShapeCombineRectangles.argtypes = [
        p, ul, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_XRectangle),
        ctypes.c_int, ctypes.c_int, ctypes.c_int]
    xext.XShapeGetRectangles.argtypes = [
        p, ul, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    xext.XShapeGetRectangles.restype = ctypes.POINTER(_XRectangle)
    return x11, xext


@contextmanager
def _display(name: str | None) -> Iterator[tuple[Any, Any, int] | None]:
    libs = _libs()
    if libs is None:
        yield None
        return
    x11, xext = libs
    with _lock:
        dpy = x11.XOpenDisplay(name.encode() if name else None)
        if not dpy:
            yield None
            return
        previous = x11.XSetErrorHandler(ctypes.cast(_on_error, ctypes.c_void_p))
        _errors.clear()
        try:
            yield x11, xext, dpy
        finally:
            x11.XSync(dpy, 0)
            x11.XSetErrorHandler(previous)
            x11.XCloseDisplay(dpy)


def compositor_running(display: str | None = None) -> bool | None:
    """Whether a compositing manager runs on the X display (``$DISPLAY`` by default);
    None when it cannot be told (no libX11, no display)."""
    with _display(display) as opened:
        if opened is None:
            return None
        x11, _xext, dpy = opened
        screen = x11.XDefaultScreen(dpy)
        atom = x11.XInternAtom(dpy, f"_NET_WM_CM_S{screen}".encode(), 0)
        return bool(x11.XGetSelectionOwner(dpy, atom))


def set_input_shape(window: int, rects: Sequence[tuple[int, int, int, int]],
                    display: str | None = None, *, bounding: bool = False) -> bool:
    """Clicks on the X window land only inside ``rects`` (window pixels: x, y, width,
    height); elsewhere they go to what is below. ``bounding``: the window is also cut
    to them (where no compositor makes the rest see-through, the window would still
    cover the desktop there). True when the server took it."""
    shown = [r for r in rects[:MAX_RECTS] if r[2] > 0 and r[3] > 0]
    if not window or not shown:
        return False
    with _display(display) as opened:
        if opened is None:
            return False
        x11, xext, dpy = opened
        event, error = ctypes.c_int(), ctypes.c_int()
        if not xext.XShapeQueryExtension(dpy, ctypes.byref(event), ctypes.byref(error)):
            return False
        array = (_XRectangle * len(shown))(*[
            _XRectangle(max(-32768, min(x, 32767)), max(-32768, min(y, 32767)),
                        min(w, 65535), min(h, 65535)) for x, y, w, h in shown])
        for kind in (SHAPE_INPUT, SHAPE_BOUNDING) if bounding else (SHAPE_INPUT,):
            xext.XShapeCombineRectangles(dpy, window, kind, 0, 0, array, len(shown),
                                         SHAPE_SET, UNSORTED)
        x11.XSync(dpy, 0)
        return not _errors


def input_shape(window: int, display: str | None = None, *, kind: int = SHAPE_INPUT
                ) -> list[tuple[int, int, int, int]] | None:
    """The X window's input shape (or ``kind``: ``SHAPE_BOUNDING``) as rectangles
    (None when it cannot be read)."""
    with _display(display) as opened:
        if opened is None:
            return None
        x11, xext, dpy = opened
        count, ordering = ctypes.c_int(), ctypes.c_int()
        got = xext.XShapeGetRectangles(dpy, window, kind, ctypes.byref(count),
                                       ctypes.byref(ordering))
        x11.XSync(dpy, 0)
        if _errors:
            return None
        out = [(got[i].x, got[i].y, got[i].width, got[i].height) for i in range(count.value)]
        if got:
            x11.XFree(ctypes.cast(got, ctypes.c_void_p))
        return out
