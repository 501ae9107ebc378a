"""What a new user met on a tour of the app in browser mode, in Chinese and in English
(each a defect found that way): "saved" said in the language just saved.

Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import pytest

from frontend_helpers import SHOTS, require_chromium

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

# Every toast's words as it appears (they leave after 4 s: a busy machine may look late).
RECORD_TOASTS = """() => {
  window.__toasts = [];
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.addedNodes) window.__toasts.push(n.textContent);
  }).observe(document.getElementById("toasts"), { childList: true });
}"""


def toasts(page: Page) -> list[str]:
    return list(page.evaluate("window.__toasts"))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.parametrize(("start", "to", "saved"), [("en", "zh", "已保存。"), ("zh", "en", "Saved.")])
def test_saving_another_language_in_settings_says_saved_in_it(
    serve, open_page, start: str, to: str, saved: str
) -> None:
    """Settings → Appearance, language changed and saved: "saved" (the toast and the
    line by the button) is in the new language; it was said in the old one."""
    with serve() as url:
        o = open_page(url, lang=start)
        page = o.page
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if start == "zh" else "en")
        page.click("#nav-settings")
        page.click("#settings-tab-appearance")
        page.select_option("#settings-appearance select[name='language']", to)
        page.evaluate(RECORD_TOASTS)
        page.locator("#settings-appearance button[type='submit']").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if to == "zh" else "en")
        page.wait_for_function("window.__toasts.length > 0")
        assert toasts(page) == [saved]
        expect(page.locator("#settings-appearance .form-status")).to_have_text(saved)
        o.check_clean()
