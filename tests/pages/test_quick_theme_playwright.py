"""The quick-chat window (``quick.html``) follows the settings live, as the pet
does: a theme chosen in another window, the system's switch while the theme is
"system", and the language. Screenshots go to ``$DL_QUICK_SHOTS`` (default
/tmp/shots-quick)."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from frontend_helpers import TIMEOUT_MS, require_chromium

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

SHOTS = Path(os.environ.get("DL_QUICK_SHOTS", "/tmp/shots-quick"))


def _set(url: str, patch: dict[str, Any]) -> None:
    """``settings_set`` as another window of the app calls it (the main window)."""
    parts = urlsplit(url)
    token = parse_qs(parts.query)["token"][0]
    req = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}/api/call/settings_set",
        data=json.dumps({"patch": patch}).encode(),
        headers={"Content-Type": "application/json", "X-DL-Token": token},
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        assert json.loads(res.read())["ok"] is True


def _quick(browser: Browser, url: str) -> Page:
    parts = urlsplit(url)
    ctx = browser.new_context(viewport={"width": 380, "height": 260}, color_scheme="light",
                              locale="zh-CN")
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{parts.scheme}://{parts.netloc}/quick.html?{parts.query}")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _theme(page: Page) -> str:
    return str(page.evaluate("document.documentElement.dataset.theme"))


def _background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.querySelector('.qc')).backgroundColor"
                             " + '|' + getComputedStyle(document.body).backgroundColor"))


def test_quick_chat_follows_theme_and_language_live(
    browser: Browser, serve: Callable[..., AbstractContextManager[str]]
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve(LANG="zh_CN.UTF-8") as url:
        page = _quick(browser, url)
        html = page.locator("html")
        assert _theme(page) == "light"
        light = _background(page)
        page.screenshot(path=str(SHOTS / "quick-zh-light.png"))

        _set(url, {"theme": "dark"})  # chosen in the main window
        expect(html).to_have_attribute("data-theme", "dark")
        assert _background(page) != light  # the dark colours are in force, not just the flag
        page.screenshot(path=str(SHOTS / "quick-zh-dark.png"))

        _set(url, {"theme": "system"})  # the system is light here
        expect(html).to_have_attribute("data-theme", "light")
        page.emulate_media(color_scheme="dark")  # the system switches
        expect(html).to_have_attribute("data-theme", "dark")
        page.emulate_media(color_scheme="light")
        expect(html).to_have_attribute("data-theme", "light")

        _set(url, {"language": "en", "theme": "dark"})
        expect(page.locator("#quick-input")).to_have_attribute("placeholder", "Say something…")
        expect(html).to_have_attribute("data-theme", "dark")
        assert page.title() == "Quick chat"
        page.screenshot(path=str(SHOTS / "quick-en-dark.png"))

        _set(url, {"language": "auto"})  # the system's language again (zh_CN here)
        expect(page.locator("#quick-input")).to_have_attribute("placeholder", "说点什么…")
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()
