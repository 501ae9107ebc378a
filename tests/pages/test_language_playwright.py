"""Every page and state in one language holds no text of the other: the Chinese
page no Latin words outside the allow-list (tests/lang_check.py: names of
formats, tools and models, addresses, file names), the English page no CJK
outside the user's own data. Walked in a real browser against ``dl-app serve``:
first-run setup (a wrong key), chat, memory (profile, diary and timeline,
import/export, cloud), every settings tab (the picture plugin and voice), the
inspector, About, and the error states: a broken import, a cloud backup not set
up, the service-down banner. Screenshots of the error states go to
``$DL_SHOTS_DIR`` (default /tmp/dl-shots)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend_helpers import (
    SHOTS,
    Relay,
    dl_serve,
    free_port,
    open_in,
    require_chromium,
)
from lang_check import cjk_chars, latin_words
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

KEY = "sk-lang-0123456789abcdef"
DAY = 86_400_000
T0 = 1_733_000_000_000

# The user's own words, per language: they may be in any language.
DATA = {
    "zh": {"self": "小叶子", "user": "阿明", "about": "我喜欢爬山。", "diary": [
        ("周末去爬山", "阿明说周末想去爬山，我推荐了佘山。", [("user", "周末想去爬山"),
                                                   ("assistant", "可以去佘山，离市区近。")]),
        ("最喜欢的咖啡", "阿明最喜欢拿铁，不加糖。", [("user", "我喜欢拿铁"), ("assistant", "记住了！")]),
    ], "say": "你还在吗？"},
    "en": {"self": "Leaf", "user": "Sam", "about": "I like hiking.", "diary": [
        ("Hiking at the weekend", "Sam wants to go hiking; I suggested the hills.",
         [("user", "I want to go hiking"), ("assistant", "The hills are close.")]),
        ("Favourite coffee", "Sam likes a latte without sugar.",
         [("user", "I like lattes"), ("assistant", "Noted!")]),
    ], "say": "Are you there?"},
}

# Names of licence documents and their authors, quoted as they are (About).
LICENCE_NAMES = ("Live2D Proprietary Software License Agreement", "Release License",
                 "Expandable Application", "Free Material License", "Mathew Groves",
                 "Chad Engler", "Guan", "Cubism Framework", "npm")

_TEXT_JS = """() => {
  // the user's and the model's words: messages, and what the inspector shows was sent
  const skip = ".msg-content, .msg-reasoning, .about-notices, textarea, option:not(:checked), "
    + ".inspector-section pre, .inspector-message pre, .inspector-message .muted";
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
    && getComputedStyle(e).visibility !== "hidden";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const p = walker.currentNode.parentElement;
    const s = walker.currentNode.textContent.trim();
    if (s && p && !p.closest(skip) && visible(p)) out.push(s);
  }
  for (const e of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!visible(e)) continue;
    for (const a of ["placeholder", "title", "aria-label"]) if (e.getAttribute(a)) out.push(e.getAttribute(a));
  }
  return out;
}"""


def export_file(path: Path, lang: str) -> Path:
    d = DATA[lang]
    diary, archived = [], []
    for i, (title, summary, messages) in enumerate(d["diary"]):
        uuid = f"00000000-0000-4000-8000-{i:012d}"
        start = T0 + i * 3 * DAY
        diary.append({"uuid": uuid, "title": title, "summary": summary, "startTime": start,
                      "endTime": start + 20 * 60_000})
        archived += [{"role": role, "content": text, "timestamp": start + j * 60_000,
                      "belongTo": uuid} for j, (role, text) in enumerate(messages)]
    data = {"selfName": d["self"], "userName": d["user"], "memoryAboutSelf": d["about"],
            "memoryAboutUser": "", "longTermMemory": diary, "shortTermMemory": [],
            "archivedMemory": archived, "currentSummary": ""}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def user_data(lang: str, *extra: str) -> list[str]:
    d = DATA[lang]
    words = [d["self"], d["user"], d["about"], d["say"], *extra]
    for title, summary, messages in d["diary"]:
        words += [title, summary, *(text for _r, text in messages)]
    return words


class Walk:
    """Collects text of the wrong language, page by page."""

    def __init__(self, page: Page, lang: str, data: list[str]) -> None:
        self.page, self.lang, self.data = page, lang, data
        self.found: dict[str, list[str]] = {}

    def check(self, where: str) -> None:
        self.page.wait_for_timeout(150)  # let a tab finish drawing what it loaded
        for text in self.page.evaluate(_TEXT_JS):
            if self.lang == "zh":
                bad = latin_words(text, self.data, allowed={"English"})
            else:
                bad = cjk_chars(text, self.data)
            if bad:
                self.found.setdefault(where, [])
                if text not in self.found[where]:
                    self.found[where].append(text)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"lang-{name}-{self.lang}.png"))







@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_and_error_is_in_one_language(
    browser: Browser, tmp_path: Path, lang: str
) -> None:
    service = OpenAICompatServer(api_key=KEY, models=["test-model"])
    service.default_responder = companion_responder
    env = {"DL_LLM_BASE_URL": "", "DL_LLM_MODEL": "", "DL_OLLAMA_URL": f"http://127.0.0.1:{free_port()}",
           "LANG": "zh_CN.UTF-8" if lang == "zh" else "en_US.UTF-8"}
    with service:
        relay = Relay(free_port(), service.port)
        relay.start()
        address = f"http://127.0.0.1:{relay.port}/v1"
        data = user_data(lang, address, "'yesterday'", *LICENCE_NAMES)
        try:
            with dl_serve(tmp_path / "data", "", extra_env=env) as url:
                o = open_in(browser, url, height=800, lang=lang)
                _walk(o.page, Walk(o.page, lang, data), address, tmp_path, relay)
                o.check_clean()
                o.page.context.close()
        finally:
            relay.stop()


def _walk(page: Page, w: Walk, address: str, tmp_path: Path, relay: Relay) -> None:
    lang = w.lang
    # First run: setup, with ollama absent and a wrong key explained.
    expect(page.locator("#setup .setup-card")).to_be_visible()
    w.check("setup")
    page.select_option("#setup-preset", "other")
    page.fill("#setup-url", address)
    page.fill("#setup-key", "sk-wrong")
    page.fill("#setup-model", "test-model")
    page.click("#setup-service-apply")
    expect(page.locator("#setup-opt-service .setup-status.error")).to_contain_text("401")
    w.check("setup: a wrong key")
    w.shot("setup-wrong-key")
    page.fill("#setup-key", KEY)
    page.click("#setup-service-apply")
    expect(page.locator("#setup-intro-done")).to_be_visible()
    w.check("setup: introductions")
    page.click("#setup-intro-skip")
    expect(page.locator("#setup")).to_have_count(0)
    w.check("chat")

    # Memory: an import (and a broken one), the profile, the diary and its timeline, cloud.
    page.click("#nav-memory")
    page.click("#memory-tab-transfer")
    broken = json.loads(export_file(tmp_path / "good.json", lang).read_text(encoding="utf-8"))
    broken["longTermMemory"][1]["startTime"] = "yesterday"
    broken["selfName"] = 7
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#import-file", str(bad))
    error = page.locator("#import-error")
    expect(error).to_contain_text("日记第 2 条的开始时间" if lang == "zh" else "longTermMemory[1].startTime")
    w.check("import: a broken file")
    w.shot("import-error")
    page.set_input_files("#import-file", str(tmp_path / "good.json"))
    expect(page.locator("#import-btn")).to_be_enabled()
    page.click("#import-btn")
    w.check("import: asked to confirm")
    page.locator(".modal .btn.primary").click()
    expect(page.locator("#import-status")).not_to_be_empty()
    w.check("import: done")
    for tab in ("self", "diary", "cloud"):
        page.click(f"#memory-tab-{tab}")
        expect(page.locator(f"#memory-{tab}")).to_be_visible()
        w.check(f"memory: {tab}")
    page.click("#cloud-test")  # nothing set up: said why, once
    why = "云备份还没有设置" if lang == "zh" else "is not set up"
    expect(page.locator("#cloud-result")).to_contain_text(why)
    said = page.locator("#cloud-result").inner_text()
    assert said.count(why) == 1, said
    w.check("cloud: not set up")
    w.shot("cloud-error")

    # Settings, every tab; the inspector; About.
    page.click("#nav-settings")
    for tab in ("llm", "embed", "memory", "appearance", "plugins", "voice", "other"):
        page.click(f"#settings-tab-{tab}")
        w.check(f"settings: {tab}")
    page.click("#settings-tab-llm")
    page.click("#test-llm") if page.locator("#test-llm").count() else None
    page.click("#settings-tab-appearance")
    page.check("#pref-inspector")
    page.click("#nav-inspector")
    expect(page.locator(".inspector-section").first).to_be_visible()
    w.check("inspector")
    page.click("#footer-about")
    expect(page.locator(".about-list")).to_be_visible()
    w.check("about")
    page.keyboard.press("Escape")

    # The service goes away: the banner says so in the page's language.
    relay.stop()
    page.click("#nav-chat")
    page.fill("#chat-input", DATA[lang]["say"])
    page.press("#chat-input", "Enter")
    expect(page.locator("#error-banner")).to_be_visible(timeout=60_000)
    w.check("chat: the service is down")
    w.shot("service-down")
    assert w.found == {}, json.dumps(w.found, ensure_ascii=False, indent=1)


