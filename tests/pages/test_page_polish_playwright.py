"""Small things of the page, each in a real browser against the real ``dl-app serve``
and the scripted model (issue 17, points 5, 8 and 9): what the gauge and the
"update memory" confirmation say, About, the timeline's labels and counts, toasts,
the language in browser mode, the banner after "Later", the theme toggle.

Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dl_app.core.cjk import has_ideograph
from frontend_helpers import (
    SHOTS,
    dl_serve,
    free_port,
    hold_calls,
    hold_next_call,
    require_chromium,
    wait_held,
)
from servers.companion import companion_responder, purpose_of
from servers.openai_wire import ChatReply, ToolCallReply

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


def set_lang(page: Page, lang: str) -> None:
    page.select_option("#lang-select", lang)
    expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-send")).to_be_enabled()


def send_recalling(page: Page, server: Any, text: str, recall: str, reply: str) -> None:
    """``text`` sent; the scripted model calls ``get_memory`` with ``recall``, then says ``reply``."""
    server.enqueue(
        ChatReply(tool_calls=[ToolCallReply("get_memory", {"memoryDescription": recall})]),
        ChatReply(content=reply),
        match=lambda r: purpose_of(r) == "chat",
    )
    send(page, text)


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


def test_about_opens_at_the_top_with_version_licence_and_notices(serve, open_page) -> None:
    with serve() as url:
        o = open_page(url, width=800, height=600)
        page = o.page
        from dl_app import __version__

        for lang, words in (("zh", ("版本", "MIT 许可")), ("en", ("Version", "MIT licence"))):
            set_lang(page, lang)
            page.click("#footer-about")
            dialog = page.locator("#about-dialog")
            expect(dialog.locator(".about-version")).to_contain_text(__version__)
            for word in words:
                expect(dialog.locator(".about-version")).to_contain_text(word)
            expect(dialog.locator(".about-data")).to_contain_text("serve-data")
            expect(dialog.locator(".about-item").first).to_be_visible()
            # It overflows at 800×600, and still opens at its top.
            assert dialog.evaluate("d => d.scrollHeight > d.clientHeight")
            assert dialog.evaluate("d => d.scrollTop") == 0
            expect(page.locator("#about-title")).to_be_in_viewport()
            shot(page, f"polish-about-{lang}-light")
            page.keyboard.press("Escape")
            expect(dialog).to_have_count(0)
        o.check_clean()


def test_timeline_same_day_labels_english_and_counts_that_agree(
    serve, open_page, openai_server
) -> None:
    with serve() as url:
        o = open_page(url)
        page = o.page
        set_lang(page, "en")
        send(page, "My cat is called Mimi")
        page.click("#btn-consolidate")
        page.click(".modal .btn.primary")
        expect(page.locator(".toast").last).to_contain_text("愉快的聊天", timeout=60_000)
        page.click("#nav-memory")
        page.click("#memory-tab-diary")
        expect(page.locator("#diary-count")).to_have_text("1 diary entry")
        svg = page.locator("#timeline-svg")
        expect(svg).to_have_attribute("aria-label", "Timeline of 1 conversation")
        # A second conversation the same day, with a recall (archived, never shown).
        page.click("#nav-chat")
        send_recalling(page, openai_server, "Do you remember my cat?", "cat", "Of course: Mimi.")
        expect(page.locator(".msg.assistant .msg-content").last).to_have_text("Of course: Mimi.")
        page.click("#btn-consolidate")
        page.click(".modal .btn.primary")
        expect(page.locator("#chat-empty")).to_be_visible(timeout=60_000)
        page.click("#nav-memory")
        page.click("#memory-tab-diary")
        expect(page.locator("#diary-count")).to_have_text("2 diary entries")
        marks = page.locator("#diary-timeline .tl-mark")
        expect(marks).to_have_count(2)
        # Same-day history: the ticks tell times apart, not one date repeated.
        labels = [t.strip() for t in page.locator("#diary-timeline .tl-label").all_text_contents()]
        assert len(set(labels)) == len(labels), labels
        assert all(re.search(r"\d{1,2}:\d{2}", t) for t in labels), labels
        # The count on the timeline is the count the entry shows.
        marks.nth(1).click()
        pick = page.locator("#timeline-pick")
        expect(pick).to_contain_text("2 messages")
        expect(pick).to_contain_text(re.compile(r"\d+ min"))
        page.click("#timeline-open")
        expect(page.locator("details.archived summary").first).to_have_text(
            "The original conversation (2 messages)"
        )
        expect(page.locator(".arch-msg")).to_have_count(2)
        shot(page, "polish-timeline-en-light")
        # The picked line follows a language change (it said "条消息" in English before).
        set_lang(page, "zh")
        expect(pick).to_contain_text("2 条消息")
        expect(pick).to_contain_text("打开日记")
        set_lang(page, "en")
        expect(pick).to_contain_text("Open the entry")
        assert not re.search(r"[\u4e00-\u9fff]", pick.inner_text().replace("愉快的聊天", ""))
        o.check_clean()


@pytest.mark.parametrize(("width", "height"), [(800, 600), (420, 800)])
def test_toasts_keep_off_the_input_box(serve, open_page, width: int, height: int) -> None:
    """Also off the chat toolbar's buttons where a narrow window wraps them to a
    second row (they were under a toast at a fixed 120 px)."""
    with serve() as url:
        o = open_page(url, width=width, height=height)
        page = o.page
        page.click("#btn-clear")
        page.click(".modal .btn.primary")
        toast = page.locator(".toast").last
        expect(toast).to_be_visible()
        a = toast.bounding_box()
        for sel in ("#chat-input", "#chat-send", "#btn-consolidate", "#btn-clear"):
            b = page.locator(sel).bounding_box()
            assert a and b
            apart = (a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
                     or a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"])
            assert apart, f"the toast {a} covers {sel} {b}"
        o.check_clean()


def test_where_keys_are_kept_is_said_once_per_settings_page(serve, open_page) -> None:
    with serve() as url:
        o = open_page(url)
        page = o.page
        page.click("#nav-settings")
        for tab in ("plugins", "voice", "llm"):
            page.click(f"#settings-tab-{tab}")
            expect(page.locator(f"#settings-{tab} .field").first).to_be_visible()
            keys = page.locator(f"#settings-{tab} .field.secret:visible").count()
            notes = page.locator(f"#settings-{tab} .store-note:visible")
            # one note where keys are shown; none on a page whose services need none
            # (voice with the default services shows no key field)
            expect(notes).to_have_count(1 if keys else 0)
            assert keys >= {"plugins": 2, "voice": 0, "llm": 1}[tab], (tab, keys)
            assert page.locator(f"#settings-{tab} .field.secret .store-note").count() == 0
        o.check_clean()


@pytest.mark.parametrize(("locale", "lang", "nav"), [("zh-CN", "zh-CN", "聊天"), ("en-US", "en", "Chat")])
def test_browser_mode_speaks_the_browsers_language(
    serve, open_page, data_dir, openai_server, locale: str, lang: str, nav: str
) -> None:
    # The server's locale says the other language; no language was chosen.
    server_locale = "en_US.UTF-8" if locale.startswith("zh") else "zh_CN.UTF-8"
    with serve(LANG=server_locale, LC_ALL=server_locale) as url:
        o = open_page(url, locale=locale)
        page = o.page
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("#nav-chat")).to_have_text(nav)
        # The companion speaks to the page's reader too: its prompts in the page's
        # language, not the server's.
        page.fill("#chat-input", "你好" if locale.startswith("zh") else "hello")
        page.press("#chat-input", "Enter")
        expect(page.locator(".msg.assistant .msg-content").last).not_to_be_empty()
        chats = [r for r in openai_server.chat_requests if purpose_of(r) == "chat"]
        system = chats[-1].system_text
        assert has_ideograph(system) == locale.startswith("zh"), system[:80]
        # A choice the user makes wins over the browser, and is kept.
        other = "en" if locale.startswith("zh") else "zh"
        set_lang(page, other)
        o.reload()
        expect(page.locator("html")).to_have_attribute("lang", "en" if other == "en" else "zh-CN")
        assert f'"language": "{other}"' in (data_dir / "settings.json").read_text("utf-8")
        o.check_clean()


def test_a_browser_in_neither_language_gets_the_servers(serve, open_page, openai_server) -> None:
    """A French browser names neither of our languages: page and companion speak the
    server's (English here), and the page's first guess (<html lang="zh-CN">) is not
    taken for the reader's language."""
    with serve(LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8") as url:
        o = open_page(url, locale="fr-FR")
        page = o.page
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#nav-chat")).to_have_text("Chat")
        page.fill("#chat-input", "bonjour")
        page.press("#chat-input", "Enter")
        expect(page.locator(".msg.assistant .msg-content").last).not_to_be_empty()
        chats = [r for r in openai_server.chat_requests if purpose_of(r) == "chat"]
        assert not has_ideograph(chats[-1].system_text)
        o.check_clean()


@pytest.mark.parametrize(("locale", "starting"), [("zh-CN", "正在启动…"), ("en-US", "Starting…")])
def test_a_loading_state_shows_until_the_engine_answers(
    serve, browser, locale: str, starting: str
) -> None:
    """The window shows its frame at once and the page says it is starting while
    the engine opens (issue 17): app_info is held back by the test until it has
    seen the loading state, then released."""
    held: list = []
    holding = [True]
    with serve() as url:
        ctx = browser.new_context(locale=locale, viewport={"width": 900, "height": 640})
        try:
            page = ctx.new_page()
            page.route("**/api/call/app_info",
                       lambda route: held.append(route) if holding else route.continue_())
            page.goto(url)
            loading = page.locator("#boot-loading")
            expect(loading).to_be_visible()
            expect(loading).to_have_text(starting)
            assert page.evaluate("document.documentElement.dataset.ready") is None
            shot(page, f"boot-loading-{locale}")
            holding.clear()
            for route in held:
                route.continue_()
            page.wait_for_selector("html[data-ready='1']", timeout=90_000)
            expect(loading).to_have_count(0)
            expect(page.locator("#chat-input")).to_be_visible()
        finally:
            ctx.close()


@pytest.mark.parametrize(("lang", "theme", "starting"),
                         [("en", "dark", "Starting…"), ("zh", "light", "正在启动…")])
def test_the_first_paint_is_the_loading_state_the_desktop_named(
    serve, browser, lang: str, theme: str, starting: str
) -> None:
    """What the desktop window's first page frame shows, before any module runs (app.js
    held back): the loading state in the language and theme of the address (early.js,
    app.css), in a browser of the other language; then the mark the desktop waits for
    to remove its native loading state (desktop/loading.py)."""
    held: list = []
    # app_info, the page's first question, is held: app.js has then drawn the loading
    # state in the address's language, before the app's answer (and, in a browser with
    # no language chosen, the browser's language) takes over. Looked at without holding
    # it, that state was gone by then once the start stopped waiting for LanceDB.
    with serve() as url:
        other = "zh-CN" if lang == "en" else "en-US"
        ctx = browser.new_context(locale=other, viewport={"width": 1100, "height": 720})
        try:
            page = ctx.new_page()
            page.route("**/js/app.js", lambda route: held.append(route))
            info = hold_next_call(page, "app_info")
            base, _, token = url.partition("?")
            page.goto(f"{base}?theme={theme}&lang={lang}&{token}")
            loading = page.locator("#boot-loading")
            expect(loading).to_be_visible()
            assert loading.inner_text().strip() == starting
            expect(page.locator("html")).to_have_attribute("data-painted", "1")
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            nav = page.locator("#nav-chat")  # its words are Chinese until app.js runs
            expect(nav).to_be_visible() if lang == "zh" else expect(nav).to_be_hidden()
            shot(page, f"boot-first-paint-{lang}-{theme}")
            for route in held:
                route.continue_()
            answer = wait_held(page, info, "app_info")
            expect(loading).to_have_text(starting)  # app.js took over, same words
            expect(nav).to_have_text("Chat" if lang == "en" else "聊天")
            expect(nav).to_be_visible()
            answer.continue_()
            page.wait_for_selector("html[data-ready='1']", timeout=90_000)
            expect(loading).to_have_count(0)
        finally:
            ctx.close()


def test_service_down_banner_offers_the_setup_wizard(openai_server, data_dir, open_page) -> None:
    openai_server.default_responder = companion_responder
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with dl_serve(data_dir, dead) as url:
        o = open_page(url)
        page = o.page
        set_lang(page, "zh")
        page.fill("#chat-input", "你在吗？")
        page.press("#chat-input", "Enter")
        banner = page.locator("#error-banner")
        expect(banner).to_be_visible(timeout=60_000)
        expect(banner.locator("#banner-settings")).to_be_visible()
        expect(banner.locator("#banner-setup")).to_have_text("设置向导")
        shot(page, "polish-banner-zh-light")
        page.click("#banner-setup")
        expect(page.locator("#setup")).to_be_visible()
        page.click("#setup-later")
        expect(page.locator("#setup")).to_have_count(0)
        expect(banner.locator("#banner-setup")).to_be_visible()  # still there after "Later"
        set_lang(page, "en")
        expect(banner.locator("#banner-setup")).to_have_text("Setup wizard")
        o.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots(serve, open_page, lang: str) -> None:
    """The changed pages in both themes, for a person to look at."""
    with serve() as url:
        o = open_page(url, width=1000, height=700)
        page = o.page
        set_lang(page, lang)
        send(page, "我今天去公园散步了" if lang == "zh" else "I went for a walk in the park")
        page.click("#btn-consolidate")
        page.click(".modal .btn.primary")
        expect(page.locator("#chat-empty")).to_be_visible(timeout=60_000)
        send(page, "晚上好" if lang == "zh" else "Good evening")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.click("#nav-chat")
            page.click("#btn-consolidate")
            shot(page, f"polish-chat-confirm-{lang}-{scheme}")
            page.click(".modal .btn:not(.primary)")
            page.click("#nav-memory")
            page.click("#memory-tab-diary")
            page.locator("#diary-timeline .tl-mark").first.click()
            expect(page.locator("#timeline-pick")).to_contain_text(
                "2 条消息" if lang == "zh" else "2 messages"
            )
            shot(page, f"polish-diary-{lang}-{scheme}")
            page.click("#nav-settings")
            page.click("#settings-tab-appearance")
            shot(page, f"polish-settings-appearance-{lang}-{scheme}")
            page.click("#footer-about")
            expect(page.locator("#about-dialog .about-version")).to_be_visible()
            shot(page, f"polish-about-{lang}-{scheme}")
            page.keyboard.press("Escape")
        o.check_clean()


def test_the_chat_header_does_not_move_when_the_gauge_arrives(serve, open_page) -> None:
    # The gauge's figure comes once the diary is open, after the page is shown: its
    # row used to be hidden until then, and the header grew under the reader's eyes.
    with serve() as url:
        o = open_page(url)
        page = o.page
        # Every gauge call held: the page asks more than once (at the start, after the
        # history), and one let through fills the gauge before it is looked at.
        held, release = hold_calls(page, "budget_gauge")
        o.reload()
        wait_held(page, held, "the gauge")
        toolbar = page.locator(".chat-toolbar")
        before = toolbar.bounding_box()
        expect(page.locator("#budget-gauge .gauge-pct")).to_have_text("")
        release()
        expect(page.locator("#budget-gauge .gauge-pct")).to_have_text(re.compile(r"^\d+%$"))
        expect(page.locator("#budget-gauge")).to_be_visible()
        assert toolbar.bounding_box() == before
        o.check_clean()


def test_the_recalled_titles_are_listed_in_the_pages_language(
    serve, open_page, openai_server, data_dir, tmp_path
) -> None:
    """A reply that recalled two diary entries names them under it: joined by the
    Chinese list comma "、" on the English page too ("Recalled: Cats、Our cat")."""
    day = 86_400_000
    entries = [{"uuid": f"00000000-0000-4000-8000-00000000000{i}", "title": title,
                "summary": summary, "startTime": 1_735_700_000_000 + i * day,
                "endTime": 1_735_700_000_000 + i * day + 600_000}
               for i, (title, summary) in enumerate([("Cats", "We talked about cats."),
                                                     ("Our cat", "Her cat Mimi got sick.")], 1)]
    source = tmp_path / "memory.json"
    source.write_text(json.dumps({"selfName": "Leaf", "userName": "Ming", "memoryAboutSelf": "",
                                  "memoryAboutUser": "", "longTermMemory": entries,
                                  "shortTermMemory": [], "archivedMemory": [],
                                  "currentSummary": ""}), encoding="utf-8")
    with serve() as url:
        o = open_page(url, lang="en")
        page = o.page
        set_lang(page, "en")
        page.click("#nav-memory")
        page.click("#memory-tab-transfer")
        page.set_input_files("#import-file", str(source))
        page.click("#import-btn")
        page.locator(".modal .btn.primary").click()
        expect(page.locator("#import-status")).to_contain_text("Imported")
        page.click("#nav-chat")
        send_recalling(page, openai_server, "Do you remember my cat?", "cat", "Mimi, of course.")
        recalled = page.locator(".msg.assistant .msg-recalled").last
        expect(recalled).to_have_text(re.compile(r"^Recalled: (Cats, Our cat|Our cat, Cats)$"))
        set_lang(page, "zh")
        o.reload()
        expect(recalled).to_have_text(re.compile(r"^回想起：(Cats、Our cat|Our cat、Cats)$"))
        o.check_clean()
