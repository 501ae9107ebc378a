"""A stand-in X client for the pet's X11 tests, run as its own process: it creates one
unmapped window, prints its id, and with ``--compositor`` holds the ``_NET_WM_CM_S0``
selection the way a compositing manager does (it composites nothing). It ends when
its stdin closes. ``click()``: a real click through XTest, for the tests to import.

    python x11_owner.py [--compositor]      (DISPLAY: the Xvfb of the test)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def main() -> int:
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    p, ul = ctypes.c_void_p, ctypes.c_ulong
    x11.XOpenDisplay.argtypes, x11.XOpenDisplay.restype = [ctypes.c_char_p], p
    x11.XDefaultRootWindow.argtypes, x11.XDefaultRootWindow.restype = [p], ul
    x11.XCreateSimpleWindow.argtypes = [p, ul, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                                        ctypes.c_uint, ctypes.c_uint, ul, ul]
    x11.XCreateSimpleWindow.restype = ul
    x11.XInternAtom.argtypes, x11.XInternAtom.restype = [p, ctypes.c_char_p, ctypes.c_int], ul
    x11.XSetSelectionOwner.argtypes = [p, ul, ul, ul]
    x11.XSync.argtypes = [p, ctypes.c_int]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        print("no display", flush=True)
        return 1
    window = x11.XCreateSimpleWindow(dpy, x11.XDefaultRootWindow(dpy), 0, 0, 320, 440, 0, 0, 0)
    if "--compositor" in sys.argv:
        x11.XSetSelectionOwner(dpy, x11.XInternAtom(dpy, b"_NET_WM_CM_S0", 0), window, 0)
    x11.XSync(dpy, 0)
    print(f"window {window}", flush=True)
    sys.stdin.read()  # held until the test closes the pipe
    return 0



def click(display: str, x: int, y: int, button: int = 1) -> None:
    """A real click at root coordinates through the XTest extension (what a person's
    mouse does): the X server gives it to the window whose input shape is there."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    p = ctypes.c_void_p
    x11.XOpenDisplay.argtypes, x11.XOpenDisplay.restype = [ctypes.c_char_p], p
    x11.XSync.argtypes = [p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [p]
    xtst.XTestFakeMotionEvent.argtypes = [p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeButtonEvent.argtypes = [p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
    dpy = x11.XOpenDisplay(display.encode())
    assert dpy, f"no display {display}"
    try:
        xtst.XTestFakeMotionEvent(dpy, -1, x, y, 0)
        xtst.XTestFakeButtonEvent(dpy, button, 1, 0)
        xtst.XTestFakeButtonEvent(dpy, button, 0, 0)
        x11.XSync(dpy, 0)
    finally:
        x11.XCloseDisplay(dpy)


if __name__ == "__main__":
    sys.exit(main())
