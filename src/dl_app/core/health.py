"""Which optional services are limited now, and when to ask them again.

An optional service (embeddings, weather, speech, S3, pictures) that fails
does not stop the app: it is marked limited with why, and probed again after
1, 2, 4, ... seconds, at most ``MAX_DELAY`` apart, until it answers. Every use
of the service counts too: a failure marks it limited, a success marks it back
(``WatchedEmbedder`` reports the embedder's calls, ``WatchedImages`` the
pictures'; ``Health.used`` takes any other use, where only an ``outage``
counts: a wrong key is not one). Listeners hear each change
once (limited with the error, back with None); what runs the probes and what
follows a recovery (filling in missing vectors) lives outside the domain
(``dl_app.service_watch``). Times come from the ``Clock`` port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .errors import DLError, ServerFailed, ServiceUnreachable
from .ports import Clock, Embedder, ImageMaker

__all__ = [
    "EMBEDDINGS", "MAX_DELAY", "PICTURES", "S3", "STT", "TTS", "WEATHER", "Health", "Listener",
    "WatchedEmbedder", "WatchedImages", "backoff", "outage",
]

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
EMBEDDINGS = "embeddings"
WEATHER = "weather"
TTS = "tts"  # reading replies aloud
STT = "stt"  # a transcription service for the microphone
PICTURES = "pictures"  # the image service the model draws with
S3 = "s3"  # the bucket of the backups

T = TypeVar("T")
Listener = Callable[[str, DLError | None], None]


def outage(error: DLError) -> bool:
    """Whether ``error`` says the service is not there (unreachable, timed out, a
    5xx): a wrong key or a refused request is the user's to fix, not an outage."""
    return isinstance(error, ServiceUnreachable | ServerFailed)


def backoff(failures: int) -> float:
    """Seconds before the next probe after ``failures`` failures in a row:
    1, 2, 4, ... at most ``MAX_DELAY``."""
    if failures <= 1:
        return FIRST_DELAY
    return min(FIRST_DELAY * 2.0 ** min(failures - 1, 16), MAX_DELAY)


@dataclass
class Limited:
    error: DLError
    failures: int
    due_ms: int  # when to probe again (the clock's time)


class Health:
    """The limited services of one memory (thread-safe: the app's calls and
    the probing thread report into it)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limited: dict[str, Limited] = {}
        self._probes: dict[str, Callable[[], object]] = {}
        self._listeners: list[Listener] = []

    def watch(self, service: str, probe: Callable[[], object]) -> None:
        """How to ask ``service`` whether it is back (raises ``DLError`` if not)."""
        self._probes[service] = probe

    def watched(self, service: str) -> bool:
        """Whether ``service`` can be asked again (it is one that can be down)."""
        return service in self._probes

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Hear each change; returns a function that stops listening."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def failed(self, service: str, error: DLError, *, probed: bool = False) -> None:
        """``service`` did not answer. A use of it keeps the probing schedule
        (only a failed probe pushes the next one further out)."""
        with self._lock:
            before = self._limited.get(service)
            if before is not None and not probed:
                before.error = error
                return
            failures = before.failures + 1 if before is not None else 1
            due = self._clock.now_ms() + int(backoff(failures) * 1000)
            self._limited[service] = Limited(error, failures, due)
        if before is None:
            self._tell(service, error)

    def ok(self, service: str) -> None:
        if service not in self._limited:  # the common case, without the lock
            return
        with self._lock:
            was = self._limited.pop(service, None)
        if was is not None:
            self._tell(service, None)

    def used(self, service: str, error: DLError | None) -> None:
        """How a use of a watched ``service`` went (None: it answered). Only an
        outage marks it limited; other failures say nothing of whether it is there."""
        if service not in self._probes:  # not set up, or not one that can be down
            return
        if error is None:
            self.ok(service)
        elif outage(error):
            self.failed(service, error)

    def limited(self) -> dict[str, DLError]:
        """The services limited now, with why."""
        with self._lock:
            return {s: x.error for s, x in self._limited.items()}

    def next_probe(self) -> float | None:
        """Seconds until the next probe is due (0: now); None when none is."""
        now = self._clock.now_ms()
        with self._lock:
            dues = [x.due_ms for s, x in self._limited.items() if s in self._probes]
        if not dues:
            return None
        wait = (min(dues) - now) / 1000
        return 0.0 if wait > MAX_DELAY else max(wait, 0.0)  # a clock set back: ask now

    def probe_due(self) -> list[str]:
        """Ask every limited service whose probe is due; returns those that are back."""
        now = self._clock.now_ms()
        with self._lock:
            due = [s for s, x in self._limited.items()
                   if s in self._probes and (x.due_ms <= now or x.due_ms - now > MAX_DELAY * 1000)]
        return [s for s in due if self._probe(s)]

    def probe_all(self) -> None:
        """Ask every watched service once (at start: what is down is said at once)."""
        for service in list(self._probes):
            self._probe(service)

    def _probe(self, service: str) -> bool:
        try:
            self._probes[service]()
        except DLError as e:
            self.failed(service, e, probed=True)
            return False
        self.ok(service)
        return True

    def _tell(self, service: str, error: DLError | None) -> None:
        for listener in list(self._listeners):
            listener(service, error)


class WatchedEmbedder:
    """An ``Embedder`` that reports each call's outcome to ``Health``."""

    def __init__(self, inner: Embedder, health: Health, service: str = EMBEDDINGS) -> None:
        self.inner = inner
        self._health = health
        self._service = service

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimensions(self) -> int:
        try:  # a known size answers without asking: only a failure tells something
            return self.inner.dimensions
        except DLError as e:
            self._health.failed(self._service, e)
            raise

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._call(lambda: self.inner.embed_passages(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._call(lambda: self.inner.embed_query(text))

    def probe(self) -> None:
        """Ask the service once (what ``Health`` calls while it is limited)."""
        self.inner.embed_query("probe")

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            out = fn()
        except DLError as e:
            self._health.failed(self._service, e)
            raise
        self._health.ok(self._service)
        return out


class WatchedImages:
    """An ``ImageMaker`` that reports each picture's outcome to ``Health``."""

    def __init__(self, inner: ImageMaker, health: Health, service: str = PICTURES) -> None:
        self.inner = inner
        self._health = health
        self._service = service

    def make(self, prompt: str) -> tuple[bytes, str]:
        try:
            out = self.inner.make(prompt)
        except DLError as e:
            self._health.used(self._service, e)
            raise
        self._health.used(self._service, None)
        return out

    def probe(self) -> None:
        probe = getattr(self.inner, "probe", None)
        if callable(probe):
            probe()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
