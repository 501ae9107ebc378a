"""What gets read aloud (pure, no I/O).

    speakable("看这个 👉 **好** [链接](https://x.cn)")   # -> "看这个 好 链接"
    speech_weight("你好 ok")                              # -> 6

``speakable`` drops what a voice should not read: code blocks and inline code,
URLs, markdown markup (emphasis, headings, list bullets, quotes, tables, link
targets, images), HTML tags, ``<think>`` blocks and emoji. ``voice_speak`` cleans
the text it is given with it.

The page splits a streamed reply into sentences itself
(``frontend/js/voice/speech.js``, which has its own ``speakable``); both
``speakable`` and the page's splitter are checked against the cases in
``tests/data/speech_cases.json``.
"""

from __future__ import annotations

import re

from .cjk import LETTERS

__all__ = ["speakable", "speech_weight"]

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]{}\"'，。！？、；：）】》]+", re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.M)
_QUOTE = re.compile(r"^[ \t]*>+[ \t]?", re.M)
_BULLET = re.compile(r"^[ \t]*(?:[-*+•]|\d+[.)])[ \t]+", re.M)
_RULE = re.compile(r"^[ \t]*(?:[-*_=][ \t]*){3,}$", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|?)+[ \t]*$", re.M)
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~)")
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols & pictographs ext.
    "\u2600-\u27bf"  # misc symbols, dingbats
    "\u2b00-\u2bff"  # arrows, stars
    "\u2190-\u21ff"  # arrows
    "\u2300-\u23ff"  # technical (⌚ ⏰)
    "\ufe0e\ufe0f\u200d\u20e3"  # variation selectors, zero-width joiner, keycap
    "\U000e0020-\U000e007f"  # tag characters (flags)
    "]+"
)
_SPACES = re.compile(r"[ \t\u3000]+")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+(?=[。！？，、；：!?,.;:…”」』）)])")
_BLANK_LINES = re.compile(r"\s*\n\s*")
_SPEAKABLE_CHAR = re.compile(rf"[0-9A-Za-z\u00c0-\u024f\u0400-\u04ff{LETTERS}]")
_CJK = re.compile(f"[{LETTERS}]")


def speakable(text: str) -> str:
    """``text`` as it should be read aloud (may be empty)."""
    text = _THINK.sub(" ", text)
    text = _FENCE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _TABLE_RULE.sub(" ", text)
    text = _RULE.sub(" ", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("|", " ")
    text = _EMOJI.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    text = _BLANK_LINES.sub("\n", text)
    return text.strip()


def speech_weight(text: str) -> int:
    """How much there is to say: letters and digits count 1, CJK characters 2."""
    return len(_SPEAKABLE_CHAR.findall(text)) + len(_CJK.findall(text))
