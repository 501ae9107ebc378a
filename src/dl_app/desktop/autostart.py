"""Start Digital Life when the user logs in (setting ``app.start_on_login``).

    launch_command()          the command that starts the app in the tray
    enable(); disable()       write / remove this platform's login entry
    is_enabled()              whether the entry exists
    apply(wanted)             enable or disable to match the setting

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/digital-life.desktop``.
- macOS: ``~/Library/LaunchAgents/app.digitallife.DigitalLife.plist`` (``RunAtLoad``).
- Windows: the value ``DigitalLife`` under
  ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``; the registry calls are in
  :class:`WinRegistry` (one small class, replaced in tests off Windows).
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

APP_ID = "app.digitallife.DigitalLife"
DESKTOP_NAME = "digital-life.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "DigitalLife"
TRAY_ARGS = ("window", "--tray")


def launch_command(
    *, frozen: bool | None = None, executable: str | None = None
) -> list[str]:
    """The command a login entry runs: the bundled executable, else this Python with
    ``-m dl_app``; either way starting in the tray (``window --tray``)."""
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    exe = executable or sys.executable
    if frozen:
        return [exe, *TRAY_ARGS]
    if os.name == "nt" and exe.lower().endswith("python.exe"):
        pythonw = exe[: -len("python.exe")] + "pythonw.exe"  # no console window
        if Path(pythonw).exists():
            exe = pythonw
    return [exe, "-m", "dl_app", *TRAY_ARGS]


# -- Linux / XDG --------------------------------------------------------------


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def xdg_entry_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(base) / "autostart" / DESKTOP_NAME


def _desktop_quote(arg: str) -> str:
    """Quote one argument for a .desktop ``Exec`` line (freedesktop spec)."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%='):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$").replace("%", "%%")
    return f'"{escaped}"'


def xdg_entry(command: Sequence[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Digital Life\n"
        "Name[zh_CN]=数字生命\n"
        "Comment=A companion that remembers\n"
        "Comment[zh_CN]=会记住你的陪伴\n"
        f"Exec={' '.join(_desktop_quote(a) for a in command)}\n"
        "Icon=digital-life\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


# -- macOS --------------------------------------------------------------------


def launch_agent_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return _home(env) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": APP_ID,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
    )


# -- Windows ------------------------------------------------------------------


def windows_run_value(command: Sequence[str]) -> str:
    """The ``Run`` key's value: the command line, Windows-quoted."""
    return subprocess.list2cmdline(list(command))


class Registry(Protocol):
    def set(self, name: str, value: str) -> None: ...
    def get(self, name: str) -> str | None: ...
    def delete(self, name: str) -> None: ...


def _winreg() -> Any:
    import importlib

    return importlib.import_module("winreg")  # Windows only


class WinRegistry:
    """``HKCU\\...\\Run`` through ``winreg`` (Windows only)."""

    def _key(self, write: bool) -> Any:
        winreg = _winreg()

        access = winreg.KEY_SET_VALUE if write else winreg.KEY_QUERY_VALUE
        return winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, access)

    def set(self, name: str, value: str) -> None:
        winreg = _winreg()

        with self._key(True) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def get(self, name: str) -> str | None:
        winreg = _winreg()

        with self._key(False) as key:
            try:
                value, _ = winreg.QueryValueEx(key, name)
            except FileNotFoundError:
                return None
        return str(value)

    def delete(self, name: str) -> None:
        winreg = _winreg()

        with self._key(True) as key, contextlib.suppress(FileNotFoundError):
            winreg.DeleteValue(key, name)


# -- the switch ---------------------------------------------------------------


class Autostart:
    """This platform's login entry (``platform`` and ``env`` for tests)."""

    def __init__(
        self,
        *,
        platform: str | None = None,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.platform = platform or sys.platform
        self.env = os.environ if env is None else env
        self.command = list(command) if command is not None else launch_command()
        self._registry = registry

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = WinRegistry()
        return self._registry

    def path(self) -> Path | None:
        """The file written (None on Windows: a registry value)."""
        if self.platform == "win32":
            return None
        if self.platform == "darwin":
            return launch_agent_path(self.env)
        return xdg_entry_path(self.env)

    def enable(self) -> None:
        if self.platform == "win32":
            self.registry.set(RUN_VALUE, windows_run_value(self.command))
            return
        path = self.path()
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.platform == "darwin":
            path.write_bytes(launch_agent(self.command))
        else:
            path.write_text(xdg_entry(self.command), encoding="utf-8")

    def disable(self) -> None:
        if self.platform == "win32":
            self.registry.delete(RUN_VALUE)
            return
        path = self.path()
        if path is not None and path.exists():
            path.unlink()

    def is_enabled(self) -> bool:
        if self.platform == "win32":
            return self.registry.get(RUN_VALUE) is not None
        path = self.path()
        return path is not None and path.exists()

    def apply(self, wanted: bool) -> bool:
        """Make the entry match ``wanted``; True when something changed. An existing
        entry is rewritten (the app may have moved since it was made)."""
        before = self.is_enabled()
        if wanted:
            self.enable()
        elif before:
            self.disable()
        return before != wanted


def describe(command: Sequence[str]) -> str:
    """The command as a shell line (for messages)."""
    return shlex.join(command)
