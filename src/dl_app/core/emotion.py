"""The emotion a reply shows, for the avatar (pure: no I/O).

``split_tag`` takes an explicit leading tag off a reply (``[joy] Hello!``,
``【开心】你好``); ``infer_emotion`` guesses from emoji, kaomoji-like marks and a
small Chinese/English keyword lexicon. ``emotion_of`` does both: the tag wins.
Names: ``joy``, ``sad``, ``angry``, ``surprised``, ``shy``, ``neutral``.
"""

from __future__ import annotations

import re

from .cjk import UNIFIED, has_ideograph

__all__ = ["EMOTIONS", "TAG_PATTERN", "emotion_of", "infer_emotion", "split_tag"]

EMOTIONS = ("joy", "sad", "angry", "surprised", "shy", "neutral")

# Tag words (English and Chinese) -> emotion names.
_TAG_WORDS: dict[str, str] = {
    "joy": "joy", "happy": "joy", "smile": "joy", "laugh": "joy", "glad": "joy",
    "开心": "joy", "高兴": "joy", "快乐": "joy", "笑": "joy", "喜悦": "joy",
    "sad": "sad", "cry": "sad", "sorrow": "sad", "难过": "sad", "伤心": "sad", "哭": "sad",
    "悲伤": "sad",
    "angry": "angry", "anger": "angry", "mad": "angry", "生气": "angry", "愤怒": "angry",
    "surprised": "surprised", "surprise": "surprised", "shock": "surprised",
    "惊讶": "surprised", "吃惊": "surprised", "震惊": "surprised",
    "shy": "shy", "blush": "shy", "embarrassed": "shy", "害羞": "shy", "脸红": "shy",
    "neutral": "neutral", "calm": "neutral", "平静": "neutral", "普通": "neutral",
}

# A leading tag: one bracketed word. Written so that JavaScript's RegExp reads it the
# same way: the page gets it from the bridge (``avatar_models``' ``emotion_tag``) and
# strips any such tag from the bubble's text.
TAG_PATTERN = rf"^\s*[\[【(（]\s*([A-Za-z{UNIFIED}]{{1,12}})\s*[\]】)）]\s*"
_TAG = re.compile(TAG_PATTERN)

_EMOJI: dict[str, str] = {
    "joy": "😀😃😄😁😆😊☺🙂😸😺🥳🤗😂🤣😍🥰😘❤💕💖✨🎉👍",
    "sad": "😢😭😞😔😟🙁☹😿💔😥😓😩😫🥺",
    "angry": "😠😡🤬💢😤👿",
    "surprised": "😮😯😲😱🤯😳‼⁉",
    "shy": "😳☺🙈😚🥺💗",
}

# Whole words for English, substrings for Chinese. Order of checks breaks ties.
_WORDS: dict[str, tuple[str, ...]] = {
    "joy": (
        "haha", "hehe", "great", "glad", "happy", "yay", "wonderful", "awesome", "love it",
        "congrat", "lol", "delighted", "excited", "fantastic",
        "哈哈", "嘿嘿", "开心", "高兴", "太好了", "好棒", "快乐", "喜欢", "恭喜", "真好", "棒",
        "嘻嘻", "耶",
    ),
    "sad": (
        "sorry", "sad", "unfortunately", "miss you", "lonely", "cry", "upset", "heartbroken",
        "难过", "伤心", "遗憾", "可惜", "抱歉", "对不起", "想你", "孤单", "哭", "委屈", "唉",
    ),
    "angry": (
        "angry", "annoyed", "furious", "how dare", "mad at", "hmph", "unacceptable",
        "生气", "气死", "讨厌", "可恶", "哼", "过分", "愤怒", "烦死",
    ),
    "surprised": (
        "wow", "whoa", "really?", "no way", "amazing", "surprising", "unbelievable", "oh!",
        "哇", "真的吗", "竟然", "居然", "不会吧", "天哪", "天啊", "惊讶", "没想到", "诶",
    ),
    "shy": (
        "blush", "embarrass", "shy", "flatter",
        "害羞", "不好意思", "脸红", "羞", "讨厌啦", "人家",
    ),
}


def split_tag(text: str) -> tuple[str | None, str]:
    """``("joy", "Hello!")`` for ``"[joy] Hello!"``; ``(None, text)`` when there is no
    known leading tag (an unknown word in brackets is left in the text)."""
    match = _TAG.match(text)
    if match is None:
        return None, text
    name = _TAG_WORDS.get(match.group(1).lower())
    if name is None:
        return None, text
    return name, text[match.end():]


def _word_hits(low: str, word: str) -> int:
    if has_ideograph(word) or not word[0].isalnum() or not word[-1].isalnum():
        return low.count(word)
    return len(re.findall(rf"(?<![a-z]){re.escape(word)}(?![a-z])", low))


def infer_emotion(text: str) -> str | None:
    """The emotion the text shows most, or None when nothing stands out.
    Emoji count double; the last sentence counts once more (it is what the
    avatar is still showing when the reply ends)."""
    if not text or not text.strip():
        return None
    low = text.lower()
    tail = re.split(r"(?<=[.!?。！？\n])", low.strip())
    last = next((s for s in reversed(tail) if s.strip()), "")
    scores: dict[str, int] = {}
    for name, marks in _EMOJI.items():
        n = sum(low.count(ch) for ch in marks)
        if n:
            scores[name] = scores.get(name, 0) + 2 * n
    for name, words in _WORDS.items():
        n = sum(_word_hits(low, w) for w in words) + sum(_word_hits(last, w) for w in words)
        if n:
            scores[name] = scores.get(name, 0) + n
    if not scores:
        return None
    best = max(scores.values())
    for name in EMOTIONS:  # a fixed order breaks ties
        if scores.get(name) == best:
            return name
    return None


def emotion_of(text: str) -> str | None:
    """The reply's emotion: its leading tag if it has one, else the inferred one."""
    tag, rest = split_tag(text)
    return tag if tag is not None else infer_emotion(rest)
