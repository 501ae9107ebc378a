"""``core/cjk.py``, the one home of the CJK ranges (issue 15), against the private
copies it replaced.

Each module had its own class; each now takes one of ``cjk``'s. A class is a
union of ranges, so two classes agree everywhere when they agree at every point
where either of them starts or stops: the comparison below is exact over all of
Unicode, not a sample. What changed is listed, per caller, and nothing else.
"""

from __future__ import annotations

import itertools
import re

import pytest

from dl_app.adapters.tiny_chat import language_of
from dl_app.core import cjk
from dl_app.core.emotion import _WORDS, TAG_PATTERN, infer_emotion
from dl_app.core.evidence import dedupe_key
from dl_app.core.followups import is_plan
from dl_app.core.speech import speech_weight
from dl_app.core.tokens import HeuristicCounter

# The classes as they were, in the module that had each.
OLD = {
    "output_check": r"\u3400-\u9fff\uf900-\ufaff",
    "emotion": r"\u4e00-\u9fff",
    "followups": r"\u3400-\u9fff",
    "tiny_chat": r"\u3400-\u9fff",
    "speech": r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff",
    "tokenizer": r"\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef",
    "diary_lancedb": r"\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f",
    "tokens": r"\u2e81-\U0010ffff",  # HeuristicCounter: ord(ch) > 0x2E80
}
NOW = {
    "output_check": cjk.IDEOGRAPHS,
    "emotion": cjk.IDEOGRAPHS,
    "followups": cjk.IDEOGRAPHS,
    "tiny_chat": cjk.IDEOGRAPHS,
    "speech": cjk.LETTERS,
    "tokenizer": cjk.WIDE,
    "diary_lancedb": cjk.RUN,
    "tokens": cjk.WIDE_FROM + "-\U0010ffff",
}
# What each caller now counts that it did not (nothing is dropped anywhere).
ADDED = {
    "output_check": [(0x20000, 0x2FA1F)],  # extensions B-F
    "emotion": [(0x3400, 0x4DFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F)],
    "followups": [(0xF900, 0xFAFF), (0x20000, 0x2FA1F)],
    "tiny_chat": [(0xF900, 0xFAFF), (0x20000, 0x2FA1F)],
    "speech": [(0x20000, 0x2FA1F)],
    "tokenizer": [],
    "diary_lancedb": [],
    "tokens": [(0x2E80, 0x2E80)],  # the first radical was counted as Latin
}


def _bounds(cls: str) -> set[int]:
    """Where the class may start or stop being true."""
    text = cls.encode().decode("unicode_escape") if "\\" in cls else cls
    points = {0, 0x110000}
    for lo, hi in re.findall(r"(.)-(.)", text, re.S):
        points |= {ord(lo), ord(hi) + 1}
    assert len(points) > 2, cls
    return points


def _changes(old: str, new: str) -> list[tuple[int, int, bool]]:
    """(first, last, in the new class) for every stretch where the classes differ."""
    was, now = re.compile(f"[{old}]"), re.compile(f"[{new}]")
    points = sorted(_bounds(old) | _bounds(new))
    out = []
    for lo, nxt in itertools.pairwise(points):
        a, b = bool(was.fullmatch(chr(lo))), bool(now.fullmatch(chr(lo)))
        if a != b:
            out.append((lo, nxt - 1, b))
    return out


@pytest.mark.parametrize("caller", sorted(OLD))
def test_each_caller_only_gains_what_is_listed(caller: str) -> None:
    changes = _changes(OLD[caller], NOW[caller])
    assert all(gained for _, _, gained in changes), f"{caller} lost characters: {changes}"
    assert [(lo, hi) for lo, hi, _ in changes] == ADDED[caller]


CHARACTERS = [  # (character, ideograph, letter, wide, run)
    ("a", False, False, False, False),
    ("é", False, False, False, False),
    ("⺀", False, False, True, True),  # U+2E80, radical
    ("。", False, False, True, False),  # CJK punctuation ends a run
    ("あ", False, True, True, True),  # hiragana
    ("カ", False, True, True, True),  # katakana
    ("ㄅ", False, False, True, True),  # bopomofo
    ("㐀", True, True, True, True),  # extension A
    ("䷀", True, True, True, False),  # a Yijing hexagram, between extension A and the block
    ("中", True, True, True, True),
    ("鿿", True, True, True, True),  # U+9FFF, the block's last
    ("가", False, True, False, True),  # hangul
    ("豈", True, True, True, True),  # U+F900, compatibility ideograph
    ("︰", False, False, True, False),  # compatibility form
    ("Ａ", False, False, True, False),  # full-width
    ("𠀀", True, True, False, True),  # U+20000, extension B
    ("😀", False, False, False, False),
]


@pytest.mark.parametrize(("ch", "ideograph", "letter", "wide", "run"), CHARACTERS)
def test_the_classes_by_character(ch: str, ideograph: bool, letter: bool, wide: bool,
                                  run: bool) -> None:
    assert cjk.has_ideograph(ch) is ideograph
    assert cjk.ideograph_count(ch * 3) == (3 if ideograph else 0)
    for cls, want in ((cjk.LETTERS, letter), (cjk.WIDE, wide), (cjk.RUN, run)):
        assert bool(re.fullmatch(f"[{cls}]", ch)) is want, (ch, cls)


def test_the_callers_see_the_classes() -> None:
    assert language_of("豈豈 ok") == "zh"  # compatibility ideographs now count as Chinese
    assert is_plan("𠀀𠀀") and not is_plan("ab")
    assert speech_weight("中a") == 3 and speech_weight("𠀀") == 2
    assert HeuristicCounter().count("中文") == 2


def test_the_emotion_words_are_matched_as_before() -> None:
    """emotion's words are plain letters or common characters: each is still matched
    as a substring (Chinese) or as a whole word (Latin)."""
    old = re.compile(r"[\u4e00-\u9fff]")
    for words in _WORDS.values():
        for word in words:
            assert cjk.has_ideograph(word) is bool(old.search(word)), word
    assert infer_emotion("我今天好开心") == "joy"
    old_tag = r"^\s*[\[【(（]\s*([A-Za-z\u4e00-\u9fff]{1,12})\s*[\]】)）]\s*"
    assert old_tag.replace(r"\u4e00-\u9fff", "\u4e00-\u9fff") == TAG_PATTERN


@pytest.mark.parametrize(("text", "key"), [
    ("Hi, there!", "hithere"),
    ("  你好，世界。 ", "你好世界"),
    ("snake_case  Words", "snakecasewords"),
    ("ÀÉÎ ÕÜ", "àéîõü"),
    ("İ", "i̇"),  # U+0130: tiny_chat lower-cased first and kept only "i"; the only such letter
])
def test_match_key(text: str, key: str) -> None:
    assert cjk.match_key(text) == key == dedupe_key(text)
