"""The page tests' fixtures, in one place: Debian's Chromium, the real
``dl-app serve`` on the scripted model, and pages opened in fresh contexts.

A test module changes its browser's flags with a module-level ``CHROMIUM_EXTRA``
(the avatar pages need WebGL); one that needs a browser per test (a fake
microphone, none at all) opens its own with ``frontend_helpers.chromium``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import CHROMIUM, CHROMIUM_ARGS, Opened, dl_serve, open_in
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    """Playwright for the module (one per thread: a test that needs a second
    browser launches it from here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(pw: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    extra = getattr(request.module, "CHROMIUM_EXTRA", ())
    b = pw.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra], headless=True
    )
    yield b
    b.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data dir of the served app (created: tests write settings into it)."""
    d = tmp_path / "serve-data"
    d.mkdir()
    return d


@pytest.fixture
def serve(
    openai_server: OpenAICompatServer, data_dir: Path
) -> Callable[..., AbstractContextManager[str]]:
    """``with serve() as url``: the real server on the scripted model;
    ``serve(base_url)`` on another service, ``serve(LANG=...)`` with variables."""
    openai_server.default_responder = companion_responder

    def start(
        base_url: str | None = None, extra_env: dict[str, str] | None = None, **env: str
    ) -> AbstractContextManager[str]:
        return dl_serve(
            data_dir, openai_server.base_url if base_url is None else base_url,
            extra_env={**(extra_env or {}), **env},
        )

    return start


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Opened]]:
    """``open_page(url, width=, height=, color_scheme=, lang=, locale=)``; the
    contexts close after the test."""
    opened: list[Opened] = []

    def opener(url: str, **options: Any) -> Opened:
        opened.append(open_in(browser, url, **options))
        return opened[-1]

    yield opener
    for o in opened:
        o.page.context.close()
