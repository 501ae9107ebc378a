"""The user says their name in chat ("你好，我叫小林。", "My name is Maya").

While the user's name is still the placeholder of the first start (旅行者,
Traveler: setup was skipped), the companion takes the name the user gives and
calls them by it from that very reply on; a name the user chose is never
replaced this way. Without this the prompt kept saying "用户叫旅行者" after the
user had said who they are, and even a large model then hesitates between the two.

Rules, zh and en, made for precision rather than reach: a sentence that may mean
something else is not taken ("我叫了外卖", "我叫什么？", "I'm tired",
"call me later"). The name must stand on its own: followed by punctuation, the
end of the message, or (zh) a particle such as 就/吧/哦.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from .cjk import IDEOGRAPHS

__all__ = ["introduced_name", "learned_name"]

MAX_NAME = 20  # characters; the profile allows 40, a name said in chat is short

_ZH_BEFORE = r"(?:^|[，,。.！!？?~～、；;\s]|你好|您好|嗨|哈喽|哈啰)"
_ZH_AFTER = r"(?=$|[，,。.！!？?~～、；;\s]|就|吧|哦|喔|哈|啦|呀|啊|呢)"
# 我叫小林 / 我的名字是小林 / 我的名字叫小林 / 你可以叫我小林 / 叫我小林就好
_ZH = re.compile(
    _ZH_BEFORE + r"\s*(?:我叫|我的名字(?:是|叫)|(?:你|您)?(?:可以)?叫我)\s*"
    r"([" + IDEOGRAPHS + r"]{2,4}?|[A-Za-z][A-Za-z'\-]{1,19})" + _ZH_AFTER
)
# Words that follow "我叫"/"叫我" without being a name.
_ZH_NOT = re.compile(r"[什么啥谁哪吗呢了过着你他她它们的去来车外卖醒起别不没还也都再]")

_NAME = r"([A-Za-z][A-Za-z'\-]{1,19})"
_EN_AFTER = r"(?=$|[\s.,!?;:)~])"
_EN = [
    re.compile(r"\bmy name(?:'s| is)\s+" + _NAME + _EN_AFTER, re.IGNORECASE),
    re.compile(r"\b(?:you can |please )?call me\s+" + _NAME + _EN_AFTER, re.IGNORECASE),
    # "I'm Maya" only at the start of a greeting, capitalized, then a pause.
    re.compile(r"^\s*(?:hi|hello|hey|hiya|yo)\b[\s!,.~]*(?:i'm|i am|this is)\s+"
               r"([A-Z][A-Za-z'\-]{1,19})(?=$|[.,!?;~]|\s+(?:and|here|by the way)\b)",
               re.IGNORECASE),
]
# Words that follow "call me", "I'm" or "my name is" without being a name.
_EN_NOT = frozenset({
    "a", "an", "the", "and", "but", "or", "so", "if", "when", "whenever", "later", "tomorrow",
    "tonight", "today", "now", "soon", "back", "anytime", "anything", "anyway", "sometime",
    "maybe", "please", "again", "after", "before", "here", "there", "home", "not", "just",
    "really", "very", "too", "also", "still", "sorry", "fine", "good", "ok", "okay", "well",
    "tired", "busy", "sick", "happy", "sad", "bored", "hungry", "ready", "done", "glad", "new",
    "old", "sure", "free", "alone", "late", "early", "what", "who", "whatever", "crazy",
    "lucky", "chinese", "english", "american", "british", "japanese", "korean", "french",
    "german", "indian", "canadian", "australian",
})


def introduced_name(text: str) -> str | None:
    """The name the user gives for themselves in ``text``, if it says one plainly."""
    text = text.strip()
    if not text:
        return None
    for match in _ZH.finditer(text):
        name = match.group(1)
        if not _ZH_NOT.search(name) and name.lower() not in _EN_NOT:
            return _tidy(name)
    for pattern in _EN:
        found = pattern.search(text)
        if found and found.group(1).lower() not in _EN_NOT:
            return _tidy(found.group(1))
    return None


def learned_name(
    text: str, user_name: str, self_name: str, placeholders: Collection[str]
) -> str | None:
    """The user's new name when ``user_name`` is still a first-start placeholder
    and ``text`` introduces them; None otherwise (or when it is the same name, or
    the companion's own)."""
    if user_name.strip() not in placeholders:
        return None
    name = introduced_name(text)
    if not name or name in (user_name.strip(), self_name.strip()):
        return None
    return name


def _tidy(name: str) -> str:
    name = name.strip("'-")[:MAX_NAME]
    return name[0].upper() + name[1:] if name.isascii() else name
