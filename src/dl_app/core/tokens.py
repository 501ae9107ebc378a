"""Token arithmetic on top of a ``TokenCounter``: messages, requests, safe cuts.

Per-message overhead follows ChatML-style templates (``<|im_start|>role\\n``
… ``<|im_end|>\\n``): 4 tokens, plus 3 for the reply's priming. Tool schemas
are counted as their JSON text plus a small template allowance.

An image part (``image_url``) costs a fixed ``IMAGE_TOKENS``: what OpenAI
charges for a 1024×1024 picture at high detail (85 + 4 × 170), an upper bound
for the usual local vision models too, so a request with pictures never
overflows the budget.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .cjk import WIDE_FROM
from .ports import TokenCounter

MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
TOOLS_OVERHEAD = 16
IMAGE_TOKENS = 765

_SENTENCE_ENDS = "。！？!?；;\n.…"


def content_tokens(counter: TokenCounter, content: Any) -> int:
    """Tokens of a message's content: text, or a list of text and image parts."""
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                total += IMAGE_TOKENS
            elif isinstance(part, dict):
                total += counter.count(str(part.get("text") or ""))
        return total
    return counter.count(str(content or ""))


def message_tokens(counter: TokenCounter, message: dict[str, Any]) -> int:
    total = MESSAGE_OVERHEAD + content_tokens(counter, message.get("content"))
    for call in message.get("tool_calls") or ():
        fn = call.get("function", {})
        total += 4 + counter.count(str(fn.get("name", ""))) + counter.count(
            str(fn.get("arguments", ""))
        )
    if message.get("tool_call_id"):
        total += 2
    return total


def tools_tokens(counter: TokenCounter, tools: Sequence[dict[str, Any]] | None) -> int:
    if not tools:
        return 0
    return TOOLS_OVERHEAD + counter.count(json.dumps(list(tools), ensure_ascii=False))


def request_tokens(
    counter: TokenCounter,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] | None = None,
) -> int:
    """Prompt tokens of a whole request (without the answer)."""
    return (
        sum(message_tokens(counter, m) for m in messages)
        + tools_tokens(counter, tools)
        + REPLY_PRIMING
    )


def truncate(counter: TokenCounter, text: str, max_tokens: int, marker: str = "…") -> str:
    """Cut ``text`` to at most ``max_tokens`` tokens (marker included).

    Prefers a cut at a sentence end in the last fifth of the kept text. Never
    splits a surrogate pair or returns more than the limit.
    """
    if max_tokens <= 0:
        return ""
    if counter.count(text) <= max_tokens:
        return text
    room = max_tokens - counter.count(marker)
    if room <= 0:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # largest prefix length that fits
        mid = (lo + hi + 1) // 2
        if counter.count(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    kept = text[:lo]
    cut = max(kept.rfind(ch) for ch in _SENTENCE_ENDS)
    if cut >= len(kept) * 4 // 5:
        kept = kept[: cut + 1]
    return kept.rstrip() + marker


def truncate_middle(counter: TokenCounter, text: str, max_tokens: int, marker: str) -> str:
    """Keep the head and the tail of a long text (the ends carry most meaning)."""
    if counter.count(text) <= max_tokens:
        return text
    half = max(1, (max_tokens - counter.count(marker)) // 2)
    head = truncate(counter, text, half, "")
    tail_rev = truncate(counter, text[::-1], half, "")[::-1]
    result = f"{head}{marker}{tail_rev}"
    while counter.count(result) > max_tokens and tail_rev:
        tail_rev = tail_rev[max(1, len(tail_rev) // 10) :]
        result = f"{head}{marker}{tail_rev}"
    return result if counter.count(result) <= max_tokens else truncate(counter, text, max_tokens)


class HeuristicCounter:
    """A tokenizer-free estimate (CJK char ≈ 1 token, else ≈ 4 chars/token),
    biased high. Used only when no real tokenizer can be loaded."""

    def count(self, text: str) -> int:
        cjk = sum(1 for ch in text if ch >= WIDE_FROM)
        other = len(text) - cjk
        return cjk + (other + 2) // 3
