"""Degraded, not dead (issue 18) for pictures, speech both ways and the S3
backup: each, when the user set it up, is asked once at start, again with
backoff (1, 2, 4, ... s) while it is down, and is back once it answers; a use
that meets an outage counts too. A service nobody set up is never "limited".

Real parts: the scripted image (OpenAI-compatible) and speech servers (``down``
makes them answer 503 to everything), moto's S3 behind a gate that drops
connections while shut, LanceDB and SQLite in a temp dir; a settable clock
drives the schedule, ``ServiceWatch.tick`` stands in for its thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bridge_helpers import make_env
from dl_app.adapters.clock import FixedClock
from dl_app.adapters.secrets import SecretStore
from dl_app.core.errors import DLError, ServerFailed
from dl_app.core.health import PICTURES, S3, STT, TTS
from dl_app.memory import Memory
from dl_app.messages import error_text
from dl_app.service_probes import watch_desktop
from dl_app.service_watch import ServiceWatch
from servers.gate_proxy import GateProxy
from servers.openai_compat import OpenAICompatServer
from servers.voice_servers import VoiceServer

T0 = 1_700_000_000_000
ALL = {PICTURES, TTS, STT, S3}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="y").create_bucket(Bucket="dl-backups")
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Down:
    mem: Memory
    clock: FixedClock
    pics: OpenAICompatServer
    voice: VoiceServer
    gate: GateProxy
    heard: list[tuple[str, DLError | None]]
    watch: ServiceWatch

    def back(self) -> None:
        self.pics.down = self.voice.down = None
        self.gate.open = True

    def asked(self) -> tuple[int, int, int]:
        """GETs the image and speech servers had (probes), connections the gate dropped."""
        return (len([r for r in self.pics.requests if r.method == "GET"]),
                len([r for r in self.voice.requests if r.method == "GET"]), self.gate.dropped)


@pytest.fixture
def down(openai_server: OpenAICompatServer, tmp_path: Path, moto_url: str) -> Iterator[Down]:
    """Every one of the four set up and down from the start."""
    data = tmp_path / "data"
    data.mkdir()
    with OpenAICompatServer() as pics, VoiceServer() as voice, GateProxy(moto_url) as gate:
        pics.down = voice.down = 503
        gate.open = False
        (data / "settings.json").write_text(json.dumps({
            "images": {"enabled": True, "base_url": pics.base_url, "model": "img"},
            "voice": {"tts_enabled": True, "tts_provider": "openai",
                      "openai_tts_url": voice.openai_url, "stt_provider": "openai",
                      "stt_url": voice.openai_url},
            "backup": {"endpoint": gate.url, "bucket": "dl-backups", "region": "us-east-1"},
        }))
        env = make_env(openai_server)
        secrets = SecretStore(data, env)
        secrets.set("s3_access_key", "AKIATEST")
        secrets.set("s3_secret_key", "s3-secret")
        clock = FixedClock(T0)
        with Memory.open(data, env=env, clock=clock) as mem:
            assert sorted(watch_desktop(mem.health(), mem.settings, secrets)) == [S3, STT, TTS]
            heard: list[tuple[str, DLError | None]] = []
            watch = ServiceWatch(mem, on_change=lambda s, e: heard.append((s, e)))
            try:
                yield Down(mem, clock, pics, voice, gate, heard, watch)
            finally:
                watch.stop()


def test_each_service_down_at_start_is_said_once_asked_with_backoff_and_back(down: Down) -> None:
    down.watch.first_check()
    assert {s for s, _ in down.heard} == ALL and len(down.heard) == 4  # each said once
    assert set(down.watch.limited()) == ALL
    why = {s: error_text(e, "en") for s, e in down.heard if e is not None}
    assert "503" in why[PICTURES] and "503" in why[TTS] and "503" in why[STT]
    assert "dl-backups" in why[S3]
    asked = down.asked()
    assert asked[0] == 1 and asked[1] == 2 and asked[2] >= 1  # one probe each (TTS, STT)

    assert down.watch.tick() == 1.0  # none is due yet: nobody is asked
    assert down.asked() == asked
    down.clock.advance(1000)
    assert down.watch.tick() == 2.0  # asked again, still down: the next in 2 s
    assert down.asked()[:2] == (2, 4) and down.asked()[2] > asked[2]
    down.clock.advance(2000)
    assert down.watch.tick() == 4.0
    assert len(down.heard) == 4  # still said once

    down.back()
    down.clock.advance(3999)
    assert down.watch.tick() == pytest.approx(0.001)  # not yet
    assert set(down.watch.limited()) == ALL
    down.clock.advance(1)
    assert down.watch.tick() is None  # all back, nothing more to ask
    assert down.watch.limited() == {}
    assert sorted(s for s, e in down.heard if e is None) == sorted(ALL)  # each back once


def test_the_backoff_stops_growing_at_a_minute(down: Down) -> None:
    down.watch.first_check()
    waits = []
    for _ in range(9):
        wait = down.watch.tick()
        assert wait is not None
        waits.append(wait)
        down.clock.advance(int(wait * 1000))
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_a_picture_that_meets_an_outage_marks_it_limited_and_one_that_works_ends_it(
    down: Down,
) -> None:
    down.back()
    down.watch.first_check()
    assert down.heard == [] and down.watch.limited() == {}
    maker = down.mem._engine.pictures.maker  # what the model's picture tool calls
    down.pics.down = 503
    for _ in range(2):
        with pytest.raises(ServerFailed):
            maker.make("一只猫")
    assert [(s, e is None) for s, e in down.heard] == [(PICTURES, False)]  # said once
    assert down.watch.tick() == 1.0  # and asked again from now on
    down.pics.down = None
    data, mime = maker.make("一只猫")
    assert mime == "image/png" and data
    assert [(s, e is None) for s, e in down.heard] == [(PICTURES, False), (PICTURES, True)]
    assert down.watch.tick() is None


def test_a_refused_picture_is_not_an_outage(down: Down) -> None:
    down.back()
    down.watch.first_check()
    down.pics.image_error = 400  # e.g. the prompt was refused: the service is there
    with pytest.raises(DLError):
        down.mem._engine.pictures.maker.make("x")
    assert down.heard == [] and down.watch.limited() == {}


def test_a_service_nobody_set_up_is_never_limited(
    openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    env = make_env(openai_server)
    with Memory.open(tmp_path / "data", env=env, clock=FixedClock(T0)) as mem:
        health = mem.health()
        assert watch_desktop(health, mem.settings, SecretStore(tmp_path / "data", env)) == []
        assert not any(health.watched(s) for s in ALL)
        assert mem._engine.pictures is None
        health.used(TTS, ServerFailed("503"))  # e.g. the voice test of a service not enabled
        assert health.limited() == {}
