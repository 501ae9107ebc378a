"""Settings → Model / Embedding, "Test connection": the answer shows though the form was
drawn anew while the service was asked (a language chosen, a save, the theme flipped,
the settings fetched again on opening Settings: each draws a new box). It went to the
box the click was in, no longer in the page: "Testing…" gone and nothing said.
"""

from __future__ import annotations

from typing import Any

import pytest

from frontend_helpers import hold_next_call, open_settings_tab, require_chromium, wait_held

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

RUNNING = "Testing…"
# What each kind's answer says, from the scripted service (English: the page's language).
ANSWER = {"llm": "Models: test-model, test-embed", "embed": "64"}


def redraw_by_theme(page: Page) -> None:
    page.click("#theme-toggle")  # saved at once (settings_set): the form is drawn anew


def redraw_by_reopening(page: Page) -> None:
    page.click("#nav-chat")
    page.click("#nav-settings")  # the settings fetched again (settings_get), drawn anew


@pytest.mark.parametrize("kind", ["llm", "embed"])
@pytest.mark.parametrize("redraw", [redraw_by_theme, redraw_by_reopening])
def test_the_answer_of_a_connection_test_shows_though_the_form_was_drawn_anew_meanwhile(
    browser: Browser, serve: Any, openai_server: Any, redraw: Any, kind: str
) -> None:
    with serve(DL_EMBED_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="test-embed") as url:
        o = open_settings_tab(browser, url, "en", kind)
        page = o.page
        button = page.locator(f"#test-{kind}")
        result = page.locator(f"#test-{kind}-result")
        held = hold_next_call(page, "test_connection")
        button.click()
        route = wait_held(page, held, "test_connection")
        expect(result).to_have_text(RUNNING)
        result.evaluate("out => { out.dataset.old = '1'; }")
        redraw(page)
        expect(result).not_to_have_attribute("data-old", "1")  # a new box
        expect(result).to_have_text(RUNNING)  # still said in the new box
        expect(button).to_be_disabled()  # one test at a time, as in the box clicked
        route.continue_()
        expect(result).to_have_class("test-result ok")
        expect(result).to_contain_text(ANSWER[kind])
        expect(button).to_be_enabled()
        o.check_clean()
        page.context.close()
