"""The notice of a service that is down (issue 18, "degraded, not dead"): with
the embedding service down from the start, the page says recall is full-text
only for now, in Chinese and in English, chats all the same, and drops the
notice by itself once the service is back (the app asks again with backoff).
Real parts: ``dl-app serve`` on the scripted server (``embedding_error`` takes
its embeddings down), Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager

from frontend_helpers import Opened, require_chromium
from servers.openai_compat import OpenAICompatServer

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
