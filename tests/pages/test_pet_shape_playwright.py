"""The desktop pet's page and what the desktop says about it, in Chromium against the
real ``dl-app serve``: the shape the pet sends (``frontend/js/pet_shape.js``; the
desktop's side is ``tests/desktop/test_pet_shape.py``), the panel's background where
no compositor runs, and the desktop's notes under the pet switch in Settings (zh, en).
The desktop's answers are played by the test (``page.route``): a browser has no
desktop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import dl_serve, open_in, require_chromium, settle
from servers.openai_compat import OpenAICompatServer

require_chromium()

from playwright.sync_api import Browser, Page, Route, expect  # noqa: E402

from dl_app.desktop.pet_desktop import PetDesktop, notes  # noqa: E402

CHROMIUM_EXTRA = ("--enable-unsafe-swiftshader",)  # WebGL: the Live2D model
PET = {"width": 320, "height": 440}


def pet_url(url: str, extra: str = "") -> str:
    return f"{url}{'&' if '?' in url else '?'}pet=1{extra}"


def covers(rects: list[list[int]], box: list[float]) -> bool:
    x, y, w, h = box
    return any(rx <= x and ry <= y and x + w <= rx + rw and y + h <= ry + rh
               for rx, ry, rw, rh in rects)


def box_of(page: Page, script: str) -> list[float]:
    return page.evaluate(f"(() => {{ const r = {script}; return [r.left, r.top, r.width, r.height]; }})()")


def until(page: Page, check: Any, what: str) -> None:
    """Waits for ``check()`` (the page sends within a frame, or at its next look)."""
    for _ in range(150):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(what)


def test_the_pet_sends_where_it_draws(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    shapes: list[dict[str, Any]] = []

    def desktop(route: Route) -> None:  # a desktop that can: it keeps being told
        shapes.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(json={"ok": True, "done": True})

    def latest() -> list[list[int]]:
        return shapes[-1]["rects"] if shapes else []

    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url), **PET)
        page = opened.page
        page.route("**/api/call/pet_shape", desktop)
        opened.reload()
        settle(page)
        page.wait_for_function("dlAvatar.state === 'live2d' && dlAvatar.silhouette(12).length > 5")
        # Each shape the page sends, with the rows of the model as drawn at that moment.
        page.evaluate("""(() => {
          const rows = dlAvatar.silhouette;
          dlAvatar.silhouette = (cell) => (window.__rows = rows(cell));
          const send = window.fetch;
          window.__sent = [];
          window.fetch = (url, init) => {
            if (String(url).includes('/pet_shape') && window.__rows)
              __sent.push({rows: __rows, shape: JSON.parse(init.body).rects});
            return send(url, init);
          };
          return 1; })()""")
        until(page, lambda: page.evaluate("__sent.length") > 0, "no shape sent")
        sent = page.evaluate("__sent[0]")
        rects = sent["shape"]
        assert len(sent["rows"]) > 5
        inside = [[x, y, w, min(h, PET["height"] - y)] for x, y, w, h in sent["rows"]
                  if y < PET["height"]]  # the model may reach below the window
        missed = [row for row in inside if not covers(rects, row)]
        assert not missed, (missed, rects)
        assert len(rects) <= 32 and shapes[-1]["scale"] == 1
        assert all(x >= 0 and y >= 0 and x + w <= PET["width"] and y + h <= PET["height"]
                   for x, y, w, h in rects), rects
        # Beside the model the desktop gets the clicks: the corners are left out.
        corners = [[1, 1, 1, 1], [PET["width"] - 2, 1, 1, 1]]
        assert not any(covers(rects, c) for c in corners), rects
        # The right-click menu: the shape grows over it, and shrinks back when it closes.
        page.mouse.click(PET["width"] / 2, PET["height"] / 2, button="right")
        expect(page.locator("#pet-menu")).to_be_visible()
        menu = box_of(page, "document.querySelector('#pet-menu').getBoundingClientRect()")
        assert not covers(rects, menu), (rects, menu)
        until(page, lambda: covers(latest(), menu), f"no shape over the menu {menu}: {latest()}")
        page.keyboard.press("Escape")
        expect(page.locator("#pet-menu")).to_be_hidden()
        until(page, lambda: not covers(latest(), menu), f"the menu's part stayed: {latest()}")
        opened.check_clean()


def test_in_a_browser_the_pet_asks_once(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    """No desktop: ``pet_shape`` says so and the page stops asking (the real server)."""
    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url), **PET)
        page = opened.page
        answers: list[Any] = []
        page.on("response", lambda r: answers.append(r.json()) if r.url.endswith("/pet_shape") else None)
        opened.reload()
        settle(page)
        until(page, lambda: bool(answers), "no pet_shape call")
        assert answers[0] == {"ok": True, "done": False, "reason": "browser"}
        # Opening the menu changes the shape: a page still asking would send it now.
        page.mouse.click(PET["width"] / 2, PET["height"] / 2, button="right")
        expect(page.locator("#pet-menu")).to_be_visible()
        page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.evaluate("fetch(location.href).then((r) => r.ok)")  # a round trip to the server
        assert len(answers) == 1, answers
        opened.check_clean()


def test_without_a_compositor_the_pet_has_the_panel_background(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url, "&bg=panel"), **PET)
        page = opened.page
        settle(page)
        assert page.evaluate("document.documentElement.classList.contains('pet-panel')")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        plain = open_in(browser, pet_url(url), **PET)
        settle(plain.page)
        assert plain.page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
        opened.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_settings_say_what_the_pet_can_do_on_this_desktop(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path, lang: str
) -> None:
    said = notes(PetDesktop("linux", True, "xcb", True, False))  # Wayland, XWayland, no compositor

    def desktop(route: Route) -> None:  # what the desktop app adds to settings_get
        body = route.fetch().json()
        body["field_notes"] = {"app.pet": said}
        route.fulfill(json=body)

    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, url, lang=lang)
        page = opened.page
        page.route("**/api/call/settings_get", desktop)
        opened.reload()
        page.click("#nav-settings")
        page.click("#settings-tab-other")
        row = page.locator("[data-path='app.pet']")
        lines = row.locator(".field-note")
        expect(lines).to_have_count(3)  # XWayland; not transparent; clicks
        assert lines.all_inner_texts() == said[lang].split("\n")
        assert ("XWayland" in said[lang]) and (("面板背景" if lang == "zh" else "panel's background") in said[lang])
        opened.check_clean()
