"""The desktop pet page (``index.html?pet=1``) in a real browser against the real
``dl-app serve`` and a scripted model: a see-through page with only the avatar and its
bubble, the input a click opens, the right-click menu, one conversation with the main
page, the scale kept. Screenshots go to ``$DL_PET_SHOTS`` (default /tmp/shots-pet).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    dl_serve,
    is_chat,
    open_in,
    require_chromium,
    settle,
)
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply
from servers.voice_servers import VoiceServer

require_chromium()

from PIL import Image  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

CHROMIUM_EXTRA = ("--enable-unsafe-swiftshader", "--autoplay-policy=no-user-gesture-required")
ARGS = [*CHROMIUM_ARGS, *CHROMIUM_EXTRA]
SHOTS = Path(os.environ.get("DL_PET_SHOTS", "/tmp/shots-pet"))
PET_SIZE = {"width": 320, "height": 440}


def pet_url(url: str) -> str:
    return f"{url}&pet=1" if "?" in url else f"{url}?pet=1"















def corner_alphas(page: Page) -> list[int]:
    png = page.screenshot(omit_background=True)
    img = Image.open(io.BytesIO(png)).convert("RGBA")
    w, h = img.size
    return [img.getpixel((x, y))[3] for x, y in ((1, 1), (w - 2, 1), (1, h - 2), (w - 2, h - 2))]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), omit_background=True)


def test_pet_is_see_through_talks_in_the_bubble_and_shares_the_conversation(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    openai_server.default_responder = companion_responder
    reply = "你好呀！今天想聊点什么？我一直在这里陪着你。"
    openai_server.enqueue(ChatReply(content=reply, chunk_size=2, chunk_delay=0.05), match=is_chat)
    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url), **PET_SIZE)
        page = opened.page
        settle(page)
        # Only the avatar: no header, chat or panels, and nothing painted at the corners.
        assert page.locator(".topbar, #chat-input, .avatar-gear:visible").count() == 0
        expect(page.locator("#avatar-area canvas")).to_be_visible()
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert corner_alphas(page) == [0, 0, 0, 0]
        # A click on the avatar opens the input; the reply streams into the bubble.
        expect(page.locator("#pet-form")).to_be_hidden()
        page.mouse.click(PET_SIZE["width"] / 2, PET_SIZE["height"] * 0.6)
        expect(page.locator("#pet-form")).to_be_visible()
        page.evaluate("window.__bubbles = []; setInterval(() => __bubbles.push(dlAvatar.bubbleText), 30)")
        page.fill("#pet-input", "我回来啦")
        page.press("#pet-input", "Enter")
        page.wait_for_function("dlAvatar.bubbleText.includes('我一直在这里陪着你')", timeout=30_000)
        bubbles = [b for b in page.evaluate("__bubbles") if b]
        assert bubbles and bubbles[0] != bubbles[-1], bubbles  # it grew as the reply streamed
        assert "你好呀！" in bubbles
        expect(page.locator("#pet-form")).to_be_hidden()  # closed once the reply is in
        assert any(r.last_user_text == "我回来啦" for r in openai_server.chat_requests if is_chat(r))
        # The main page shows the pet's turn in its history.
        main = open_in(browser, url)
        expect(main.page.locator(".msg.user").last).to_contain_text("我回来啦")
        expect(main.page.locator(".msg.assistant").last).to_contain_text("我一直在这里陪着你")
        # The wheel scales the pet; the scale is saved and comes back after a reload.
        before = page.evaluate("dlAvatar.settings.scale")
        page.mouse.move(PET_SIZE["width"] / 2, PET_SIZE["height"] / 2)
        page.mouse.wheel(0, 300)
        saved = wait_saved_scale(page, data_dir, before)
        assert saved < before
        opened.reload()
        settle(page)
        assert page.evaluate("dlAvatar.settings.scale") == saved
        opened.check_clean()
        main.check_clean()


def test_the_main_pages_markup_never_shows_in_the_pet(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    """Before pet.js has run (it loads with the avatar's modules, after the first
    paint), the pet's window showed the main window's header and its Chinese
    "正在启动…" on the panel's background (seen in the desktop's screen grabs). Here
    pet.js never runs: the page stays as it is before it."""
    openai_server.default_responder = companion_responder
    with dl_serve(data_dir, openai_server.base_url) as url:
        ctx = browser.new_context(viewport=PET_SIZE)
        try:
            ctx.route("**/js/pet.js", lambda route: route.fulfill(
                body="", content_type="text/javascript"))
            page = ctx.new_page()
            page.goto(pet_url(url) + "&bg=panel")
            page.wait_for_function("document.readyState === 'complete'", timeout=TIMEOUT_MS)
            assert page.evaluate("document.documentElement.className") == "pet-mode pet-panel"
            shown = page.evaluate(
                "[...document.querySelectorAll('#app, .topbar, #boot-loading')]"
                ".filter((e) => e.getClientRects().length).map((e) => e.id || e.className)"
            )
            assert shown == []
        finally:
            ctx.close()


def wait_saved_scale(page: Page, data_dir: Path, before: float) -> float:
    """The avatar scale once settings.json holds a new one (saved a moment after the wheel)."""
    path = data_dir / "settings.json"
    for _ in range(100):
        if path.exists():
            scale = json.loads(path.read_text()).get("avatar", {}).get("scale", before)
            if scale != before:
                return float(scale)
        page.wait_for_timeout(100)
    raise AssertionError("the scale was not saved")


def test_right_click_menu_in_the_browser(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    openai_server.default_responder = companion_responder
    (data_dir / "settings.json").write_text(json.dumps({"language": "en"}))
    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url), **PET_SIZE)
        page = opened.page
        settle(page)
        page.mouse.click(160, 200, button="right")
        menu = page.locator("#pet-menu")
        expect(menu).to_be_visible()
        for label in ("Talk", "Open the main window", "Leave pet mode", "Quit Digital Life"):
            expect(menu).to_contain_text(label)
        shot(page, "pet-menu-en.png")
        # The desktop's actions say in a browser that they are the desktop's.
        page.click("#pet-open")
        expect(menu).to_be_hidden()
        expect(page.locator("#pet-note")).to_have_text("This works in the desktop app only.")
        # "Talk" opens the input; leaving pet mode in a browser opens the main page.
        page.mouse.click(160, 200, button="right")
        page.click("#pet-talk")
        expect(page.locator("#pet-input")).to_be_focused()
        page.mouse.click(160, 200, button="right")
        page.click("#pet-leave")
        page.wait_for_selector(".topbar", timeout=TIMEOUT_MS)
        assert "pet=1" not in page.url and "token=" in page.url
        opened.check_clean()


def test_svg_avatar_without_webgl(pw: Any, openai_server: OpenAICompatServer, data_dir: Path) -> None:
    openai_server.default_responder = companion_responder
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, "--disable-webgl"])
    try:
        with dl_serve(data_dir, openai_server.base_url) as url:
            opened = open_in(b, pet_url(url), **PET_SIZE)
            page = opened.page
            settle(page, "fallback")
            expect(page.locator(".avatar-svg")).to_be_visible()
            assert corner_alphas(page)[:2] == [0, 0]
            opened.check_clean()
    finally:
        b.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path, lang: str
) -> None:
    openai_server.default_responder = companion_responder
    (data_dir / "settings.json").write_text(json.dumps({"language": lang}))
    text = {"zh": "太好了！我好开心 😄 今天也一起加油吧。", "en": "Great! I'm so happy 😄 Let's keep going today."}
    openai_server.enqueue(ChatReply(content=text[lang], chunk_size=4, chunk_delay=0.02), match=is_chat)
    with dl_serve(data_dir, openai_server.base_url) as url:
        opened = open_in(browser, pet_url(url), **PET_SIZE)
        page = opened.page
        settle(page)
        page.mouse.click(PET_SIZE["width"] / 2, PET_SIZE["height"] * 0.6)
        page.fill("#pet-input", "我通过考试了！" if lang == "zh" else "I passed the exam!")
        shot(page, f"pet-input-{lang}.png")
        page.press("#pet-input", "Enter")
        expect(page.locator("#pet-form")).to_be_hidden(timeout=30_000)
        page.evaluate("t => { dlAvatar.setMouth(0.6); dlAvatar.bubble(t.split(/(?<=[！!.])/)[0]); }", text[lang])
        shot(page, f"pet-reply-{lang}.png")
        page.mouse.click(160, 200, button="right")
        shot(page, f"pet-menu-{lang}.png")
        opened.check_clean()


def test_replies_are_spoken_when_voice_is_on_and_the_menu_mutes(
    browser: Browser, openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    openai_server.default_responder = companion_responder
    sentences = ["今天天气真好。", "我们一起出去走走吧！"]
    openai_server.enqueue(ChatReply(content="".join(sentences), chunk_size=3, chunk_delay=0.03),
                          match=is_chat)
    with VoiceServer() as vs:
        vs.speech_seconds = 0.3
        voice = {"tts_enabled": True, "tts_provider": "fish", "fish_url": vs.fish_url}
        (data_dir / "settings.json").write_text(json.dumps({"language": "zh", "voice": voice}))
        with dl_serve(data_dir, openai_server.base_url) as url:
            opened = open_in(browser, pet_url(url), **PET_SIZE)
            page = opened.page
            settle(page)
            page.evaluate("""async () => {
                const bus = await import('/js/bus.js');
                window.__spoken = [];
                bus.subscribe('voice.sentence', (d) => window.__spoken.push(d.text));
            }""")
            page.mouse.click(PET_SIZE["width"] / 2, PET_SIZE["height"] * 0.6)
            page.fill("#pet-input", "出去玩吗")
            page.press("#pet-input", "Enter")
            page.wait_for_function("window.__spoken.length >= 2", timeout=30_000)
            assert page.evaluate("window.__spoken") == sentences
            assert [r.json["text"] for r in vs.tts_requests] == sentences
            # Mute from the menu: the setting is saved, the check mark follows.
            page.mouse.click(160, 200, button="right")
            expect(page.locator("#pet-mute")).to_have_attribute("aria-checked", "false")
            page.click("#pet-mute")
            expect(page.locator("#pet-menu")).to_be_hidden()
            page.wait_for_function("""async () => {
                const t = await import('/js/transport.js');
                const r = await t.call('settings_get');
                return r.settings.voice.tts_enabled === false;
            }""")
            page.mouse.click(160, 200, button="right")
            expect(page.locator("#pet-mute")).to_have_attribute("aria-checked", "true")
            opened.check_clean()
        assert not vs.errors
