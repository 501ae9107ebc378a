"""Start on login: the entry each platform gets, written into a temp HOME.

Linux (XDG .desktop) and macOS (LaunchAgent plist) files are real files here. The
Windows ``Run`` value is checked through the function that makes it and a dict-backed
registry (``winreg`` exists only on Windows; the real calls live in ``WinRegistry``).
"""

from __future__ import annotations

import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dl_app.desktop import autostart
from dl_app.desktop.autostart import Autostart

CMD = ["/opt/Digital Life/dl-app", "window", "--tray"]


def test_launch_command_frozen_and_from_source() -> None:
    assert autostart.launch_command(frozen=True, executable="/opt/digital-life/dl-app") == [
        "/opt/digital-life/dl-app", "window", "--tray"
    ]
    cmd = autostart.launch_command(frozen=False, executable="/usr/bin/python3")
    assert cmd == ["/usr/bin/python3", "-m", "dl_app", "window", "--tray"]


def test_launch_command_starts_the_app(tmp_path: Path) -> None:
    """The source-install command really is the CLI (``--help`` of ``window``)."""
    cmd = autostart.launch_command(frozen=False)
    out = subprocess.run(
        [*cmd[:3], "window", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "--tray" in out.stdout


def test_xdg_entry_written_and_removed(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    entry = Autostart(platform="linux", env=env, command=CMD)
    assert entry.path() == tmp_path / ".config" / "autostart" / "digital-life.desktop"
    assert not entry.is_enabled()
    assert entry.apply(True) is True
    text = entry.path().read_text(encoding="utf-8")  # type: ignore[union-attr]
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert text.startswith("[Desktop Entry]\n")
    assert lines["Type"] == "Application"
    assert lines["Name[zh_CN]"] == "数字生命"
    assert lines["Icon"] == "digital-life"
    # The path with a space is quoted as the desktop-entry spec says; a shell-like
    # split gives the command back.
    assert lines["Exec"] == '"/opt/Digital Life/dl-app" window --tray'
    assert shlex.split(lines["Exec"]) == CMD
    assert entry.is_enabled()
    assert entry.apply(True) is False  # already there: rewritten, no change reported
    assert entry.apply(False) is True
    assert not entry.path().exists()  # type: ignore[union-attr]
    assert entry.apply(False) is False


def test_xdg_config_home_is_respected(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    entry = Autostart(platform="linux", env=env, command=CMD)
    entry.enable()
    assert (tmp_path / "cfg" / "autostart" / "digital-life.desktop").is_file()
    assert not (tmp_path / "home").exists()


def test_desktop_exec_escapes_specials() -> None:
    exec_line = autostart.xdg_entry(["/a/b$c/dl-app", "50%"]).split("Exec=")[1].split("\n")[0]
    assert exec_line == '"/a/b\\$c/dl-app" "50%%"'


def test_launch_agent_plist(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    entry = Autostart(platform="darwin", env=env, command=CMD)
    entry.apply(True)
    path = tmp_path / "Library" / "LaunchAgents" / "app.digitallife.DigitalLife.plist"
    assert entry.path() == path
    plist = plistlib.loads(path.read_bytes())
    assert plist == {
        "Label": "app.digitallife.DigitalLife",
        "ProgramArguments": CMD,
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    assert entry.is_enabled()
    entry.apply(False)
    assert not path.exists()


class DictRegistry:
    """Stands in for HKCU\\...\\Run (no registry off Windows)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_windows_run_value() -> None:
    cmd = [r"C:\Program Files\Digital Life\dl-app.exe", "window", "--tray"]
    assert autostart.windows_run_value(cmd) == (
        r'"C:\Program Files\Digital Life\dl-app.exe" window --tray'
    )
    reg = DictRegistry()
    entry = Autostart(platform="win32", env={}, command=cmd, registry=reg)
    assert entry.path() is None
    assert entry.apply(True) is True
    assert reg.values == {"DigitalLife": autostart.windows_run_value(cmd)}
    assert entry.is_enabled()
    assert entry.apply(False) is True
    assert reg.values == {}


@pytest.mark.skipif(sys.platform != "win32", reason="the real registry exists only on Windows")
def test_windows_registry_round_trip() -> None:  # pragma: no cover - Windows CI only
    reg = autostart.WinRegistry()
    reg.set("DigitalLifeTest", "x")
    try:
        assert reg.get("DigitalLifeTest") == "x"
    finally:
        reg.delete("DigitalLifeTest")
    assert reg.get("DigitalLifeTest") is None
