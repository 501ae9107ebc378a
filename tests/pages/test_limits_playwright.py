"""The notice of a service that is down (issue 18, "degraded, not dead"): with
the embedding service down from the start, the page says recall is full-text
only for now, in Chinese and in English, chats all the same, and drops the
notice by itself once the service is back (the app asks again with backoff);
with speech and pictures down, one line each, each gone when it is back.
Real parts: ``dl-app serve`` on the scripted server (``embedding_error`` takes
its embeddings down), Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from frontend_helpers import Opened, require_chromium
from servers.openai_compat import OpenAICompatServer
from servers.voice_servers import VoiceServer

require_chromium()

from playwright.sync_api import expect  # noqa: E402

NOTICE = {"zh": "向量服务不可用：回忆暂时只用全文搜索",
          "en": "Embedding service unreachable: recall uses full-text search for now"}


def test_the_embedder_down_is_said_in_the_pages_language_and_goes_when_it_is_back(
    serve: Callable[..., AbstractContextManager[str]],
    open_page: Callable[..., Opened],
    openai_server: OpenAICompatServer,
) -> None:
    openai_server.embedding_error = 503  # down from the start
    with serve(DL_EMBED_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="remote-embed") as url:
        pages = {lang: open_page(url, lang=lang) for lang in ("zh", "en")}
        for lang, o in pages.items():
            notice = o.page.locator("#service-limits .limit")
            expect(notice).to_have_text(NOTICE[lang], timeout=60_000)
            expect(notice).to_have_attribute("title", re.compile("503"))  # why, on hover
        zh = pages["zh"].page
        zh.fill("#chat-input", "你好")  # the chat goes on meanwhile
        zh.press("#chat-input", "Enter")
        expect(zh.locator(".msg.assistant").last).not_to_be_empty()
        openai_server.embedding_error = None  # back: the next probe finds it
        for o in pages.values():
            expect(o.page.locator("#service-limits")).to_be_hidden(timeout=90_000)
            o.check_clean()


SPEECH = {"zh": "语音朗读暂时不可用：回复先只显示文字",
          "en": "Speech service unavailable: replies are not read aloud for now"}
PICTURES = {"zh": "图片服务暂时不可用：现在不能画图",
            "en": "Image service unavailable: no pictures can be drawn for now"}


def test_speech_and_pictures_down_are_said_one_line_each_and_go_when_they_are_back(
    serve: Callable[..., AbstractContextManager[str]],
    open_page: Callable[..., Opened],
    data_dir: Path,
) -> None:
    with VoiceServer() as vs, OpenAICompatServer() as pics:
        vs.down = pics.down = 503  # both down from the start
        (data_dir / "settings.json").write_text(json.dumps({
            "voice": {"tts_enabled": True, "tts_provider": "openai",
                      "openai_tts_url": vs.openai_url},
            "images": {"enabled": True, "base_url": pics.base_url, "model": "img"},
        }))
        with serve() as url:
            pages = {lang: open_page(url, lang=lang) for lang in ("zh", "en")}
            for lang, o in pages.items():
                box = o.page.locator("#service-limits")
                expect(box.locator(".limit[data-service=tts]")).to_have_text(
                    SPEECH[lang], timeout=60_000)
                expect(box.locator(".limit[data-service=pictures]")).to_have_text(PICTURES[lang])
                expect(box.locator(".limit")).to_have_count(2)
            vs.down = None  # speech is back: its line goes, the pictures' stays
            for o in pages.values():
                box = o.page.locator("#service-limits")
                expect(box.locator(".limit[data-service=tts]")).to_have_count(0, timeout=90_000)
                expect(box.locator(".limit")).to_have_count(1)
            pics.down = None
            for o in pages.values():
                expect(o.page.locator("#service-limits")).to_be_hidden(timeout=90_000)
                o.check_clean()
