"""Small things of the page, each in a real browser against the real ``dl-app serve``
and the scripted model (issue 17, points 5, 8 and 9): what the gauge and the
"update memory" confirmation say, About, the timeline's labels and counts, toasts,
the language in browser mode, the banner after "Later", the theme toggle.

Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import SHOTS, TIMEOUT_MS, Opened, chromium, dl_serve, require_chromium
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "serve-data"
    d.mkdir()
    return d


@pytest.fixture
def serve(
    openai_server: OpenAICompatServer, data_dir: Path
) -> Callable[..., AbstractContextManager[str]]:
    """``with serve(**env) as url``: the real server on the scripted model."""
    openai_server.default_responder = companion_responder

    def start(**env: str) -> AbstractContextManager[str]:
        return dl_serve(data_dir, openai_server.base_url, extra_env=env)

    return start


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Opened]]:
    contexts = []

    def opener(url: str, *, color_scheme: str = "light", width: int = 1100,
               height: int = 720, locale: str | None = None) -> Opened:
        options: dict[str, Any] = {"viewport": {"width": width, "height": height},
                                   "color_scheme": color_scheme}
        if locale:
            options["locale"] = locale
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        opened = Opened(ctx.new_page())
        opened.goto(url)
        return opened

    yield opener
    for ctx in contexts:
        ctx.close()


def set_lang(page: Page, lang: str) -> None:
    page.select_option("#lang-select", lang)
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-send")).to_be_enabled()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


# ---------------------------------------------------------------------------


def test_gauge_says_what_it_measures_and_a_full_window_is_not_a_fault(serve, open_page) -> None:
    # The smallest budget fills after a few long messages; folding then keeps it full.
    with serve(DL_TOKEN_BUDGET="1500") as url:
        o = open_page(url)
        page = o.page
        set_lang(page, "zh")
        gauge = page.locator("#budget-gauge")
        expect(gauge.locator(".gauge-label")).to_have_text("上下文用量")
        line = "今天在公园里走了很久，看到湖边有人钓鱼，还有孩子在放风筝。" * 4
        pct = 0
        for i in range(12):
            send(page, f"{i}：{line}")
            pct = int(gauge.locator(".gauge-pct").inner_text().rstrip("%"))
            if pct >= 95:
                break
        assert pct >= 95, f"the window never filled: {pct}%"
        expect(gauge).not_to_have_class(re.compile(r"\bdanger\b"))
        danger = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--danger').trim()"
        )
        fill = page.evaluate(
            "getComputedStyle(document.querySelector('.gauge-fill')).backgroundColor"
        )
        probe = page.evaluate(
            "c => { const d = document.createElement('div'); d.style.color = c;"
            " document.body.append(d); const v = getComputedStyle(d).color; d.remove();"
            " return v; }",
            danger,
        )
        assert fill != probe, "a full window is drawn in the danger colour"
        expect(gauge).to_have_attribute("title", re.compile("/ 1500 tokens.*折叠"))
        set_lang(page, "en")
        expect(gauge.locator(".gauge-label")).to_have_text("Context used")
        shot(page, "polish-gauge-en-light")
        o.check_clean()


def test_update_memory_says_the_conversation_moves_into_the_diary(serve, open_page) -> None:
    with serve() as url:
        o = open_page(url)
        page = o.page
        for lang, words in (("zh", ("移入日记", "清空")), ("en", ("moves into the diary", "empties"))):
            set_lang(page, lang)
            page.click("#btn-consolidate")
            text = page.locator(".modal .modal-text")
            for word in words:
                expect(text).to_contain_text(word)
            page.click(".modal .btn:not(.primary)")
        set_lang(page, "zh")
        send(page, "我今天去公园散步了")
        page.click("#btn-consolidate")
        shot(page, "polish-consolidate-zh-light")
        page.click(".modal .btn.primary")
        expect(page.locator(".toast").last).to_contain_text("愉快的聊天", timeout=60_000)
        expect(page.locator(".msg")).to_have_count(0)
        o.check_clean()
