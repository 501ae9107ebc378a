"""Whether the window can open here, checked before Qt is imported (Qt aborts the
process, with no exception, when it has no display or its platform plugin cannot
load), and the variables the GUI backend reads at import time."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import MutableMapping
from pathlib import Path

from ..core.errors import msg


class ShellUnavailable(Exception):
    """The window cannot open here (no display, missing Qt/WebEngine libraries, no frontend)."""


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
    # Spoken replies start on their own (voice), not only after a click in the page.
    flags = env.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--autoplay-policy" not in flags:
        autoplay = "--autoplay-policy=no-user-gesture-required"
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} {autoplay}".strip()
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
        raise ShellUnavailable(msg("shell.no_pywebview", error=str(e))) from e
    if not sys.platform.startswith("linux"):
        return
    try:
        import qtpy  # noqa: F401
        from qtpy import QtWebEngineWidgets  # noqa: F401
    except Exception as e:  # ImportError, or qtpy's PythonQtError
        raise ShellUnavailable(msg("shell.no_webengine", error=str(e))) from e
    wayland = env.get("WAYLAND_DISPLAY", "")
    display = env.get("DISPLAY", "")
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if not platform:
        if wayland:
            return
        platform = "xcb"
    if platform == "wayland":
        if not wayland:
            raise ShellUnavailable(msg("shell.wayland_unset"))
        return
    if platform != "xcb":
        return  # offscreen, vnc, eglfs...: Qt needs no display server
    if not display:
        raise ShellUnavailable(msg("shell.no_display"))
    if not _x_display_reachable(display):
        raise ShellUnavailable(msg("shell.x_unreachable", display=display))
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
        raise ShellUnavailable(msg("shell.xcb_plugin", error=str(e))) from e
