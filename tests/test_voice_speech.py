"""What is read aloud and in which pieces (``dl_app.core.speech``); the same
cases drive the page's copy (``frontend/js/voice/speech.js``) in
``test_voice_playwright.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dl_app.core.speech import SentenceSplitter, speakable, speech_weight, split_sentences

CASES = json.loads((Path(__file__).parent / "data" / "speech_cases.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["speakable"], ids=lambda c: c["in"][:20])
def test_speakable(case: dict[str, str]) -> None:
    assert speakable(case["in"]) == case["out"]


@pytest.mark.parametrize("case", CASES["split"], ids=lambda c: c["in"][:20])
def test_split_whole_and_streamed(case: dict[str, object]) -> None:
    text = str(case["in"])
    assert split_sentences(text) == case["out"]
    # Streamed in pieces of every size: the same sentences come out.
    for size in (1, 2, 3, 7):
        sp = SentenceSplitter()
        got: list[str] = []
        for i in range(0, len(text), size):
            got += sp.feed(text[i : i + size])
        got += sp.flush()
        assert got == case["out"], size


def test_first_sentence_comes_before_the_reply_ends() -> None:
    sp = SentenceSplitter()
    assert sp.feed("你好呀！今天过得") == []  # "你好呀！" is short: it waits
    assert sp.feed("怎么样？我一直") == ["你好呀！今天过得怎么样？"]
    assert sp.feed("在等你。") == []  # the end may still get a closing quote
    assert sp.feed("Then") == ["我一直在等你。"]
    assert sp.flush() == ["Then"]


def test_code_blocks_are_held_until_closed_and_not_read() -> None:
    sp = SentenceSplitter()
    assert sp.feed("Here is the code:\n```py\nprint('hi. there')\n") == ["Here is the code:"]
    assert sp.feed("x = 1. y = 2\n") == []
    assert sp.feed("```\nThat prints hi.") == []
    assert sp.flush() == ["That prints hi."]


def test_long_text_without_full_stops_is_cut_at_commas() -> None:
    parts = split_sentences("我们走过山，" * 40, max_chars=60)
    assert len(parts) > 3
    assert all(speech_weight(p) <= 60 for p in parts)
    assert "".join(parts) == "我们走过山，" * 40


def test_nothing_speakable_gives_nothing() -> None:
    assert split_sentences("😀😀 👍\n```\ncode\n```\nhttps://example.com") == []
    assert speech_weight("😀") == 0
