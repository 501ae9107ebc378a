"""Helpers for the browser tests: run the real ``dl-app serve``, and a TCP relay
that plays a model service which goes down and comes back on a fixed port."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SERVE_LINE = "Serving Digital Life at "

# The browser the page tests drive: Debian's Chromium, never a downloaded one.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SHOTS = Path(os.environ.get("DL_SHOTS_DIR", "/tmp/dl-shots"))
TIMEOUT_MS = 30_000


def require_chromium() -> None:
    """Skip the calling test module without Chromium; on CI (which installs
    it) a missing browser is a failure instead."""
    if CHROMIUM.exists():
        from playwright.sync_api import expect

        # Every page test waits for conditions; Playwright's 5 s default is a speed
        # bound that a busy 2-core machine (load 8) misses, so the bound is ours.
        expect.set_options(timeout=TIMEOUT_MS)
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing on CI")
    import pytest

    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium under Playwright (``with chromium() as browser``), with
    ``CHROMIUM_ARGS`` plus ``extra_args``; the browser fixtures of the page tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Opened:
    """A page plus what went wrong in it (JS errors, alert dialogs)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.wait_ready()

    def reload(self) -> None:
        self.page.reload()
        self.wait_ready()

    def wait_ready(self) -> None:
        # The first load starts Live2D on a software GPU: at load 12 that alone took
        # over 30 s once, so this bound (a hang detector) is wider.
        self.page.wait_for_selector("html[data-ready='1']", timeout=3 * TIMEOUT_MS)

    def check_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.dialogs, self.dialogs


LOCALES = {"zh": "zh-CN", "en": "en-US"}


def open_in(
    browser: Any, url: str, *, color_scheme: str = "light", width: int = 1100,
    height: int = 720, lang: str | None = None, locale: str | None = None,
    prepare: Any = None,
) -> Opened:
    """``url`` in a fresh context of ``browser`` (closed with the browser); ``lang``
    ("zh"/"en") sets the browser's language, which the page follows until one is
    chosen; ``prepare(page)`` runs before the page loads (init scripts, routes)."""
    options: dict[str, Any] = {
        "viewport": {"width": width, "height": height},
        "color_scheme": color_scheme,
        "accept_downloads": True,
    }
    if lang or locale:
        options["locale"] = locale or LOCALES[lang or "en"]
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    if prepare is not None:
        prepare(page)
    opened = Opened(page)
    opened.goto(url)
    return opened


def open_settings_tab(
    browser: Any, url: str, lang: str, tab: str, *, prepare: Any = None, height: int = 720,
) -> Opened:
    """The page at ``url`` in ``lang`` (chosen in its menu), on Settings → ``tab``."""
    from playwright.sync_api import expect

    opened = open_in(browser, url, lang=lang, height=height, prepare=prepare)
    page = opened.page
    page.select_option("#lang-select", lang)
    expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
    page.click("#nav-settings")
    page.click(f"#settings-tab-{tab}")
    return opened


def hold_next_call(page: Any, name: str) -> list[Any]:
    """The page's next call of the bridge method ``name`` is held (a Playwright route):
    the list returned gets the route when the call is made; ``continue_()`` lets it go."""
    held: list[Any] = []
    page.route(f"**/api/call/{name}", lambda route: held.append(route), times=1)
    return held


def hold_calls(page: Any, name: str) -> tuple[list[Any], Any]:
    """Every call of the bridge method ``name`` the page makes is held until
    ``release()`` (the second of the pair) lets them all go and stops holding: for a
    method the page may ask more than once (the gauge: at the start, after the history,
    after a greeting), where holding only the next call races with the others."""
    held: list[Any] = []
    pattern = f"**/api/call/{name}"

    def hold(route: Any) -> None:
        held.append(route)

    page.route(pattern, hold)

    def release() -> None:
        for route in list(held):
            route.continue_()
        # Calls held after the loop: unroute hands them on (Playwright lets a removed
        # handler's pending routes fall through to the network).
        page.unroute(pattern, hold)

    return held, release


def wait_held(page: Any, held: list[Any], what: str) -> Any:
    """The held route once the page has made the call (a minute at most: a page that
    never makes it)."""
    for _ in range(1200):
        if held:
            return held[0]
        page.wait_for_timeout(50)
    raise AssertionError(f"the page did not ask for {what}")


def choose_lang(page: Any, lang: str) -> None:
    """Choose ``lang`` in the header and wait until it is saved and the page has asked
    for the app's state again (``switchLang``: settings_set, then app_info), after
    which the forms are drawn with it: what a test finds in a form before that may be
    replaced under its hands."""
    with page.expect_response(lambda r: r.url.endswith("/api/call/app_info")), \
            page.expect_response(lambda r: r.url.endswith("/api/call/settings_set")):
        page.select_option("#lang-select", lang)


# The avatar has settled: Live2D drawn, or the SVG face with the reason why not.
SETTLED = "window.dlAvatar && ['live2d', 'fallback'].includes(window.dlAvatar.state)"


def settle(page: Any, state: str = "live2d") -> None:
    page.wait_for_function(SETTLED, timeout=60_000)
    assert page.evaluate("dlAvatar.state") == state, page.evaluate("dlAvatar.reason")


def is_chat(request: Any) -> bool:
    """A recorded request of the conversation (not housekeeping)."""
    from servers.companion import purpose_of

    return purpose_of(request) == "chat"


def free_port() -> int:
    """A port nothing listens on (bound then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dl_serve(
    data_dir: Path,
    llm_base_url: str,
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Start ``dl-app serve --no-browser --port 0``; yield the URL it prints (with the token)."""
    env = dict(os.environ)
    env.update(
        {
            "DL_DATA_DIR": str(data_dir),
            "DL_LLM_BASE_URL": llm_base_url,
            "DL_LLM_MODEL": "qwen-test",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "dl_app", "serve", "--no-browser", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()
    err: list[str] = []

    def pump_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def pump_err() -> None:
        assert proc.stderr is not None
        err.extend(proc.stderr)

    threading.Thread(target=pump_out, daemon=True).start()
    threading.Thread(target=pump_err, daemon=True).start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"dl-app serve printed no URL; stderr: {''.join(err)}"
                ) from None
            if line is None:
                proc.wait(5)
                raise AssertionError(
                    f"dl-app serve exited ({proc.returncode}); stderr: {''.join(err)}"
                )
            if line.startswith(SERVE_LINE):
                url = line[len(SERVE_LINE) :].strip()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Relay:
    """Listens on ``port`` once started and forwards every connection to ``target_port``.
    Before ``start()`` the port is closed, so clients get "connection refused"."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port = port
        self.target_port = target_port
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        sock.settimeout(0.2)
        self._sock = sock
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
