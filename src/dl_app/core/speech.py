"""What gets read aloud, and in which pieces (pure, no I/O).

    speakable("看这个 👉 **好** [链接](https://x.cn)")   # -> "看这个 好 链接"
    splitter = SentenceSplitter()
    splitter.feed("你好！今天")      # -> ["你好！"] ... once long enough, see min_chars
    splitter.flush()                # -> whatever is left

``speakable`` drops what a voice should not read: code blocks and inline code,
URLs, markdown markup (emphasis, headings, list bullets, quotes, tables, link
targets, images), HTML tags, ``<think>`` blocks and emoji.

``SentenceSplitter`` turns a streamed reply (deltas of any size) into complete
sentences as soon as they end: at Chinese and English end punctuation
(。！？!?；;… and a full stop followed by a space) and at line breaks; closing
quotes and brackets stay with their sentence. A sentence shorter than
``min_chars`` (speakable characters; a CJK character counts 2) waits for the
next one, so tiny fragments ("嗯。", "Oh!") are not synthesised on their own;
one longer than ``max_chars`` is cut at a comma. Text inside an open code
fence is held until the fence closes (and then dropped by ``speakable``).

``frontend/js/voice/speech.js`` is the same algorithm for the page; both are
checked against the cases in ``tests/data/speech_cases.json``.
"""

from __future__ import annotations

import re

__all__ = ["SentenceSplitter", "speakable", "speech_weight", "split_sentences"]

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
_CJK_RANGES = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SPEAKABLE_CHAR = re.compile(rf"[0-9A-Za-z\u00c0-\u024f\u0400-\u04ff{_CJK_RANGES}]")
_CJK = re.compile(rf"[{_CJK_RANGES}]")

_ENDERS = "。！？!?；;…\n"
_CLOSERS = "”’」』）)]】》\"'"
_COMMAS = "，,、：:"


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


def _end_of_sentence(text: str, start: int, final: bool) -> int:
    """Index just past the first sentence end at or after ``start``, or -1."""
    n = len(text)
    i = start
    while i < n:
        c = text[i]
        end = -1
        if c in _ENDERS:
            end = i + 1
            while end < n and text[end] in _ENDERS.replace("\n", "") + ".":
                end += 1
        elif c == "." and ((i + 1 < n and text[i + 1] in " \n\t") or (final and i + 1 == n)):
            end = i + 1
        if end != -1:
            while end < n and text[end] in _CLOSERS:
                end += 1
            if end == n and not final and c != "\n":
                # More closers or enders may still arrive; wait for the next delta.
                return -1
            return end
        i += 1
    return -1


class SentenceSplitter:
    """Feed a streamed reply, get complete speakable sentences (see module doc)."""

    def __init__(self, min_chars: int = 8, max_chars: int = 160) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self._buf = ""
        self._held = ""  # complete sentences too short to say alone

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The rest, at the end of the reply (a short last piece is said too)."""
        out = self._drain(final=True)
        rest = speakable(self._held)
        self._held = ""
        if speech_weight(rest):
            out.append(rest.replace("\n", " "))
        return out

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while self._buf:
            fence = self._buf.find("```")
            head = self._buf if fence == -1 else self._buf[:fence]
            end = _end_of_sentence(head, 0, final or fence != -1)
            if end == -1 and fence != -1:  # a code block: cut through its end, unread
                close = self._buf.find("```", fence + 3)
                if close == -1 and not final:
                    return out
                end = len(self._buf) if close == -1 else close + 3
            if end == -1:
                end = self._cut_long(final)
                if end == -1:
                    return out
            piece, self._buf = self._buf[:end], self._buf[end:]
            self._held += piece
            spoken = speakable(self._held)
            weight = speech_weight(spoken)
            if not weight:
                self._held = ""  # nothing to say in it (emoji, code, a link)
            elif weight >= self.min_chars:
                out.append(spoken.replace("\n", " "))
                self._held = ""
        return out

    def _cut_long(self, final: bool) -> int:
        """Where to cut pending text that has grown past ``max_chars`` without a
        sentence end: after its last comma (else space) within the limit; -1 if
        it is not that long yet."""
        if final:
            return len(self._buf)
        weight, comma, space = 0, -1, -1
        for i, c in enumerate(self._buf):
            weight += speech_weight(c)
            if c in _COMMAS:
                comma = i
            elif c == " ":
                space = i
            if weight >= self.max_chars:
                return (comma if comma > 0 else space if space > 0 else i) + 1
        return -1


def split_sentences(text: str, min_chars: int = 8, max_chars: int = 160) -> list[str]:
    """A whole text as speakable sentences."""
    splitter = SentenceSplitter(min_chars, max_chars)
    return [*splitter.feed(text), *splitter.flush()]
