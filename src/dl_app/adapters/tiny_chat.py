"""What a tiny local model needs to converse (measured with the demo model: the
notes in ``../shared/reference/demo-model.md``, beside the repository, and
``bench/demo_converse.py``).

A 0.5B model given only the system prompt and the conversation tends to repeat
the user's message back, and once one echo is in the history every later reply
copies it. Three things measurably help, for chat replies only (housekeeping
keeps its own prompts and the output check):

- two short example exchanges in the language of the user's message, sent as
  earlier turns right after the system message (about 90 tokens, counted by
  the adapter against the budget);
- stops at a blank line and at a role label (the model goes on to write the
  user's next line);
- a reply that starts by echoing the user's message, or by repeating one of its
  own earlier replies, is sampled again (twice at most) before any of it is
  shown: ``Probe`` holds the first characters back until it can tell.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ..core.cjk import ideograph_count, match_key

__all__ = ["CHAT_STOPS", "PROBE_CHARS", "Probe", "language_of", "with_examples"]

EXAMPLES = {
    "zh": [
        ("今天好冷啊。", "是啊，突然降温了。你出门的时候多穿了吗？"),
        ("我刚看完一部电影。", "哪一部？好看吗？我想听你说说。"),
    ],
    "en": [
        ("It's so cold today.", "It really is! Did you wrap up warm before going out?"),
        ("I just finished watching a movie.", "Oh, which one? Did you like it?"),
    ],
}
CHAT_STOPS = ["\n\n", "\n用户", "\n我：", "用户：", "\nUser:", "\nuser:", "\nMe:"]
PROBE_CHARS = 10  # letters (punctuation and spaces left out) held back to judge a reply
SIMILAR = 0.7  # a reply's start this close to the user's message (or an earlier reply)

_LATIN = re.compile(r"[A-Za-z]")


def language_of(text: str) -> str:
    """"zh" when at least a third of the letters are Chinese, else "en"."""
    cjk, latin = ideograph_count(text), len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= cjk + latin else "en"


def with_examples(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """``messages`` with the example exchanges after the leading system message(s)."""
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    at = 0
    while at < len(messages) and messages[at]["role"] == "system":
        at += 1
    shots: list[dict[str, str]] = []
    for user, reply in EXAMPLES[language_of(last_user)]:
        shots += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return [*messages[:at], *shots, *messages[at:]]


def _norm(text: str) -> str:
    return match_key(text)


class Probe:
    """Judges the start of a reply against the user's last message and the earlier
    replies of the conversation."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        users = [m for m in messages if m.get("role") == "user"]
        self.user = _norm(str(users[-1].get("content") or "")) if users else ""
        self.earlier = [_norm(str(m.get("content") or "")) for m in messages
                        if m.get("role") == "assistant"]

    def ready(self, text: str) -> bool:
        """Whether ``text`` (the reply so far) is long enough to judge."""
        return len(_norm(text)) >= PROBE_CHARS

    def copies(self, text: str) -> bool:
        """Whether the reply starts as a copy of the user's message or of an earlier
        reply: close to its start, or six of its first ten letters in one piece of it."""
        start = _norm(text)[:PROBE_CHARS]
        if len(start) < 4:
            return False
        for other in (self.user, *self.earlier):
            if not other:
                continue
            same = difflib.SequenceMatcher(None, start, other, autojunk=False)
            if same.ratio() >= SIMILAR or same.find_longest_match().size >= len(start) * 0.6:
                return True  # its start is theirs, or a long piece of it from anywhere
        return False
