"""Settings → Other holds options only the desktop app acts on (tray icon, closing to
the tray, starting on login, the desktop pet). In a browser (``dl-app serve``) they
show disabled, under a note that they are the desktop app's; the desktop window (here:
the same page with pywebview's ``js_api`` played by a shim over the HTTP bridge) keeps
them as they were.

Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from frontend_helpers import SHOTS, Opened, open_settings_tab, require_chromium

require_chromium()

from playwright.sync_api import Browser, Page, Route, expect  # noqa: E402

DESKTOP_FIELDS = ["app.tray_enabled", "app.close_to_tray", "app.start_on_login", "app.pet"]
NOTE = {"zh": "这些选项属于桌面应用", "en": "These options are for the desktop app"}
SAVED = {"zh": "已保存。", "en": "Saved."}

# pywebview's window.pywebview.api, played over the page's own HTTP bridge.
PYWEBVIEW_SHIM = """
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const call = async (name, params) => (await fetch(`/api/call/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-DL-Token": token },
    body: JSON.stringify(params || {}),
  })).json();
  const api = new Proxy({}, { get: (_t, name) => (name === "then" ? undefined : (p) => call(name, p)) });
  window.pywebview = { api };
})();
"""


def as_window(route: Route) -> None:
    """The page as the desktop window loads it: without the browser's transport tag."""
    body = route.fetch().text().replace('<meta name="dl-transport" content="http">', "")
    route.fulfill(body=body, content_type="text/html; charset=utf-8")


def open_settings(browser: Browser, url: str, lang: str, *, window: bool) -> Opened:
    def as_desktop(page: Page) -> None:
        page.add_init_script(PYWEBVIEW_SHIM)
        page.route(lambda u: urlsplit(u).path in ("/", "/index.html"), as_window)

    return open_settings_tab(browser, url, lang, "other", height=800,
                             prepare=as_desktop if window else None)


def rows(page: Page) -> Any:
    return [page.locator(f".field[data-path='{p}']") for p in DESKTOP_FIELDS]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_in_a_browser_the_desktop_options_show_disabled_with_a_note(
    browser: Browser, serve: Any, lang: str
) -> None:
    with serve() as url:
        o = open_settings(browser, url, lang, window=False)
        page = o.page
        note = page.locator("#settings-desktop-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text(NOTE[lang])
        for row in rows(page):
            expect(row).to_be_visible()
            expect(row.locator("input, select")).to_be_disabled()
            expect(row.locator(".reset-btn")).to_be_hidden()
        expect(page.locator("#settings-other .form-actions")).to_have_count(0)  # nothing to save
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"settings-other-browser-{lang}.png"))
        # Other sections are as they were.
        page.click("#settings-tab-llm")
        expect(page.locator("#settings-desktop-note")).to_have_count(0)
        expect(page.locator("#f-llm-temperature")).to_be_enabled()
        o.check_clean()
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_in_the_desktop_window_the_desktop_options_stay_usable(
    browser: Browser, serve: Any, data_dir: Any, lang: str
) -> None:
    with serve() as url:
        o = open_settings(browser, url, lang, window=True)
        page = o.page
        assert page.evaluate("async () => (await import('/js/transport.js')).mode") == "pywebview"
        expect(page.locator("#settings-desktop-note")).to_have_count(0)
        for row in rows(page):
            expect(row.locator("input, select")).to_be_enabled()
        page.check("#f-app-close_to_tray")
        page.click("#settings-other .form-actions button[type=submit]")
        expect(page.locator("#settings-other .form-status")).to_have_text(SAVED[lang])
        saved = page.evaluate(
            "async () => (await (await import('/js/transport.js')).call('settings_get')).settings.app"
        )
        assert saved["close_to_tray"] is True
        o.check_clean()
        page.context.close()
