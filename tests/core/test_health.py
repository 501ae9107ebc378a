"""The limited services' bookkeeping (``core/health.py``): the probing schedule,
one word per change, the embedder's calls counted. The clock is a settable one:
no test waits."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.core.errors import AuthFailed, DLError, ServerFailed, ServiceUnreachable
from dl_app.core.health import (
    EMBEDDINGS,
    MAX_DELAY,
    PICTURES,
    TTS,
    Health,
    WatchedEmbedder,
    WatchedImages,
    backoff,
)

T0 = 1_700_000_000_000


class Flaky:
    """An embedder that fails while ``down``."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    @property
    def name(self) -> str:
        return "flaky"

    @property
    def dimensions(self) -> int:
        return 3

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        if self.down:
            raise ServiceUnreachable("Cannot reach the embedding service.")
        return [1.0, 0.0, 0.0]


def test_the_backoff_doubles_from_one_second_up_to_a_minute() -> None:
    assert [backoff(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert MAX_DELAY == 60


def test_a_limited_service_is_probed_on_its_schedule_and_said_once_each_way() -> None:
    clock = FixedClock(T0)
    health = Health(clock)
    inner = Flaky()
    emb = WatchedEmbedder(inner, health)
    health.watch(EMBEDDINGS, emb.probe)
    heard: list[tuple[str, bool]] = []
    health.listen(lambda s, e: heard.append((s, e is None)))
    assert health.next_probe() is None  # nothing is limited

    health.probe_all()  # at start
    assert list(health.limited()) == [EMBEDDINGS] and heard == [(EMBEDDINGS, False)]
    probes = [inner.calls]
    for expected in (1, 2, 4, 8, 16, 32, 60, 60):
        assert health.next_probe() == expected
        clock.advance(expected * 1000 - 1)
        assert health.probe_due() == [] and inner.calls == probes[-1]  # not yet due
        clock.advance(1)
        assert health.probe_due() == [] and inner.calls == probes[-1] + 1
        probes.append(inner.calls)
    assert heard == [(EMBEDDINGS, False)]  # still down: said once

    inner.down = False
    clock.advance(60_000)
    assert health.probe_due() == [EMBEDDINGS]
    assert health.limited() == {} and health.next_probe() is None
    assert heard == [(EMBEDDINGS, False), (EMBEDDINGS, True)]


def test_every_use_of_the_embedder_counts_and_a_known_size_proves_nothing() -> None:
    clock = FixedClock(T0)
    health = Health(clock)
    inner = Flaky()
    emb = WatchedEmbedder(inner, health)
    assert emb.dimensions == 3 and health.limited() == {}
    with pytest.raises(DLError):
        emb.embed_passages(["a"])
    assert isinstance(health.limited()[EMBEDDINGS], ServiceUnreachable)
    assert emb.dimensions == 3 and EMBEDDINGS in health.limited()  # no call: still limited
    assert health.next_probe() is None  # no probe registered: the next use tells
    inner.down = False
    assert emb.embed_query("b") == [1.0, 0.0, 0.0]
    assert health.limited() == {}


def test_a_clock_set_back_makes_the_probe_due_at_once() -> None:
    clock = FixedClock(T0)
    health = Health(clock)
    inner = Flaky()
    emb = WatchedEmbedder(inner, health)
    health.watch(EMBEDDINGS, emb.probe)
    health.probe_all()
    clock.advance(-3_600_000)  # the system clock jumped back an hour
    assert health.next_probe() == 0
    calls = inner.calls
    health.probe_due()
    assert inner.calls == calls + 1


def test_a_use_counts_only_for_a_watched_service_and_only_an_outage_limits_it() -> None:
    health = Health(FixedClock(T0))
    heard: list[tuple[str, bool]] = []
    health.listen(lambda s, e: heard.append((s, e is None)))
    health.used(TTS, ServerFailed("503"))  # not set up (not watched): nothing
    assert health.limited() == {} and heard == []
    health.watch(TTS, lambda: None)
    health.used(TTS, AuthFailed("key rejected"))  # the user's to fix, not an outage
    assert health.limited() == {}
    health.used(TTS, ServerFailed("503"))
    health.used(TTS, ServiceUnreachable("refused"))
    assert list(health.limited()) == [TTS] and heard == [(TTS, False)]
    assert health.next_probe() == 1.0  # uses keep the schedule of the first failure
    health.used(TTS, None)
    assert health.limited() == {} and heard == [(TTS, False), (TTS, True)]


def test_watched_images_report_each_picture() -> None:
    class Maker:
        down = True

        def make(self, prompt: str) -> tuple[bytes, str]:
            if self.down:
                raise ServerFailed("503")
            return b"png", "image/png"

    health = Health(FixedClock(T0))
    inner = Maker()
    maker = WatchedImages(inner, health)
    health.watch(PICTURES, maker.probe)
    with pytest.raises(ServerFailed):
        maker.make("a cat")
    assert list(health.limited()) == [PICTURES]
    inner.down = False
    assert maker.make("a cat") == (b"png", "image/png")
    assert health.limited() == {}
