"""What is read aloud (``dl_app.core.speech.speakable``, which ``voice_speak`` uses).
The same cases drive the page's copy and its sentence splitter
(``frontend/js/voice/speech.js``) in ``test_voice_playwright.py``."""

from __future__ import annotations

import json

import pytest

from dl_app.core.speech import speakable, speech_weight
from where import DATA

CASES = json.loads((DATA / "speech_cases.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["speakable"], ids=lambda c: c["in"][:20])
def test_speakable(case: dict[str, str]) -> None:
    assert speakable(case["in"]) == case["out"]


def test_speech_weight_counts_cjk_double_and_nothing_for_emoji() -> None:
    assert speech_weight("你好 ok") == 6
    assert speech_weight("😀 👍 …") == 0
