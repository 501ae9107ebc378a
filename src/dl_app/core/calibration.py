"""A per-model correction of the local token count, learned from the service.

The local count (``adapters/tokenizer.py``) is Qwen's tokenizer: exact for Qwen
models, a conservative estimate for other families. What a request really
costs is the service's ``usage.prompt_tokens``. ``Calibration`` keeps, for one
(service address, model), the recent ratios real / estimated of the requests
worth learning from (at least ``MIN_TOKENS`` local tokens, no pictures); the
``factor`` every count is multiplied by is the largest of them times
``MARGIN``. The ratios compare the text's tokens only: the per-message template
overhead is taken off both counts, since the factor scales text, not overhead.

Broken reports must not break the budget: a ratio (margin included) keeps
the count within [``MIN_FACTOR``, ``MAX_FACTOR``] × Qwen's count of the same
request, and a count under ``IMPLAUSIBLE`` × Qwen's is not a count of this
prompt (a server that reports only uncached tokens, or a placeholder) and is
ignored. The rise after an overflow (below) keeps within the same bounds.

When a service refuses a request as longer than the model's context
(``ContextOverflow``), the factor rises at once (from the numbers the service
named, else by ``OVERFLOW_STEP``) and that level stays as a floor, so the next
requests are shorter even if the model's context is smaller than the budget.

``CalibratedCounter`` is the ``TokenCounter`` the engine uses (so every section
cap and the window of recent turns shrink or grow with the factor);
``CalibratingChat`` is the ``ChatModel`` decorator that measures each request,
learns from its result or its overflow, and saves what it learned.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import BadResponse, ContextOverflow, DLError, msg
from .ports import (
    CalibrationRecord,
    CalibrationStore,
    ChatDelta,
    ChatModel,
    ChatRequest,
    ChatResult,
    TokenCounter,
    Usage,
)
from .tokens import request_tokens

MIN_TOKENS = 500  # learn only from requests at least this long (local count)
RECENT = 16  # ratios kept: the factor follows the largest of them
MARGIN = 1.05
MIN_FACTOR = 0.8  # of Qwen's count: a low report lets a request grow 25% past it at most
MAX_FACTOR = 3.0  # of Qwen's count
IMPLAUSIBLE = 0.5  # of Qwen's count: below it a report is ignored
OVERFLOW_STEP = 1.25  # the rise after an overflow that names no numbers
MIN_OVERFLOW_STEP = 1.1  # the least rise after any overflow


@dataclass(frozen=True)
class Sample:
    """One request measured locally: tokens of its text by the estimate and by
    Qwen's exact count, the template overhead, the answer's reserve."""

    estimate: int
    exact: int
    overhead: int
    max_tokens: int
    pictures: bool

    @property
    def learnable(self) -> bool:
        return not self.pictures and self.exact + self.overhead >= MIN_TOKENS


class Calibration:
    """The factor for one model; thread-safe. ``record`` is what to persist."""

    def __init__(self, record: CalibrationRecord | None = None) -> None:
        record = record or CalibrationRecord()
        self._ratios = [r for r in record.ratios if 0 < r <= MAX_FACTOR][-RECENT:]
        self._floor = min(max(record.floor, 0.0), MAX_FACTOR)
        self._lock = threading.Lock()

    @property
    def factor(self) -> float:
        """What local estimates are multiplied by (1.0 before anything is learned)."""
        with self._lock:
            return self._factor()

    def _factor(self) -> float:
        return max(max(self._ratios, default=1.0), self._floor)

    @property
    def record(self) -> CalibrationRecord:
        with self._lock:
            return CalibrationRecord(tuple(self._ratios), self._floor)

    def observe(self, sample: Sample, usage: Usage) -> bool:
        """Learn from the service's count of a request; False when it taught
        nothing (too short, pictures, an implausible count)."""
        if not sample.learnable or sample.estimate <= 0:
            return False
        real = usage.prompt_tokens - sample.overhead
        if real < IMPLAUSIBLE * sample.exact:
            return False
        ratio = _bounded(real / sample.estimate * MARGIN, sample)
        with self._lock:
            self._ratios = [*self._ratios, round(ratio, 4)][-RECENT:]
        return True

    def overflowed(self, sample: Sample, error: ContextOverflow, budget: int) -> None:
        """The service refused ``sample`` as too long: raise the factor so that
        a request filling ``budget`` (prompt + answer, by the local count) fits
        the context the service named (by its count), or by a fixed step."""
        with self._lock:
            factor = self._factor()
        predicted = sample.overhead + sample.estimate * factor  # ≈ what was sent, locally
        real = error.prompt
        if real is None and error.requested is not None:
            real = error.requested - sample.max_tokens
        room = budget - sample.max_tokens  # the prompt's share of the budget
        target = error.limit - sample.max_tokens if error.limit is not None else None
        if target is not None and target <= 0:
            needed = MAX_FACTOR  # the answer's reserve alone is over the context
        elif target is not None:
            needed = max(real or predicted, target) / predicted * max(1.0, room / target)
        elif real is not None:
            needed = real / predicted
        else:
            needed = OVERFLOW_STEP
        floor = _bounded(factor * max(MIN_OVERFLOW_STEP, needed * MARGIN), sample)
        with self._lock:
            self._floor = max(self._floor, floor)


def _bounded(factor: float, sample: Sample) -> float:
    """``factor`` (of the estimate), kept within [MIN_FACTOR, MAX_FACTOR] × Qwen's
    count of ``sample``."""
    ok = sample.estimate > 0 and sample.exact > 0
    exact_per_estimate = sample.exact / sample.estimate if ok else 1.0
    low, high = MIN_FACTOR * exact_per_estimate, MAX_FACTOR * exact_per_estimate
    return min(high, max(low, factor))


class CalibratedCounter:
    """A ``TokenCounter``: the local estimate times the calibration's factor."""

    def __init__(self, estimate: TokenCounter, calibration: Calibration) -> None:
        self.estimate = estimate
        self.calibration = calibration

    def count(self, text: str) -> int:
        n = self.estimate.count(text)
        factor = self.calibration.factor
        return n if factor == 1.0 or n == 0 else math.ceil(n * factor)


class _Nothing:
    def count(self, text: str) -> int:
        return 0


def measure(
    request: ChatRequest, estimate: TokenCounter, exact: TokenCounter
) -> Sample:
    """Count one request locally (text by both counters, and the overhead)."""
    overhead = request_tokens(_Nothing(), request.messages, request.tools)
    return Sample(
        estimate=request_tokens(estimate, request.messages, request.tools) - overhead,
        exact=request_tokens(exact, request.messages, request.tools) - overhead,
        overhead=overhead,
        max_tokens=request.max_tokens,
        pictures=_has_pictures(request.messages),
    )


def _has_pictures(messages: Sequence[dict[str, Any]]) -> bool:
    return any(
        isinstance(part, dict) and part.get("type") == "image_url"
        for m in messages
        if isinstance(m.get("content"), list)
        for part in m["content"]
    )


class CalibratingChat:
    """A ``ChatModel`` decorator: measures each request, learns the factor from
    the result's ``usage`` or from a ``ContextOverflow`` (re-raised), and saves
    it under ``(address, model)``. ``budget``: the token budget the requests
    are built to. A failed save never fails the request."""

    def __init__(
        self,
        inner: ChatModel,
        calibration: Calibration,
        *,
        estimate: TokenCounter,
        exact: TokenCounter,
        store: CalibrationStore,
        address: str,
        budget: int,
    ) -> None:
        self.inner = inner
        self._budget = budget
        self.calibration = calibration
        self._estimate = estimate
        self._exact = exact
        self._store = store
        self._address = address

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        sample = measure(request, self._estimate, self._exact)
        try:
            for item in self.inner.stream(request):
                if isinstance(item, ChatResult):
                    self._learn(sample, item)
                yield item
        except ContextOverflow as err:
            self.calibration.overflowed(sample, err, self._budget)
            self._save()
            raise

    def complete(self, request: ChatRequest) -> ChatResult:
        for item in self.stream(request):
            if isinstance(item, ChatResult):
                return item
        raise BadResponse(msg("chat.stream_ended"))

    def close(self) -> None:
        """Close the wrapped model's connections, if it has any."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def _learn(self, sample: Sample, result: ChatResult) -> None:
        if result.usage is not None and self.calibration.observe(sample, result.usage):
            self._save()

    def _save(self) -> None:
        with contextlib.suppress(DLError):  # if not saved, learned again next time
            self._store.save_calibration(
                self._address, self.model_name, self.calibration.record
            )
