"""The tray's actions and the desktop they drive.

The actions are plain functions over the desktop (``dl_app.desktop.window.Desktop``). Here
the desktop runs on a fake pywebview module whose windows record what is done to them
(no GUI loop in a unit test) but fire pywebview's own ``Event`` objects, so closing a
window is cancelled exactly as pywebview does it. The bridge and the settings change
are real (``Api`` on a tmp data dir, ``settings.json`` on disk, autostart files in a
tmp HOME). The Qt menu is built for real on Qt's offscreen platform in a child
process; the quick-chat window runs for real under Xvfb at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from webview.event import Event

from dl_app.bridge import Api
from dl_app.desktop import tray
from dl_app.desktop.autostart import Autostart
from dl_app.desktop.loading import COLOURS
from dl_app.desktop.pet_desktop import PetDesktop
from dl_app.desktop.shell import Emitter
from dl_app.desktop.window import BACKGROUND, Desktop
from dl_app.paths import frontend_dir
from dl_app.settings import AppSettings


class FakeEvents:
    def __init__(self, window: FakeWindow) -> None:
        self.loaded = Event(window)
        self.closing = Event(window, True)  # as pywebview: handlers run in line
        self.closed = Event(window)
        self.moved = Event(window)
        self.before_show = Event(window, True)


class FakeWindow:
    """Records the pywebview ``Window`` calls the desktop makes."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.calls: list[str] = []
        self.scripts: list[str] = []
        self.titles: list[str] = []
        self.events = FakeEvents(self)
        self.done = threading.Event()

    def _record(self, name: str) -> None:
        self.calls.append(name)
        self.done.set()

    def show(self) -> None:
        self._record("show")

    def hide(self) -> None:
        self._record("hide")

    def restore(self) -> None:
        self._record("restore")

    def destroy(self) -> None:
        self._record("destroy")

    def evaluate_js(self, script: str) -> None:
        self.scripts.append(script)

    def set_title(self, title: str) -> None:
        self.titles.append(title)

    def close_by_user(self) -> bool:
        """The title bar's close button: True when the close went ahead."""
        cancelled = self.events.closing.set()
        if not cancelled:
            self.events.closed.set()
        return not cancelled


class FakeScreen:
    width, height = 1280, 800


class FakeWebview:
    def __init__(self) -> None:
        self.screens = [FakeScreen()]
        self.windows: list[FakeWindow] = []

    def create_window(self, title: str, **kwargs: Any) -> FakeWindow:
        window = FakeWindow(title=title, **kwargs)
        self.windows.append(window)
        return window


class FakeTray:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def refresh(self) -> None:
        self.calls.append("refresh")

    def notify(self, text: str) -> None:
        self.calls.append(f"notify {text}")

    def set_lang(self, lang: str) -> None:
        self.calls.append(f"lang {lang}")


# An X11 desktop with a compositor: the fake desktop does not ask the real display.
COMPOSITED = PetDesktop("linux", False, "xcb", True, True)


def make_desktop(api: Any, tmp_path: Path, *, pet_desktop: PetDesktop = COMPOSITED,
                 **app: Any) -> tuple[Desktop, FakeWebview]:
    web = FakeWebview()
    desk = Desktop(
        web, api, Emitter(), frontend_dir(), app_settings=AppSettings(**app), lang="zh",
        autostart=Autostart(platform="linux", env={"HOME": str(tmp_path / "home")},
                            command=["/opt/digital-life/dl-app", "window", "--tray"]),
        pet_desktop=pet_desktop,
    )
    desk.create_main("数字生命", (1100, 720), (800, 600))
    return desk, web


def test_open_shows_and_raises_the_main_window(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    main = web.windows[0]
    assert main.kwargs["url"].endswith("index.html?lang=zh") and main.kwargs["js_api"] is api
    tray.open_main(desk)
    assert main.calls == ["show", "restore"]
    assert main.scripts == []


def test_windows_open_on_the_page_background_of_the_theme(api: Api, tmp_path: Path) -> None:
    """Before the page paints, a window shows the page's own background (no white
    flash in a dark theme): the colours are ``--bg`` of frontend/css/app.css."""
    css = (frontend_dir() / "css" / "app.css").read_text(encoding="utf-8")
    bgs = re.findall(r"--bg:\s*(#[0-9a-fA-F]{6})", css)
    assert bgs[:2] == [BACKGROUND["light"], BACKGROUND["dark"]]
    for name in ("muted", "border", "accent"):  # the native loading state's (loading.py)
        found = re.findall(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", css)
        assert found[:2] == [COLOURS["light"][name], COLOURS["dark"][name]], name
    for theme, colour in (("dark", bgs[1]), ("light", bgs[0]), ("system", bgs[0])):
        web = FakeWebview()
        desk = Desktop(web, api, Emitter(), frontend_dir(), app_settings=AppSettings(),
                       lang="en", theme=theme)
        desk.create_main("Digital Life", (1100, 720), (800, 600))
        tray.quick_chat(desk)
        assert [w.kwargs["background_color"] for w in web.windows] == [colour, colour]
        # the page's loading state, in the theme and language
        query = "?lang=en" if theme == "system" else f"?theme={theme}&lang=en"
        assert web.windows[0].kwargs["url"].endswith("index.html" + query)
        assert web.windows[1].kwargs["url"].endswith("quick.html" + query)


def test_quick_chat_opens_one_always_on_top_window(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    tray.quick_chat(desk)
    assert len(web.windows) == 2
    quick = web.windows[1]
    assert quick.kwargs["on_top"] is True
    assert quick.kwargs["url"].endswith("quick.html?lang=zh")  # its first paint in it
    assert Path(quick.kwargs["url"].split("?")[0]).is_file()
    assert quick.kwargs["js_api"] is api  # the same bridge as the main window
    assert quick.kwargs["title"] == "快速聊天 · 数字生命"
    assert quick.kwargs["x"] + quick.kwargs["width"] <= 1280
    tray.quick_chat(desk)  # again: the same window comes back
    assert len(web.windows) == 2 and quick.calls == ["show", "restore"]
    # Closing it only hides it, for the next quick chat.
    assert quick.close_by_user() is False
    assert quick.done.wait(5) and "hide" in quick.calls


def test_close_to_tray_hides_instead_of_quitting(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path, close_to_tray=True)
    main = web.windows[0]
    desk.tray = FakeTray()
    assert main.close_by_user() is False  # cancelled
    assert main.done.wait(5) and main.calls == ["hide"]
    # A reply while hidden (a quick chat): the main page reloads its history on open.
    desk.note_event("chat.delta")
    desk.note_event("chat.done")
    tray.open_main(desk)
    assert main.scripts == ["location.reload()"]
    tray.open_main(desk)
    assert main.scripts == ["location.reload()"]  # only once


def test_a_check_in_while_hidden_is_a_notification(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path, close_to_tray=True)
    desk.tray = fake = FakeTray()
    desk.note_event("chat.checkin", {"text": "考试怎么样？"})  # the window is shown: no
    assert fake.calls == []
    assert web.windows[0].close_by_user() is False
    desk.note_event("chat.checkin", {"text": "考试怎么样？"})
    assert fake.calls == ["notify 考试怎么样？"]
    tray.open_main(desk)
    assert web.windows[0].scripts == ["location.reload()"]  # the page shows it too


def test_close_without_tray_quits_everything(api: Api, tmp_path: Path) -> None:
    # close_to_tray is on, but this desktop has no tray: closing must really quit.
    desk, web = make_desktop(api, tmp_path, close_to_tray=True)
    tray.quick_chat(desk)
    main, quick = web.windows
    assert main.close_by_user() is True
    assert desk.quitting and quick.calls == ["destroy"]


def test_quit_closes_windows_and_tray(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path, close_to_tray=True)
    desk.tray = fake = FakeTray()
    tray.quick_chat(desk)
    tray.quit_app(desk)
    assert fake.calls == ["stop"]
    assert [w.calls[-1] for w in web.windows] == ["destroy", "destroy"]
    # pywebview closes them: the close-to-tray rule no longer cancels.
    assert all(w.close_by_user() for w in web.windows)
    tray.open_main(desk)  # after quit nothing reopens
    assert web.windows[0].calls == ["destroy"]


def test_run_action_runs_off_the_calling_thread(api: Api, tmp_path: Path) -> None:
    desk, web = make_desktop(api, tmp_path)
    caller = threading.get_ident()
    seen: list[int] = []
    finished = threading.Event()
    web.windows[0].show = lambda: seen.append(threading.get_ident())  # type: ignore[method-assign]
    tray.run_action(desk, "open", after=finished.set)
    assert finished.wait(10)
    assert seen and seen[0] != caller


def test_mute_without_a_voice_setting_is_left_out(api: Api, tmp_path: Path) -> None:
    desk, _ = make_desktop(api, tmp_path)
    has_voice = "voice" in api.settings_get()["settings"]
    if has_voice:  # the voice feature is merged: the real setting flips
        before = tray.muted(desk)
        assert tray.toggle_mute(desk) is (not before)
        assert tray.muted(desk) is (not before)
    else:
        assert tray.muted(desk) is None
        assert tray.toggle_mute(desk) is None


def test_toggle_flips_a_real_setting(
    api: Api, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mute toggle's read-flip-save path on a boolean setting that exists on
    every branch (``app.close_to_tray`` stands in for ``voice.tts_enabled``)."""
    monkeypatch.setattr(tray, "MUTE_PATH", "app.close_to_tray")
    desk, _ = make_desktop(api, tmp_path)
    assert tray.muted(desk) is True  # close_to_tray False = "muted"
    assert tray.toggle_mute(desk) is False
    saved = json.loads((data_dir / "settings.json").read_text(encoding="utf-8"))
    assert saved["app"]["close_to_tray"] is True
    assert tray.toggle_mute(desk) is True
    saved = json.loads((data_dir / "settings.json").read_text(encoding="utf-8"))
    assert saved["app"]["close_to_tray"] is False


def test_start_on_login_setting_writes_the_entry(api: Api, tmp_path: Path) -> None:
    desk, _ = make_desktop(api, tmp_path)
    desk.watch_settings()
    entry = tmp_path / "home" / ".config" / "autostart" / "digital-life.desktop"
    res = api.settings_set({"patch": {"app": {"start_on_login": True}}})
    assert res["ok"], res
    assert entry.is_file()
    assert "Exec=/opt/digital-life/dl-app window --tray" in entry.read_text()
    assert desk.app_settings.start_on_login is True
    bad = api.settings_set({"patch": {"app": {"start_on_login": "sometimes"}}})
    assert not bad["ok"] and entry.is_file()  # invalid: nothing changes
    assert api.settings_set({"patch": {"app": {"start_on_login": False}}})["ok"]
    assert not entry.exists()
    # Turning the tray off hides it now.
    desk.tray = fake = FakeTray()
    assert api.settings_set({"patch": {"app": {"tray_enabled": False}}})["ok"]
    assert fake.calls == ["stop"] and desk.tray is None


def test_a_language_change_reaches_the_tray_and_the_windows(api: Api, tmp_path: Path) -> None:
    """The tray menu and the quick chat's title stayed in the language the app started
    in after the page switched it (English items in a Chinese app until a restart);
    a window opened after a theme change showed the old theme first."""
    desk, web = make_desktop(api, tmp_path)  # started in Chinese
    desk.watch_settings()
    desk.tray = fake = FakeTray()
    tray.quick_chat(desk)
    quick = web.windows[1]
    assert api.settings_set({"patch": {"language": "en"}})["ok"]
    assert desk.lang == "en" and fake.calls == ["lang en"]
    assert quick.titles == ["Quick chat · Digital Life"]
    assert desk.page_query.endswith("lang=en")  # a reload's loading state reads in it
    assert api.settings_set({"patch": {"theme": "dark"}})["ok"]
    assert fake.calls == ["lang en"]  # the same language: nothing to change
    # A window opened from now on shows the new theme before its page paints.
    assert desk.page_query == "?theme=dark&lang=en"
    assert desk.background == BACKGROUND["dark"]
    assert api.settings_set({"patch": {"language": "zh"}})["ok"]
    assert desk.lang == "zh" and fake.calls == ["lang en", "lang zh"]
    assert quick.titles[-1] == "快速聊天 · 数字生命"


def test_app_settings_are_described_in_both_languages(api: Api) -> None:
    res = api.settings_get()
    fields = {f["path"]: f for f in res["fields"]}
    for path in ("app.tray_enabled", "app.close_to_tray", "app.start_on_login"):
        assert fields[path]["type"] == "boolean"
        assert fields[path]["label"]["zh"] != fields[path]["label"]["en"]
        assert fields[path]["help"]["zh"] and fields[path]["help"]["en"]
    assert res["settings"]["app"] == {
        "tray_enabled": True, "close_to_tray": False, "start_on_login": False,
        "pet": False, "pet_x": None, "pet_y": None, "pet_screen": None, "pet_places": [],
    }


# -- the Qt menu, offscreen ----------------------------------------------------------

QT_MENU = textwrap.dedent(
    """
    import json, sys, threading, time
    from qtpy.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    from dl_app.desktop import tray

    class Host:
        def __init__(self):
            self.calls = []
            self.muted = False
            self.gets = 0
            self.api = self
        def settings_get(self, _p=None):
            self.gets += 1
            voice = {"tts_enabled": not self.muted}
            return {"ok": True, "settings": {"voice": voice} if sys.argv[2] == "voice" else {}}
        def settings_set(self, p):
            self.muted = not p["patch"]["voice"]["tts_enabled"]
            self.calls.append("mute" if self.muted else "unmute")
            return {"ok": True}
        def show_main(self): self.calls.append("open")
        def show_quick(self): self.calls.append("quick")
        def pet_on(self): return self.calls.count("pet") % 2 == 1
        def set_pet(self, on): self.calls.append("pet")
        def quit(self): self.calls.append("quit")

    host = Host()
    t = tray.QtTray(host, sys.argv[1])
    t.start()  # reads the mute state on a worker thread, then shows or hides the item
    deadline = time.time() + 10
    while time.time() < deadline and (host.gets < 1 or any(
            th.name == "dl-tray-refresh" for th in threading.enumerate())):
        app.processEvents(); time.sleep(0.02)
    app.processEvents()  # the refresh's poke, queued before its thread ended
    t.notify("考试怎么样？")  # a check-in while hidden: must not fail, from any thread
    out = {"labels": [a.text() for a in t.menu.actions() if not a.isSeparator()],
           "mute_visible": t.actions["mute"].isVisible()}
    for name in ("open", "quick", "pet", "mute", "quit"):
        t.actions[name].trigger()
        deadline = time.time() + 10
        while len(host.calls) < ["open", "quick", "pet", "mute", "quit"].index(name) + 1:
            app.processEvents(); time.sleep(0.02)
            if time.time() > deadline: break
    for _ in range(20):
        app.processEvents(); time.sleep(0.02)
    out["calls"] = host.calls
    out["mute_checked"] = t.actions["mute"].isChecked()
    out["pet_checked"] = t.actions["pet"].isChecked()
    other = "en" if sys.argv[1] == "zh" else "zh"
    threading.Thread(target=t.set_lang, args=(other,)).start()  # from a worker thread
    deadline = time.time() + 10
    while t.actions["quit"].text() != tray.LABELS[other]["quit"] and time.time() < deadline:
        app.processEvents(); time.sleep(0.02)
    out["relabelled"] = [a.text() for a in t.menu.actions() if not a.isSeparator()]
    out["tooltip"] = t.icon.toolTip()
    print(json.dumps(out, ensure_ascii=False))
    """
)


def _qt_missing() -> str | None:
    import importlib.util

    if not sys.platform.startswith("linux"):
        return "the Qt tray is the Linux backend"
    return None if importlib.util.find_spec("PySide6") else "PySide6 is not installed"


@pytest.mark.skipif(_qt_missing() is not None, reason=_qt_missing() or "")
@pytest.mark.parametrize(("lang", "voice"), [("zh", "voice"), ("en", "novoice")])
def test_qt_tray_menu_offscreen(lang: str, voice: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    out = subprocess.run(
        [sys.executable, "-c", QT_MENU, lang, voice],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["labels"] == [tray.LABELS[lang][k] for k in tray.MENU]
    other = "en" if lang == "zh" else "zh"
    assert result["relabelled"] == [tray.LABELS[other][k] for k in tray.MENU]
    assert result["tooltip"] == tray.LABELS[other]["tooltip"]
    assert result["pet_checked"] is True  # the refresh after the toggle
    if voice == "voice":
        assert result["mute_visible"] is True
        assert result["calls"] == ["open", "quick", "pet", "mute", "quit"]
        assert result["mute_checked"] is True  # the refresh after the toggle
    else:  # no voice setting: the item is hidden and the toggle does nothing
        assert result["mute_visible"] is False
        assert result["calls"] == ["open", "quick", "pet", "quit"]


# -- the quick-chat window for real (Xvfb) -----------------------------------------

from test_window import (  # noqa: E402
    DevTools,
    app_env,
    free_port,
    grab_screen,
    needs_display,
    running,
    wait_ready,
    xvfb,
)

from servers.openai_compat import ChatReply, OpenAICompatServer  # noqa: E402

__all__ = ["xvfb"]  # the fixture, imported for the test below


class PageTools(DevTools):
    """``DevTools`` on the page whose URL contains ``part`` (the quick-chat window)."""

    def __init__(self, port: int, part: str, timeout: float = 30.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10) as r:
                targets = json.load(r)
            if any(part in t.get("url", "") for t in targets if t.get("type") == "page"):
                break
            assert time.monotonic() < deadline, f"no page with {part!r}: {targets}"
            time.sleep(0.3)
        real_urlopen = urllib.request.urlopen

        class _Only:  # DevTools.__init__ takes the first page: show it only ours
            def __init__(self, *a: Any, **k: Any) -> None:
                self.r = real_urlopen(*a, **k)

            def __enter__(self) -> Any:
                data = json.load(self.r)
                import io

                picked = [t for t in data if part in t.get("url", "")]
                return io.BytesIO(json.dumps(picked).encode())

            def __exit__(self, *exc: Any) -> None:
                self.r.close()

        urllib.request.urlopen = _Only  # type: ignore[assignment]
        try:
            super().__init__(port)
        finally:
            urllib.request.urlopen = real_urlopen


@needs_display
@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
def test_quick_chat_window_sends_and_shows_the_reply(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path, lang: str
) -> None:
    """A second start asks for quick chat (as the tray does); the small window sends a
    message through the shared bridge and shows the streamed reply as text."""
    from dl_app.desktop import instance

    zh = lang.startswith("zh")
    reply = "<b>你好！</b>我在这里。" if zh else "<b>Hi!</b> I am here."
    openai_server.enqueue(ChatReply(content=reply))
    port = free_port()
    env = app_env(xvfb, openai_server, lang)
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    log = tmp_path / "stderr.log"
    with running([], env, log) as (proc, lines):
        wait_ready(proc, lines, log)
        assert instance.notify(Path(env["DL_DATA_DIR"]), "quick")
        tools = PageTools(port, "quick.html")
        try:
            deadline = time.monotonic() + 30
            while not tools.evaluate("(document.body && document.body.dataset.ready) || ''"):
                assert time.monotonic() < deadline, "quick.html did not start"
                time.sleep(0.2)
            state = tools.evaluate(
                "({placeholder: document.querySelector('#quick-input').placeholder,"
                " send: document.querySelector('#quick-send').textContent,"
                " voiceHidden: document.querySelector('#quick-voice').hidden,"
                " voice: document.body.dataset.voice, title: document.title})"
            )
            tools.evaluate(
                "const i = document.querySelector('#quick-input'); i.value = 'hello quick';"
                "i.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true})); 1"
            )
            text = ""
            while time.monotonic() < deadline:
                text = tools.evaluate("document.querySelector('#quick-reply').textContent")
                if text == reply:
                    break
                time.sleep(0.3)
            html = tools.evaluate("document.querySelector('#quick-reply').innerHTML")
        finally:
            tools.close()
        main = PageTools(port, "index.html")  # the main window shows the quick turn too
        try:
            in_main = ""
            while time.monotonic() < deadline and "hello quick" not in in_main:
                time.sleep(0.3)
                in_main = main.evaluate("document.querySelector('#messages').textContent")
        finally:
            main.close()
        time.sleep(0.5)
        shot = tmp_path / f"quick-{lang[:2]}.png"
        grab_screen(xvfb, shot)
        assert proc.poll() is None
    keep = os.environ.get("WINDOW_TEST_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / shot.name).write_bytes(shot.read_bytes())
    assert text == reply
    assert "hello quick" in in_main and reply in in_main, in_main
    assert "<b>" not in html.replace("&lt;b&gt;", "")  # the model's markup stays text
    assert openai_server.chat_requests[-1].body["messages"][-1]["content"] == "hello quick"
    assert state["placeholder"] == ("说点什么…" if zh else "Say something…")
    assert state["send"] == ("发送" if zh else "Send")
    assert state["title"] == ("快速聊天" if zh else "Quick chat")
    if state["voice"] == "off":  # no frontend/js/voice/ on this branch: no button
        assert state["voiceHidden"] is True
    else:
        assert state["voiceHidden"] is False


# Each top-level window's title as the window manager reads it (_NET_WM_NAME), and the
# quick-chat page before the bridge answers (a bridge that waits for a file).
_TITLES = r"""
import ctypes, ctypes.util, json, sys
x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
p, ul = ctypes.c_void_p, ctypes.c_ulong
x.XOpenDisplay.argtypes, x.XOpenDisplay.restype = [ctypes.c_char_p], p
x.XDefaultRootWindow.argtypes, x.XDefaultRootWindow.restype = [p], ul
x.XInternAtom.argtypes, x.XInternAtom.restype = [p, ctypes.c_char_p, ctypes.c_int], ul
x.XQueryTree.argtypes = [p, ul, ctypes.POINTER(ul), ctypes.POINTER(ul),
                         ctypes.POINTER(ctypes.POINTER(ul)), ctypes.POINTER(ctypes.c_uint)]
x.XGetWindowProperty.argtypes = [p, ul, ul, ctypes.c_long, ctypes.c_long, ctypes.c_int, ul,
    ctypes.POINTER(ul), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ul), ctypes.POINTER(ul),
    ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
dpy = x.XOpenDisplay(None)
name, utf8 = x.XInternAtom(dpy, b"_NET_WM_NAME", 0), x.XInternAtom(dpy, b"UTF8_STRING", 0)
root_r, parent, kids, n = ul(), ul(), ctypes.POINTER(ul)(), ctypes.c_uint()
x.XQueryTree(dpy, x.XDefaultRootWindow(dpy), root_r, parent, kids, n)
titles = []
for i in range(n.value):
    kind, fmt, count, rest = ul(), ctypes.c_int(), ul(), ul()
    data = ctypes.POINTER(ctypes.c_ubyte)()
    if x.XGetWindowProperty(dpy, kids[i], name, 0, 1024, 0, utf8, kind, fmt, count, rest,
                            data) == 0 and count.value:
        titles.append(bytes(data[:count.value]).decode("utf-8"))
print(json.dumps(titles, ensure_ascii=False))
"""

_WAITING_BRIDGE = r"""
import sys, time
from pathlib import Path
from dl_app.desktop import shell

def factory(emit):
    gate, deadline = Path(sys.argv[1]), time.monotonic() + 120
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    from dl_app.bridge.api import Api
    return Api(emit=emit)

sys.exit(shell.run(single_instance=True, api_factory=factory))
"""


def window_titles(display: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _TITLES], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, timeout=30, check=True)
    titles: list[str] = json.loads(out.stdout)
    return titles


@needs_display
@pytest.mark.parametrize(("lang", "theme"), [("en_US.UTF-8", "dark"), ("zh_CN.UTF-8", "light")])
def test_quick_chat_paints_in_the_theme_and_language_before_the_bridge_answers(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path, lang: str, theme: str
) -> None:
    """The quick-chat window's first page is in the app's theme and language (it was
    light and Chinese, then switched once the bridge answered), and its title is its
    own (Qt added " — 数字生命 Digital Life" to it, Chinese in an English window)."""
    from dl_app.desktop import instance

    zh = lang.startswith("zh")
    data = Path(os.environ["DL_DATA_DIR"])
    (data / "settings.json").write_text(json.dumps({"theme": theme}), encoding="utf-8")
    port = free_port()
    env = app_env(xvfb, openai_server, lang)
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    gate = tmp_path / "bridge-may-load"
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", _WAITING_BRIDGE, str(gate)], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # the main page is up, so the desktop is made and hears a second start
            try:
                PageTools(port, "index.html").close()
                break
            except OSError:  # the DevTools port is not open yet
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        while not instance.notify(data, "quick"):  # the running app opens quick chat
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        tools = PageTools(port, "quick.html")
        try:
            state: dict[str, Any] = {}
            while not state.get("send"):
                assert time.monotonic() < deadline, state
                time.sleep(0.2)
                state = tools.evaluate(
                    "document.readyState === 'complete' && ({"
                    " theme: document.documentElement.dataset.theme || '',"
                    " bg: getComputedStyle(document.body).backgroundColor,"
                    " placeholder: document.querySelector('#quick-input').placeholder,"
                    " send: document.querySelector('#quick-send').textContent,"
                    " empty: document.querySelector('#quick-reply').textContent})"
                ) or {}
        finally:
            tools.close()
        titles = window_titles(xvfb)
        assert not gate.exists() and proc.poll() is None  # still before the bridge
    finally:
        gate.touch()
        # SIGINT does not end it while the bridge has not loaded (nothing of the app's is
        # checked past here).
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    bg = BACKGROUND[theme].lstrip("#")
    assert state["bg"] == "rgb({}, {}, {})".format(*(int(bg[i:i + 2], 16) for i in (0, 2, 4)))
    assert state["theme"] == theme
    assert state["placeholder"] == ("说点什么…" if zh else "Say something…")
    assert state["send"] == ("发送" if zh else "Send")
    assert state["empty"] == ("还没有回复。说点什么吧。" if zh else "No reply yet. Say something.")
    quick = "快速聊天 · 数字生命" if zh else "Quick chat · Digital Life"
    assert quick in titles and "数字生命 Digital Life" in titles, titles
    assert not any("—" in title for title in titles), titles
