"""What the desktop pet can do on this desktop (``desktop/pet_desktop.py``), said in
settings in both languages; the X11 questions behind it (``desktop/x11.py``) against a
real Xvfb, with a stand-in compositor (``x11_owner.py`` holds ``_NET_WM_CM_S0``); the
``pet_shape`` bridge method and the desktop that makes it the pet window's input shape.
The real app's pet window: ``test_pet_shape.py``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_tray import make_desktop
from test_window import needs_display, xvfb

from dl_app.bridge import Api
from dl_app.desktop import x11
from dl_app.desktop.pet_desktop import PetDesktop, detect, notes
from lang_check import cjk_chars, latin_words

__all__ = ["xvfb"]  # the fixture

OWNER = Path(__file__).with_name("x11_owner.py")

X11_BARE = PetDesktop("linux", False, "xcb", True, False)
X11_COMPOSITED = PetDesktop("linux", False, "xcb", True, True)
WAYLAND_XCB = PetDesktop("linux", True, "xcb", True, True)
WAYLAND_NATIVE = PetDesktop("linux", True, "wayland", True, None)
WAYLAND_ONLY = PetDesktop("linux", True, "wayland", False, None)
WINDOWS = PetDesktop("win32", False, "", False, None)


def test_detect_reads_the_session() -> None:
    d = detect({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "xcb", system="linux",
               compositor=True)
    assert d == WAYLAND_XCB and d.transparent and d.click_through
    assert detect({"XDG_SESSION_TYPE": "wayland"}, "wayland", system="linux").wayland
    bare = detect({"DISPLAY": ":1"}, "xcb", system="linux", compositor=False)
    assert bare == X11_BARE and bare.transparent is False and bare.click_through
    assert detect({}, "", system="darwin").transparent is True
    assert not detect({}, "", system="darwin").click_through


@pytest.mark.parametrize(
    ("desktop", "en", "zh"),
    [
        (X11_BARE, ["No compositor", "panel's background", "pass through"],
         ["没有运行窗口合成器", "面板背景", "会穿透到桌面"]),
        (X11_COMPOSITED, ["transparent", "pass through"], ["背景透明", "会穿透到桌面"]),
        (PetDesktop("linux", False, "xcb", True, None), ["could not be told"], ["无法判断"]),
        (WAYLAND_XCB, ["XWayland", "transparent", "pass through"],
         ["XWayland", "背景透明", "会穿透到桌面"]),
        (WAYLAND_NATIVE, ["dl-app --pet", "cannot stay on top", "do not pass through"],
         ["dl-app --pet", "无法置顶", "不会穿透"]),
        (WAYLAND_ONLY, ["without XWayland", "ordinary window", "do not pass through"],
         ["没有 XWayland", "普通窗口", "不会穿透"]),
        (WINDOWS, ["transparent", "do not pass through"], ["背景透明", "不会穿透"]),
    ],
)
def test_settings_say_what_the_pet_can_do_here(desktop: PetDesktop, en: list[str],
                                              zh: list[str]) -> None:
    said = notes(desktop)
    for part in en:
        assert part in said["en"], (part, said["en"])
    for part in zh:
        assert part in said["zh"], (part, said["zh"])
    assert cjk_chars(said["en"]) == [] and latin_words(said["zh"]) == []
    # Clicks are said once, one way or the other.
    assert said["en"].count("pass through") == 1


# -- X11, against Xvfb ---------------------------------------------------------------------


@contextmanager
def x_client(display: str, *args: str) -> Iterator[int]:
    """The stand-in client's window id, while it runs."""
    proc = subprocess.Popen([sys.executable, str(OWNER), *args], env={"DISPLAY": display},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = (proc.stdout.readline() if proc.stdout else "").split()
        assert line[:1] == ["window"], line
        yield int(line[1])
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(10)


@needs_display
def test_a_compositor_is_told_by_its_selection(xvfb: str) -> None:
    assert x11.compositor_running(xvfb) is False
    with x_client(xvfb, "--compositor"):
        assert x11.compositor_running(xvfb) is True
    assert x11.compositor_running(xvfb) is False  # it ended: the selection is free
    assert x11.compositor_running(":9999") is None  # no such display


@needs_display
def test_the_input_shape_is_set_and_a_gone_window_is_no_crash(xvfb: str) -> None:
    with x_client(xvfb) as window:
        assert x11.input_shape(window, xvfb) == [(0, 0, 320, 440)]  # the whole window
        rects = [(20, 40, 280, 330), (10, 380, 300, 50)]
        assert x11.set_input_shape(window, rects, xvfb)
        assert sorted(x11.input_shape(window, xvfb) or []) == sorted(rects)
        assert not x11.set_input_shape(window, [], xvfb)  # nothing drawn: left as it was
        assert sorted(x11.input_shape(window, xvfb) or []) == sorted(rects)
    assert not x11.set_input_shape(window, rects, xvfb)  # the window is gone: an X error
    assert x11.input_shape(window, xvfb) is None


# -- the bridge and the desktop -----------------------------------------------------------


class ShapeShell:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.shapes: list[list[tuple[int, int, int, int]]] = []

    def set_pet_shape(self, rects: list[tuple[int, int, int, int]]) -> bool:
        self.shapes.append(rects)
        return self.answer

    def pet_notes(self) -> dict[str, str]:
        return notes(X11_BARE)


def test_pet_shape_through_the_bridge(api: Api) -> None:
    params = {"rects": [[10.4, 20, 100, 50.6]], "scale": 2}
    assert api.pet_shape(params) == {"ok": True, "done": False, "reason": "browser"}
    assert api.settings_get()["field_notes"] == {}
    shell = ShapeShell(True)
    api.attach_shell(shell)
    assert api.pet_shape(params) == {"ok": True, "done": True}
    assert shell.shapes == [[(21, 40, 200, 101)]]  # device pixels
    shell.answer = False
    assert api.pet_shape(params) == {"ok": True, "done": False, "reason": "platform"}
    for bad in ({"rects": []}, {"rects": [[1, 2, 3]]}, {"rects": [[0, 0, 1, 1]] * 33},
                {"rects": [[0, 0, 1, 1]], "scale": 0}):
        assert not api.pet_shape(bad)["ok"], bad
    said = api.settings_get()["field_notes"]["app.pet"]
    assert "No compositor" in said["en"] and "没有运行窗口合成器" in said["zh"]


def test_without_a_compositor_the_pet_has_the_panel_background(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path, pet_desktop=X11_BARE)
    desk.set_pet(True)
    pet = web.windows[1]
    assert pet.kwargs["transparent"] is False
    assert pet.kwargs["url"].endswith("index.html?bg=panel#pet")
    assert desk.pet_notes() == notes(X11_BARE)


class Native:
    def __init__(self, window: int) -> None:
        self.window = window

    def winId(self) -> int:
        return self.window


@needs_display
def test_the_desktop_sets_the_pet_windows_input_shape(
    api: Api, tmp_path: Path, xvfb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb)
    with x_client(xvfb) as window:
        desk, web = make_desktop(api, tmp_path, pet_desktop=X11_COMPOSITED)
        assert not desk.set_pet_shape([(0, 0, 10, 10)])  # no pet yet
        desk.set_pet(True)
        web.windows[1].native = Native(window)
        assert desk.set_pet_shape([(5, 6, 70, 80)])
        assert x11.input_shape(window, xvfb) == [(5, 6, 70, 80)]
        # A compositor shows the rest through: the window still covers all of it.
        assert x11.input_shape(window, xvfb, kind=x11.SHAPE_BOUNDING) == [(0, 0, 320, 440)]
        bare, web3 = make_desktop(api, tmp_path, pet_desktop=X11_BARE)
        bare.set_pet(True)
        web3.windows[1].native = Native(window)
        assert bare.set_pet_shape([(7, 8, 90, 100)])  # no compositor: cut to the shape
        for kind in (x11.SHAPE_INPUT, x11.SHAPE_BOUNDING):
            assert x11.input_shape(window, xvfb, kind=kind) == [(7, 8, 90, 100)]
        other, web2 = make_desktop(api, tmp_path, pet_desktop=WINDOWS)
        other.set_pet(True)
        web2.windows[1].native = Native(window)
        assert not other.set_pet_shape([(1, 1, 2, 2)])  # not on this platform
        assert x11.input_shape(window, xvfb) == [(7, 8, 90, 100)]
