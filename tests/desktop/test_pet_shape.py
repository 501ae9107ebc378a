"""Clicks beside the desktop pet go to the desktop: the real app under Xvfb, real
clicks through XTest. The pet's page tells the desktop where it draws (``pet_shape``),
which becomes the X window's input shape (and, with no compositor as in Xvfb, its
bounding shape: the opaque window is cut to it)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from test_pet_window import PetTools, _start, _stop, _wait_ready
from test_window import app_env, free_port, grab_screen, needs_display, xvfb
from x11_owner import click

from dl_app.desktop import x11
from dl_app.desktop.pet import PET_SIZE
from servers.openai_compat import OpenAICompatServer

__all__ = ["xvfb"]  # the fixture

FULL = [(0, 0, *PET_SIZE)]


def pet_window(display: str) -> tuple[int, int, int]:
    """(X window id, left, top) of the pet's top-level window."""
    out = subprocess.run(["xwininfo", "-root", "-tree", "-int"], env={"DISPLAY": display, "LC_ALL": "C.UTF-8"},
                         capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        m = re.match(r'\s*(\d+) "([^"]*)".*?\s(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)',
                     line)
        if m and "DigitalLife" in line and (int(m[3]), int(m[4])) == PET_SIZE:  # the class
            return int(m[1]), int(m[7]), int(m[8])
    raise AssertionError(f"no pet window in:\n{out[-3000:]}")


def wait_for(what: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def covers(shape: list[tuple[int, int, int, int]], rect: list[float]) -> bool:
    """Every pixel of ``rect`` is in the shape (the server splits it into bands)."""
    x0, y0, w, h = (int(v) for v in rect)
    xs = [*range(x0, x0 + w, 3), x0 + w - 1]
    ys = [*range(y0, y0 + h, 3), y0 + h - 1]
    return all(any(sx <= x < sx + sw and sy <= y < sy + sh for sx, sy, sw, sh in shape)
               for x in xs for y in ys)


@needs_display
def test_clicks_beside_the_pet_go_to_the_desktop_under_xvfb(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    port = free_port()
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    log = tmp_path / "stderr.log"
    proc, lines = _start(["--pet"], env, log)
    seen: list[str] = []
    try:
        _wait_ready(proc, lines, log, seen)
        tools = PetTools(port)
        try:
            wait_for(lambda: tools.evaluate("document.documentElement.dataset.ready || ''"), 30)
            window, left, top = pet_window(xvfb)
            shape = wait_for(lambda: (s := x11.input_shape(window, xvfb)) and s != FULL and s)
            face = tools.evaluate(
                "(() => { const r = window.dlAvatar.box()"
                " || document.querySelector('.avatar-stage').getBoundingClientRect();"
                " return [r.left, r.top, r.width, r.height]; })()")
            assert covers(shape, face), (shape, face)  # the avatar takes clicks
            assert x11.input_shape(window, xvfb, kind=x11.SHAPE_BOUNDING) == shape
            tools.evaluate("window.__downs = []; document.addEventListener('pointerdown',"
                           " (e) => window.__downs.push([e.clientX, e.clientY, e.button])); 1")
            # On the face, the page gets the click; the top-left corner is beside the
            # face: that click goes to the desktop. (X delivers them in order.)
            fx, fy = int(face[0] + face[2] / 2), int(face[1] + face[3] / 2)
            assert not covers(shape, [4, 4, 1, 1]), shape
            for x, y in ((fx, fy), (4, 4), (fx, fy)):
                click(xvfb, left + x, top + y)
            downs = wait_for(lambda: len(d := tools.evaluate("window.__downs")) >= 2 and d, 10)
            assert downs == [[fx, fy, 0], [fx, fy, 0]], downs  # not the one beside
            # A right click opens the menu: the shape grows to take clicks on it.
            click(xvfb, left + fx, top + fy, button=3)
            wait_for(lambda: not tools.evaluate("document.querySelector('#pet-menu').hidden"), 10)
            menu = tools.evaluate("(() => { const r = document.querySelector('#pet-menu')"
                                  ".getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
            wait_for(lambda: covers(x11.input_shape(window, xvfb) or [], menu), 10)
            shots = Path(os.environ.get("DL_PET_SHOTS", "/tmp/shots-pet"))  # to look at
            shots.mkdir(parents=True, exist_ok=True)
            grab_screen(xvfb, shots / "xvfb-pet-shape-menu.png")
        finally:
            tools.close()
    finally:
        _stop(proc)
