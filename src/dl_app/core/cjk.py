"""Chinese, Japanese and Korean characters: the one home of their Unicode ranges.

The ranges are strings for a regular-expression character class (``f"[{KANA}]"``);
each caller takes the class that fits what it asks:

- ``IDEOGRAPHS``: Chinese characters (hanzi, kanji, hanja). "Is this text
  Chinese?", "how many Chinese characters?" (``ideograph_count``, ``has_ideograph``);
- ``LETTERS``: ideographs, kana and hangul, the characters read aloud one by one
  (``core/speech.py``);
- ``WIDE``: everything a tokenizer counts like a Chinese character, punctuation
  and full-width forms included (``adapters/tokenizer.py``, its bench);
- ``RUN``: the letters the full-text index splits into characters and pairs
  (``adapters/fts_text.py``); it leaves out punctuation, so a run ends at "，".

``match_key`` folds a text for comparing what was said (letters and digits only,
lower case).
"""

from __future__ import annotations

import re

__all__ = [
    "BOPOMOFO", "COMPAT", "EXT_A", "HAN", "HANGUL", "IDEOGRAPHS", "KANA", "LETTERS",
    "RADICALS", "RUN", "STROKES", "SUPPLEMENTARY", "UNIFIED", "WIDE", "WIDE_FROM",
    "has_ideograph", "ideograph_count", "match_key",
]

# The Unicode blocks (as class ranges), in code point order.
RADICALS = "\u2e80-\u2fdf"  # CJK radicals supplement, Kangxi radicals
KANA = "\u3040-\u30ff"  # hiragana, katakana
BOPOMOFO = "\u3100-\u312f"
STROKES = "\u3190-\u31ff"  # kanbun, bopomofo extended, CJK strokes, katakana extension
EXT_A = "\u3400-\u4dbf"  # CJK unified ideographs extension A
UNIFIED = "\u4e00-\u9fff"  # CJK unified ideographs
HAN = "\u3400-\u9fff"  # extension A, the Yijing hexagram symbols between, the unified block
HANGUL = "\uac00-\ud7af"  # hangul syllables
COMPAT = "\uf900-\ufaff"  # CJK compatibility ideographs
SUPPLEMENTARY = "\U00020000-\U0002fa1f"  # extensions B-F, compatibility supplement

IDEOGRAPHS = HAN + COMPAT + SUPPLEMENTARY
LETTERS = KANA + HANGUL + IDEOGRAPHS
# From the radicals to the unified block (CJK punctuation, enclosed and
# compatibility characters included), compatibility forms, full-width forms.
WIDE_FROM = "\u2e80"  # the first code point of the CJK blocks
WIDE = WIDE_FROM + "-\u9fff" + COMPAT + "\ufe30-\ufe4f\uff00-\uffef"
RUN = RADICALS + KANA + BOPOMOFO + STROKES + EXT_A + UNIFIED + HANGUL + COMPAT + SUPPLEMENTARY

_IDEOGRAPH = re.compile(f"[{IDEOGRAPHS}]")
_NOT_WORD = re.compile(r"[\W_]+")


def ideograph_count(text: str) -> int:
    """How many Chinese characters ``text`` holds."""
    return len(_IDEOGRAPH.findall(text))


def has_ideograph(text: str) -> bool:
    return _IDEOGRAPH.search(text) is not None


def match_key(text: str) -> str:
    """``text`` without spaces, punctuation or underscores, in lower case:
    "Hi, there!" and "hi there" have the same key."""
    return _NOT_WORD.sub("", text).lower()
