"""The voice's reference clip is chosen, not typed (Settings → Voice, F5-TTS or Fish
Speech): its row shows the clip's file name, "Choose a clip…" uploads one to the
data dir at once (and says to type its words below), a file that is not audio is
refused in the page's language, "Remove" takes it out of use once saved. In
Chinese and English; screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import SHOTS, choose_lang, require_chromium
from servers.voice_servers import tone_wav

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

WORDS = {
    "zh": {"none": "还没有参考音频", "choose": "选择音频…", "remove": "移除", "hint": "已上传。",
           "bad": "不是", "saved": "已保存。"},
    "en": {"none": "No reference clip yet", "choose": "Choose a clip…", "remove": "Remove",
           "hint": "Uploaded.", "bad": "not", "saved": "Saved."},
}


def _voice(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "settings.json"
    return json.loads(path.read_text("utf-8")).get("voice", {}) if path.exists() else {}


def _save(page: Page, lang: str) -> None:
    page.click("#settings-voice button[type=submit]")
    expect(page.locator("#settings-voice .form-status")).to_have_text(WORDS[lang]["saved"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reference_clip_is_chosen_shown_and_removed(serve: Any, open_page: Any,
                                                        data_dir: Path, tmp_path: Path,
                                                        lang: str) -> None:
    words = WORDS[lang]
    clip = tmp_path / "我的 声音.wav"
    clip.write_bytes(tone_wav(2.0))
    junk = tmp_path / "notes.wav"
    junk.write_bytes(b"not audio at all")
    with serve() as url:
        o = open_page(url, lang=lang)
        page = o.page
        choose_lang(page, lang)  # the form drawn with it before it is used
        page.click("#nav-settings")
        page.click("#settings-tab-voice")
        page.select_option("#f-voice-tts_provider", "f5")
        preview = page.locator("#f-voice-reference_file-preview")
        expect(preview).to_contain_text(words["none"])
        expect(page.locator("#f-voice-reference_file")).to_have_attribute("type", "hidden")
        expect(page.locator("#f-voice-reference_file-choose")).to_have_text(words["choose"])
        expect(page.locator("#f-voice-reference_file-remove")).to_be_hidden()
        expect(page.locator("#voice-ref-upload")).to_have_count(0)  # one way to choose it

        page.set_input_files("#f-voice-reference_file-file", str(junk))
        error = page.locator("#f-voice-reference_file-upload-error")
        expect(error).to_contain_text(words["bad"])
        assert ("notes.wav" in error.inner_text()), error.inner_text()
        expect(preview).to_contain_text(words["none"])

        page.set_input_files("#f-voice-reference_file-file", str(clip))
        expect(preview).to_have_text("我的_声音.wav")
        expect(error).to_be_empty()
        expect(page.locator("#f-voice-reference_file-note")).to_contain_text(words["hint"])
        expect(page.locator("#f-voice-reference_file-remove")).to_be_visible()
        assert (data_dir / "voice" / "我的_声音.wav").read_bytes() == clip.read_bytes()
        page.fill("#f-voice-reference_text", "参考文本")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("[data-path='voice.reference_file']").screenshot(
            path=str(SHOTS / f"voice-reference-{lang}.png"))
        _save(page, lang)
        voice = _voice(data_dir)
        assert voice["reference_file"] == "我的_声音.wav", voice
        assert voice["reference_text"] == "参考文本", voice

        o.reload()  # the name is shown from the saved settings
        page.click("#nav-settings")
        page.click("#settings-tab-voice")
        expect(page.locator("#f-voice-reference_file-preview")).to_have_text("我的_声音.wav")
        page.click("#f-voice-reference_file-remove")
        expect(page.locator("#f-voice-reference_file-preview")).to_contain_text(words["none"])
        _save(page, lang)
        assert _voice(data_dir)["reference_file"] == "", _voice(data_dir)
        o.check_clean()
