"""Settings → Voice, "Test recognition" with the browser's own speech recognizer chosen
(no transcription address needed): it said an address was missing. It now checks what
that recognizer needs, that the page has the Web Speech API, and says what it cannot
test; without the API it says so and what is used instead. Both languages, the choice
as the form has it (saved or not).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import Opened, hold_next_call, open_settings_tab, require_chromium, wait_held
from servers.voice_servers import VoiceServer

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

ADDRESS = {"zh": "地址", "en": "address"}
OFFERED = {"zh": "这个浏览器提供语音识别", "en": "This browser offers speech recognition"}
NOT_OFFERED = {"zh": "没有自带的语音识别", "en": "has no speech recognition of its own"}
INSTEAD = {"zh": "改用转写服务", "en": "the transcription service is used instead"}
OFF = {"zh": "语音识别已关闭", "en": "Speech recognition is off"}
RUNNING = {"zh": "正在测试…", "en": "Testing…"}
NO_WEB_SPEECH = "delete window.SpeechRecognition; delete window.webkitSpeechRecognition;"
WEB_SPEECH = "window.webkitSpeechRecognition = window.webkitSpeechRecognition || function () {};"


def voice_settings(browser: Browser, url: str, lang: str, script: str) -> Opened:
    return open_settings_tab(browser, url, lang, "voice",
                             prepare=lambda page: page.add_init_script(script))


@contextlib.contextmanager
def service_set_without_web_speech(
    browser: Browser, serve: Any, data_dir: Path, lang: str
) -> Iterator[Opened]:
    """Settings → Voice in a browser without Web Speech, the browser's recognizer
    chosen and a transcription service (a scripted one) set to stand in; the
    service saw no error."""
    with VoiceServer() as vs:
        voice = {"stt_provider": "browser", "stt_url": vs.openai_url}
        (data_dir / "settings.json").write_text(json.dumps({"voice": voice}))
        with serve() as url:
            o = voice_settings(browser, url, lang, NO_WEB_SPEECH)
            yield o
            o.page.context.close()
    assert not vs.errors


def run_check(page: Page) -> str:
    page.click("#voice-test-stt")
    result = page.locator("#voice-test-result")
    page.wait_for_function(
        "() => { const r = document.querySelector('#voice-test-result');"
        " return r && /\\b(ok|bad|note)\\b/.test(r.className); }"
    )
    return result.inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_browsers_recognizer_is_checked_in_the_page_not_by_an_address(
    browser: Browser, serve: Any, lang: str
) -> None:
    with serve() as url:
        o = voice_settings(browser, url, lang, WEB_SPEECH)
        page = o.page
        expect(page.locator("#f-voice-stt_provider")).to_have_value("browser")  # the default
        assert page.locator("#f-voice-stt_url").input_value() == ""
        text = run_check(page)
        assert OFFERED[lang] in text, text
        assert ADDRESS[lang] not in text.lower(), text
        expect(page.locator("#voice-test-result")).to_have_class("test-result ok")
        # Off, chosen and not saved: said so, nothing asked.
        page.select_option("#f-voice-stt_provider", "off")
        text = run_check(page)
        assert OFF[lang] in text and ADDRESS[lang] not in text.lower(), text
        # The transcription service, chosen and not saved: its address is what it needs.
        page.select_option("#f-voice-stt_provider", "openai")
        text = run_check(page)
        assert ADDRESS[lang] in text.lower(), text
        o.check_clean()
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_web_speech_the_test_says_what_is_used_instead(
    browser: Browser, serve: Any, lang: str
) -> None:
    with serve() as url:
        o = voice_settings(browser, url, lang, NO_WEB_SPEECH)
        page = o.page
        text = run_check(page)
        assert NOT_OFFERED[lang] in text, text
        expect(page.locator("#voice-test-result")).to_have_class("test-result bad")
        o.check_clean()
        page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_web_speech_a_set_transcription_service_is_tested_instead(
    browser: Browser, serve: Any, data_dir: Path, lang: str
) -> None:
    with service_set_without_web_speech(browser, serve, data_dir, lang) as o:
        page = o.page
        text = run_check(page)
        assert NOT_OFFERED[lang] in text and INSTEAD[lang] in text, text
        expect(page.locator("#voice-test-result")).to_have_class("test-result ok")
        o.check_clean()


def redraw_by_theme(page: Page) -> None:
    page.click("#theme-toggle")  # saved at once (settings_set): the form is drawn anew


def redraw_by_reopening(page: Page) -> None:
    page.click("#nav-chat")
    page.click("#nav-settings")  # the settings fetched again (settings_get), drawn anew


@pytest.mark.parametrize("redraw", [redraw_by_theme, redraw_by_reopening])
def test_the_answer_of_a_check_shows_though_the_form_was_drawn_anew_meanwhile(
    browser: Browser, serve: Any, data_dir: Path, redraw: Any
) -> None:
    """The form is drawn anew with a new box while the transcription service is asked
    (in a CI run: the settings fetched again on opening the page came back after the
    click): the check still says it is running, then its answer. It was lost: the
    answer went to the box the click was in, no longer in the page."""
    lang = "en"
    with service_set_without_web_speech(browser, serve, data_dir, lang) as o:
        page = o.page
        held = hold_next_call(page, "voice_test")
        page.click("#voice-test-stt")
        route = wait_held(page, held, "voice_test")
        page.eval_on_selector("#voice-settings-box", "box => { box.dataset.old = '1'; }")
        redraw(page)
        expect(page.locator("#voice-settings-box")).not_to_have_attribute("data-old", "1")
        expect(page.locator("#voice-test-result")).to_have_text(RUNNING[lang])
        route.continue_()
        result = page.locator("#voice-test-result")
        expect(result).to_have_class("test-result ok")
        assert NOT_OFFERED[lang] in result.inner_text(), result.inner_text()
        assert INSTEAD[lang] in result.inner_text(), result.inner_text()
        o.check_clean()
