"""Follow-ups and check-ins on the pages, in a real browser against the real
``dl-app serve``: the Diary page shows an entry's follow-ups (as text) and forgets
one; the settings offer check-ins, off; the chat opens with a due check-in and
names the diary entry it came from."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkin_helpers import DAY, Home, is_checkin
from dl_app.adapters.clock import FixedClock
from frontend_helpers import SHOTS, Opened, require_chromium
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply

require_chromium()

from playwright.sync_api import expect  # noqa: E402

T0 = 1_735_700_000_000  # 2025-01-01
HOSTILE = "<img src=x onerror=alert(1)>考驾照"


def memory_file() -> dict[str, Any]:
    entry = {"uuid": "00000000-0000-4000-8000-000000000001", "title": "准备考试",
             "summary": "阿明下周五要考驾照。", "startTime": T0, "endTime": T0 + 600_000,
             "followUps": [{"what": HOSTILE, "when": "2025-01-10"},
                           {"what": "妹妹来上海", "when": "2025-01-11/2025-01-12",
                            "askedAt": T0 + 12 * 86_400_000}]}
    return {"selfName": "小叶子", "userName": "阿明", "memoryAboutSelf": "我是小叶子。",
            "memoryAboutUser": "", "longTermMemory": [entry], "shortTermMemory": [],
            "archivedMemory": [], "currentSummary": "", "version": "test"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_diary_shows_and_forgets_follow_ups(
    serve: Callable[..., Any], open_page: Callable[..., Opened], data_dir: Path, tmp_path: Path,
    lang: str,
) -> None:
    (data_dir / "settings.json").write_text(json.dumps({"language": lang}), encoding="utf-8")
    source = tmp_path / "memory.json"
    source.write_text(json.dumps(memory_file(), ensure_ascii=False), encoding="utf-8")
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        page.click("#nav-memory")
        page.click("#memory-tab-transfer")
        page.set_input_files("#import-file", str(source))
        page.click("#import-btn")
        page.locator(".modal .btn.primary").click()
        expect(page.locator("#import-status")).to_contain_text("导入" if lang == "zh" else "Imported")
        page.click("#memory-tab-diary")
        item = page.locator("#diary-list .diary-item").first
        item.locator(".diary-head").click()
        rows = item.locator(".followup")
        expect(rows.locator(".followup-what")).to_have_text([HOSTILE, "妹妹来上海"])
        expect(rows.nth(0).locator(".followup-when")).to_have_text("2025-01-10")
        asked = "已问起" if lang == "zh" else "asked"
        expect(rows.nth(1).locator(".followup-when")).to_contain_text(asked)
        expect(item.locator(".diary-followups")).to_contain_text(
            "待问的事" if lang == "zh" else "Follow-ups")
        assert page.locator("#page-memory img").count() == 0  # the user's words stay text
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"diary-followups-{lang}.png"))
        rows.nth(0).locator(".followup-delete").click()
        expect(rows.locator(".followup-what")).to_have_text(["妹妹来上海"])
        o.reload()
        page.click("#nav-memory")
        page.click("#memory-tab-diary")
        item = page.locator("#diary-list .diary-item").first
        item.locator(".diary-head").click()
        expect(item.locator(".followup .followup-what")).to_have_text(["妹妹来上海"])

        # Settings: check-ins are offered, and off.
        page.click("#nav-settings")
        page.click("#settings-tab-plugins")
        box = page.locator("#f-plugins-checkins_enabled")
        expect(box).to_be_visible()
        expect(box).not_to_be_checked()
        expect(page.locator("#f-plugins-quiet_start")).to_have_value("23:00")
        expect(page.locator("#settings-body")).to_contain_text("回访" if lang == "zh" else "Check-ins")
        page.screenshot(path=str(SHOTS / f"settings-checkins-{lang}.png"))
        o.check_clean()


def test_the_chat_opens_with_the_check_in_and_names_its_entry(
    serve: Callable[..., Any], open_page: Callable[..., Opened], data_dir: Path,
    openai_server: OpenAICompatServer,
) -> None:
    """A follow-up noted two days ago is due since midnight (quiet hours off, so the
    hour of the run does not matter): the chat page, when it loads, shows the
    check-in as the companion's message with the entry it came from."""
    home = Home(data_dir, openai_server, FixedClock(int(time.time() * 1000) - 2 * DAY, 0))
    mem = home.open(quiet_start="00:00", quiet_end="00:00")
    home.say("明天我要考试")
    mem.close()
    home.mem = None
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        reply = page.locator("#page-chat .msg.assistant")
        expect(reply.locator(".msg-content")).to_have_text(["考试怎么样？"])
        expect(reply.locator(".msg-recalled")).to_contain_text("愉快的聊天")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "chat-checkin-zh.png"))
        o.reload()  # shown once: the history holds it, no second check-in
        expect(page.locator("#page-chat .msg.assistant .msg-content")).to_have_text(
            ["考试怎么样？"])
        assert len([r for r in openai_server.chat_requests if is_checkin(r)]) == 1
        o.check_clean()


def test_a_message_sent_while_the_greeting_is_written_comes_after_it(
    serve: Callable[..., Any], open_page: Callable[..., Opened], data_dir: Path,
    openai_server: OpenAICompatServer,
) -> None:
    """Back after two days, the user types at once while the model (a slow local one)
    is still writing the greeting: the greeting came in under the reply to that
    message, though the app stores it before the message (it writes one at a time),
    so a reload moved it up. It goes where it is stored, and redo stays offered."""
    home = Home(data_dir, openai_server, FixedClock(int(time.time() * 1000) - 2 * DAY, 0))
    mem = home.open(checkins_enabled=False)
    home.say("今天天气不错")
    mem.close()
    home.mem = None
    asked, answer = threading.Event(), threading.Event()

    def greeter(_request: Any) -> ChatReply:
        asked.set()
        answer.wait(60)  # until the user's message is on the page (the bound against a hang)
        return ChatReply(content="你回来啦！")

    openai_server.route(lambda r: not r.system_text and "刚刚回来" in r.last_user_text, greeter)
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        assert asked.wait(60), "the page asked for no greeting"
        page.fill("#chat-input", "我回来了")
        page.press("#chat-input", "Enter")
        expect(page.locator("#page-chat .msg.user")).to_have_count(1)
        answer.set()
        said = ["你回来啦！", "我回来了", "嗯嗯，我记住了：我回来了"]
        texts = page.locator("#page-chat .msg .msg-content")
        expect(texts).to_have_text(said)
        expect(page.locator("#chat-send")).to_be_enabled()
        expect(page.locator("#page-chat .msg.assistant").last.locator("#btn-regenerate")).to_be_visible()
        o.reload()
        expect(texts).to_have_text(said)  # as stored
        o.check_clean()
