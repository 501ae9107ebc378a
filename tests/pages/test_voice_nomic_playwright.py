"""Voice without a microphone (issue 17, point 6), in a real Chromium against the real
``dl-app serve``: with no capture device the mic and voice-chat buttons say so before
anyone clicks (disabled, the reason in the page's language); when the microphone is
refused, the click says why in words, never a raw code, and the voice mode never says
"getting ready" beside an error.

Chromium here runs without ``--use-fake-device-for-media-stream``, so it really has no
capture device (a container has no sound card); the refusal case uses the fake device
with permission denied by the browser context (no permission granted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontend_helpers import TIMEOUT_MS, chromium, dl_serve, open_in, require_chromium
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

require_chromium()

from playwright.sync_api import Browser, expect  # noqa: E402

LATIN_CODE = re.compile(r"not-allowed|NotAllowedError|NotFoundError|Requested device")


@pytest.fixture  # one Playwright at a time: a browser per test
def no_mic() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture  # one Playwright at a time: a browser per test
def refused_mic() -> Iterator[Browser]:
    with chromium("--use-fake-device-for-media-stream") as b:  # a device, no permission
        yield b


def _serve(tmp_path: Path, openai_server: OpenAICompatServer, lang: str):  # type: ignore[no-untyped-def]
    openai_server.default_responder = companion_responder
    data = tmp_path / "data"
    data.mkdir()
    voice = {"stt_provider": "openai", "stt_url": "http://127.0.0.1:9/v1"}
    (data / "settings.json").write_text(json.dumps({"language": lang, "voice": voice}))
    return dl_serve(data, openai_server.base_url)




@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_a_microphone_the_buttons_say_so_up_front(
    no_mic: Browser, tmp_path: Path, openai_server: OpenAICompatServer, lang: str
) -> None:
    with _serve(tmp_path, openai_server, lang) as url:
        o = open_in(no_mic, url, width=1280, lang=lang)
        mic, mode = o.page.locator("#chat-mic"), o.page.locator("#btn-voice-mode")
        expect(mic).to_be_disabled(timeout=TIMEOUT_MS)
        expect(mode).to_be_disabled()
        said = "没有找到麦克风" if lang == "zh" else "No microphone found"
        expect(mic).to_have_attribute("title", re.compile(said))
        expect(mode).to_have_attribute("title", re.compile(said))
        o.check_clean()
        o.page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_microphone_is_said_in_words_and_voice_mode_does_not_wait(
    refused_mic: Browser, tmp_path: Path, openai_server: OpenAICompatServer, lang: str
) -> None:
    with _serve(tmp_path, openai_server, lang) as url:
        o = open_in(refused_mic, url, width=1280, lang=lang)
        page = o.page
        expect(page.locator("#chat-mic")).to_be_enabled(timeout=TIMEOUT_MS)  # a device exists
        page.click("#chat-mic")
        toast = page.locator(".toast").last
        said = "没有使用麦克风的权限" if lang == "zh" else "No permission to use the microphone"
        expect(toast).to_contain_text(said, timeout=TIMEOUT_MS)
        assert not LATIN_CODE.search(toast.inner_text())
        assert page.locator("#chat-mic").get_attribute("aria-pressed") == "false"  # not "recording"
        page.click("#btn-voice-mode")
        expect(page.locator("#voice-error")).to_contain_text(said, timeout=TIMEOUT_MS)
        state = page.locator("#voice-state")
        expect(state).to_have_text("无法开始" if lang == "zh" else "Cannot start")
        assert not LATIN_CODE.search(page.locator("#voice-mode").inner_text())
        o.check_clean()
        o.page.context.close()
