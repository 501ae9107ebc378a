"""The desktop pet's window: the command line, the desktop that opens and closes it, the
bridge methods of its menu, the single-instance switch, and the real app under Xvfb
(the flags pywebview's ``create_window`` gets; Xvfb has no compositor, so the look is
checked by the page test, ``test_pet_playwright.py``).

The desktop runs on the fake pywebview of ``test_tray.py`` (windows that record what
is done to them and fire pywebview's own events); settings and the bridge are real.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_tray import FakeScreen, FakeTray, PageTools, make_desktop
from test_window import DL_APP, app_env, free_port, grab_screen, needs_display, xvfb

from dl_app.bridge import Api
from dl_app.cli.main import main as cli_main
from dl_app.desktop import instance, tray
from dl_app.desktop.pet import PET_SIZE, place, prefer_x11
from dl_app.settings_io import apply_patch
from servers.openai_compat import OpenAICompatServer

__all__ = ["xvfb"]  # the fixture, imported for the test below

PET_FLAGS = {"frameless": True, "easy_drag": False, "on_top": True, "transparent": True}
# Xvfb has no compositor: the pet is opaque, with the panel's background (pet_desktop.py).
XVFB_FLAGS = {**PET_FLAGS, "transparent": False}
XVFB_URL = "index.html?bg=panel#pet"


def saved_app(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / "settings.json").read_text(encoding="utf-8")).get("app", {})


# -- the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "pet"),
    [(["--pet"], True), (["window", "--pet"], True), (["--pet", "window"], True),
     (["window"], False), ([], False)],
)
def test_pet_flag_reaches_the_window(
    argv: list[str], pet: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dl_app.desktop import shell

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(shell, "run", lambda **kw: seen.append(kw) or 0)
    assert cli_main(argv) == 0
    assert len(seen) == 1 and seen[0]["pet"] is pet
    assert seen[0]["single_instance"] is True


# -- the desktop -----------------------------------------------------------------------


def test_pet_opens_with_the_pet_flags_and_hides_the_main_window(
    api: Api, data_dir: Path, tmp_path: Path
) -> None:
    desk, web = make_desktop(api, tmp_path)
    desk.tray = fake_tray = FakeTray()
    desk.set_pet(True)
    assert len(web.windows) == 2
    main, pet = web.windows
    for flag, value in PET_FLAGS.items():
        assert pet.kwargs[flag] is value, flag
    assert pet.kwargs["url"].endswith("index.html#pet") and pet.kwargs["js_api"] is api
    assert (pet.kwargs["width"], pet.kwargs["height"]) == PET_SIZE
    # The bottom right of the (fake) 1280 x 800 screen.
    assert pet.kwargs["x"] == FakeScreen.width - PET_SIZE[0] - 24
    assert pet.kwargs["y"] == FakeScreen.height - PET_SIZE[1] - 64
    assert main.calls == ["hide"] and desk.main_hidden
    assert saved_app(data_dir)["pet"] is True and desk.pet_on()
    assert fake_tray.calls == ["refresh"]  # the check mark follows
    # Leaving: the pet hides (kept for next time), the main window comes back.
    desk.set_pet(False)
    assert pet.calls == ["hide"] and main.calls[-2:] == ["show", "restore"]
    assert saved_app(data_dir)["pet"] is False and not desk.pet_on()
    desk.set_pet(True)
    assert len(web.windows) == 2 and pet.calls[-1] == "show"  # the same window again


def test_closing_the_pet_leaves_pet_mode(api: Api, data_dir: Path, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    desk.set_pet(True)
    main, pet = web.windows
    main.done.clear()
    assert pet.close_by_user() is False  # cancelled: hidden, not destroyed
    assert main.done.wait(10)
    deadline = time.monotonic() + 10
    while desk.pet_on() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not desk.pet_on() and "show" in main.calls and "destroy" not in pet.calls
    desk.quit()
    assert pet.calls[-1] == "destroy" and main.calls[-1] == "destroy"


def test_the_place_is_saved_after_a_move_and_used_next_time(
    api: Api, data_dir: Path, tmp_path: Path
) -> None:
    desk, web = make_desktop(api, tmp_path)
    saved = threading.Event()
    original = desk._save_app

    def save(patch: dict[str, Any]) -> None:
        original(patch)
        if "pet_x" in patch:
            saved.set()

    desk._save_app = save
    desk.set_pet(True)
    pet = web.windows[1]
    for x in (500, 420, 300):  # a drag: only where it stopped counts
        pet.events.moved.set(x, 200)
    assert saved.wait(10)
    assert (saved_app(data_dir)["pet_x"], saved_app(data_dir)["pet_y"]) == (300, 200)
    # The fake screen has no name: it is known by its geometry.
    assert saved_app(data_dir)["pet_screen"] == "1280x800+0+0"
    assert saved_app(data_dir)["pet_places"] == [{"screen": "1280x800+0+0", "x": 300, "y": 200}]
    desk.quit()
    again, web2 = make_desktop(api, tmp_path, **saved_app(data_dir))
    again.set_pet(True)
    assert (web2.windows[1].kwargs["x"], web2.windows[1].kwargs["y"]) == (300, 200)


def test_place_keeps_the_pet_on_a_screen() -> None:
    class Screen:
        def __init__(self, x: int, y: int, w: int, h: int) -> None:
            self.x, self.y, self.width, self.height = x, y, w, h

    two = [Screen(0, 0, 1920, 1080), Screen(1920, 0, 1280, 1024)]
    assert place(2500, 300, two) == (2500, 300)  # on the second screen
    assert place(5000, 300, two) == (1920 - 320 - 24, 1080 - 440 - 64)  # screen gone
    assert place(None, None, two) == (1920 - 320 - 24, 1080 - 440 - 64)
    assert place(10, 10, []) == (None, None)


def test_wayland_prefers_xwayland() -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert prefer_x11(env) and env["QT_QPA_PLATFORM"] == "xcb"
    assert not prefer_x11({"WAYLAND_DISPLAY": "wayland-0"})  # no XWayland
    chosen = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}
    assert not prefer_x11(chosen) and chosen["QT_QPA_PLATFORM"] == "wayland"
    assert not prefer_x11({"DISPLAY": ":0"})


def test_tray_toggles_the_pet(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    assert tray.labels("zh")["pet"] == "桌宠模式" and tray.labels("en")["pet"] == "Pet mode"
    assert tray.toggle_pet(desk) is True and len(web.windows) == 2
    assert tray.toggle_pet(desk) is False and not desk.pet_on()


def test_a_second_start_switches_to_the_pet(api: Api, data_dir: Path, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    inst = instance.claim(data_dir, desk.on_command)
    assert inst is not None
    try:
        assert instance.notify(data_dir, "pet", timeout=5)
        deadline = time.monotonic() + 10
        while not desk.pet_on() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert desk.pet_on() and len(web.windows) == 2
    finally:
        inst.close()


# -- the bridge methods of the pet's menu ------------------------------------------------


class FakeShell:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.done = threading.Event()

    def _note(self, call: Any) -> None:
        self.calls.append(call)
        self.done.set()

    def show_main(self) -> None:
        self._note("show")

    def set_pet(self, on: bool) -> None:
        self._note(("pet", on))

    def quit(self) -> None:
        self._note("quit")


def test_menu_methods_in_a_browser_say_they_are_the_desktops(api: Api) -> None:
    for res in (api.window_show(), api.pet_set({"on": False}), api.app_quit()):
        assert res == {"ok": True, "done": False, "reason": "browser"}
    assert not api.pet_set({"on": "maybe"})["ok"]


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [("window_show", None, "show"), ("pet_set", {"on": False}, ("pet", False)),
     ("pet_set", {"on": True}, ("pet", True)), ("app_quit", None, "quit")],
)
def test_menu_methods_drive_the_desktop(api: Api, method: str, params: Any, expected: Any) -> None:
    shell = FakeShell()
    api.attach_shell(shell)
    assert getattr(api, method)(params) == {"ok": True, "done": True}
    assert shell.done.wait(10)
    assert shell.calls == [expected]


# -- the real app under Xvfb -------------------------------------------------------------

# Runs ``dl-app`` with pywebview's create_window recorded: one ``CREATE {json}`` line each.
_RECORD = r"""
import json, sys, webview
original = webview.create_window
def create_window(title, *args, **kw):
    shown = {k: v for k, v in kw.items() if k != "js_api"}
    print("CREATE " + json.dumps({"title": title, **shown}, default=str), flush=True)
    return original(title, *args, **kw)
webview.create_window = create_window
from dl_app.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _lines_until(lines: queue.Queue[str], proc: subprocess.Popen[str], want: Any,
                 timeout: float, seen: list[str]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                return False
            continue
        seen.append(line)
        if want(line):
            return True
    return False


def _created(seen: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line[len("CREATE "):]) for line in seen if line.startswith("CREATE ")]


def _start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _RECORD, *args], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    return proc, lines


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # pywebview's Qt backend quits on SIGINT
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_ready(proc: subprocess.Popen[str], lines: queue.Queue[str], log: Path,
                seen: list[str]) -> None:
    ready = _lines_until(lines, proc, lambda s: s.startswith("Window ready"), 90, seen)
    assert ready, f"not ready: {''.join(seen)[-2000:]} {log.read_text(errors='replace')[-3000:]}"


@needs_display
@pytest.mark.parametrize("argv", [["--pet"], ["window", "--pet"]])
def test_pet_starts_with_the_pet_flags_under_xvfb(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path, argv: list[str]
) -> None:
    env = app_env(xvfb, openai_server, "zh_CN.UTF-8")
    log = tmp_path / "stderr.log"
    proc, lines = _start(argv, env, log)
    seen: list[str] = []
    try:
        _wait_ready(proc, lines, log, seen)  # the pet's page called page_ready
        main, pet = _created(seen)
        assert main["url"].endswith("index.html?lang=zh") and main["hidden"] is True
        for flag, value in XVFB_FLAGS.items():
            assert pet[flag] is value, (flag, pet)
        assert pet["url"].endswith(XVFB_URL) and pet["title"] == "桌宠 · 数字生命"
        if argv == ["--pet"]:  # to look at: Xvfb has no compositor, so no transparency
            SHOTS = Path(os.environ.get("DL_PET_SHOTS", "/tmp/shots-pet"))
            SHOTS.mkdir(parents=True, exist_ok=True)
            grab_screen(xvfb, SHOTS / "xvfb-pet-zh.png")
        assert proc.poll() is None
    finally:
        _stop(proc)


@needs_display
def test_the_pet_comes_back_inside_the_screen_under_xvfb(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    """Left far out on a monitor that is gone: the pet opens inside Xvfb's 1280 x 800
    screen (Qt's real screen list)."""
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    data_dir = Path(env["DL_DATA_DIR"])
    apply_patch(data_dir, {"app": {"pet_screen": "HDMI-9",
                                   "pet_places": [{"screen": "HDMI-9", "x": 3000, "y": 2000}]}})
    log = tmp_path / "stderr.log"
    proc, lines = _start(["--pet"], env, log)
    seen: list[str] = []
    try:
        _wait_ready(proc, lines, log, seen)
        pet = _created(seen)[-1]
        assert pet["url"].endswith(XVFB_URL)
        assert (pet["x"], pet["y"]) == (1280 - PET_SIZE[0], 800 - PET_SIZE[1])
    finally:
        _stop(proc)


@needs_display
def test_the_running_app_switches_to_the_pet_under_xvfb(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    data_dir = Path(env["DL_DATA_DIR"])  # the autouse fixture's
    log = tmp_path / "stderr.log"
    proc, lines = _start(["window"], env, log)
    seen: list[str] = []
    try:
        _wait_ready(proc, lines, log, seen)
        assert [c["url"].rsplit("/", 1)[-1] for c in _created(seen)] == ["index.html?lang=en"]
        # A second start with --pet switches the running app over and exits.
        out = subprocess.run([*DL_APP, "window", "--pet"], env=env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "switched it to the desktop pet" in out.stdout
        assert _lines_until(lines, proc, lambda s: "#pet" in s, 30, seen), "".join(seen)
        pet = _created(seen)[-1]
        for flag, value in XVFB_FLAGS.items():
            assert pet[flag] is value, (flag, pet)
        assert pet["url"].endswith(XVFB_URL) and pet["title"] == "Pet · Digital Life"
        deadline = time.monotonic() + 10
        while not (data_dir / "settings.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert saved_app(data_dir)["pet"] is True
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_the_settings_page_turns_the_pet_on_and_off(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    desk.watch_settings()
    assert api.settings_set({"patch": {"app": {"pet": True}}})["ok"]
    deadline = time.monotonic() + 10
    while not desk.pet_on() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert desk.pet_on() and len(web.windows) == 2
    fields = {f["path"] for f in api.settings_get()["fields"]}
    assert "app.pet" in fields and "app.pet_x" not in fields  # the place is the desktop's
    assert api.settings_set({"patch": {"app": {"pet": False}}})["ok"]
    while desk.pet_on() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not desk.pet_on() and web.windows[1].calls[-1] == "hide"


class PetTools(PageTools):
    """``PageTools`` on the pet's page, plus real input through ``Input.dispatchMouseEvent``."""

    def __init__(self, port: int) -> None:
        super().__init__(port, "#pet")

    def command(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        body = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        assert len(body) < 65536
        if len(body) < 126:
            head = bytes([0x81, 0x80 | len(body)])
        else:
            head = bytes([0x81, 0x80 | 126]) + len(body).to_bytes(2, "big")
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(body)))
        while True:
            reply = self._recv()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return reply.get("result")

    def right_click(self, x: int, y: int) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.command("Input.dispatchMouseEvent",
                         {"type": kind, "x": x, "y": y, "button": "right", "clickCount": 1})


@needs_display
def test_a_drag_moves_the_pet_the_place_is_saved_and_quit_ends_the_app(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    """pywebview's drag region on the avatar moves the real window (its script calls the
    window's move); Qt's move event saves the place. The mouse events are made in the
    page (Xvfb has no input tool here): pywebview's script reads only their positions."""
    port = free_port()
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    data_dir = Path(env["DL_DATA_DIR"])
    log = tmp_path / "stderr.log"
    proc, lines = _start(["--pet"], env, log)
    seen: list[str] = []
    try:
        _wait_ready(proc, lines, log, seen)
        tools = PetTools(port)
        try:
            deadline = time.monotonic() + 30
            while not tools.evaluate("document.documentElement.dataset.ready || ''"):
                assert time.monotonic() < deadline, "the pet page did not start"
                time.sleep(0.2)
            # A right click in the real window opens the pet's own menu (Qt's is off).
            tools.right_click(160, 200)
            deadline = time.monotonic() + 10
            while tools.evaluate("document.querySelector('#pet-menu').hidden"):
                assert time.monotonic() < deadline, "no menu after a right click"
                time.sleep(0.1)
            tools.evaluate("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'})); 1")
            # No compositor: the panel's background, not a black one (pet_desktop.py).
            assert tools.evaluate("document.documentElement.classList.contains('pet-panel')")
            assert tools.evaluate("getComputedStyle(document.body).backgroundColor") in (
                "rgb(255, 255, 255)", "rgb(30, 33, 40)")
            tools.evaluate(
                "(() => { const stage = document.querySelector('.avatar-stage.pywebview-drag-region');"
                " const at = (type, sx, sy, target) => target.dispatchEvent(new MouseEvent(type,"
                " {bubbles: true, clientX: 100, clientY: 200, screenX: sx, screenY: sy}));"
                " at('mousedown', 0, 0, stage); at('mousemove', 700, 350, window);"
                " at('mouseup', 700, 350, window); return 1; })()"
            )
            deadline = time.monotonic() + 15
            place_now: tuple[Any, Any] = (None, None)
            while time.monotonic() < deadline:
                if (data_dir / "settings.json").exists():
                    app = saved_app(data_dir)
                    place_now = (app.get("pet_x"), app.get("pet_y"))
                    if place_now == (600, 150):
                        break
                time.sleep(0.2)
            assert place_now == (600, 150)
            deadline = time.monotonic() + 10  # Qt names Xvfb's one screen "screen"
            while saved_app(data_dir).get("pet_screen") != "screen":
                assert time.monotonic() < deadline, saved_app(data_dir)
                time.sleep(0.1)
            assert saved_app(data_dir)["pet_places"] == [{"screen": "screen", "x": 600, "y": 150}]
            # The menu's "quit": the bridge call closes every window and the app ends.
            assert proc.poll() is None
            tools.evaluate("window.pywebview.api.app_quit(); 1")
        finally:
            tools.close()
        assert proc.wait(30) == 0
    finally:
        _stop(proc)


def test_closing_the_main_window_while_the_pet_is_out_only_hides_it(
    api: Api, tmp_path: Path
) -> None:
    desk, web = make_desktop(api, tmp_path)  # no tray, no close-to-tray
    desk.set_pet(True)
    main, pet = web.windows
    desk.show_main()  # "open the main window" from the pet's menu
    main.done.clear()
    assert main.close_by_user() is False  # cancelled: the pet keeps the app running
    assert main.done.wait(10) and main.calls[-1] == "hide"
    assert "destroy" not in pet.calls and not desk.quitting
    desk.set_pet(False)
    assert main.close_by_user() is True  # no pet, no tray: closing quits as before
    assert desk.quitting and pet.calls[-1] == "destroy"
