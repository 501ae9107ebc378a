"""The cheap probes of the optional services (issue 18, "degraded, not dead"):
one short request each, failing only on an outage (unreachable, 5xx), so a
wrong key or a missing path does not read as "down". Real parts: the scripted
speech and OpenAI-compatible servers, moto's S3 behind a gate that drops
connections while shut."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from moto.server import ThreadedMotoServer

from dl_app.adapters.images_openai import OpenAIImageMaker
from dl_app.adapters.s3_store import S3Store
from dl_app.adapters.stt import OpenAITranscriber
from dl_app.adapters.tts import make_synth
from dl_app.core.errors import AuthFailed, NotFound, ServerFailed, ServiceUnreachable
from dl_app.core.health import outage
from dl_app.service_probes import reachable
from servers.gate_proxy import GateProxy
from servers.openai_compat import OpenAICompatServer
from servers.voice_servers import VoiceServer


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def voice(vs: VoiceServer, provider: str) -> SimpleNamespace:
    return SimpleNamespace(tts_provider=provider, f5_url=vs.f5_url, fish_url=vs.fish_url,
                           openai_tts_url=vs.openai_url, openai_tts_model="tts-1",
                           openai_tts_voice="alloy")


@pytest.mark.parametrize("provider,asked", [("f5", "/api"), ("fish", "/v1/health"),
                                            ("openai", "/v1/models")])
def test_each_speech_service_is_asked_once_by_a_get_and_only_an_outage_fails(
    provider: str, asked: str
) -> None:
    with VoiceServer() as vs, make_synth(voice(vs, provider), "", None, timeout=5) as synth:
        synth.probe()  # up (F5 answers 405 to a GET: it is there all the same)
        assert [(r.method, r.path) for r in vs.requests] == [("GET", asked)]
        assert vs.tts_requests == []  # nothing was synthesised
        vs.down = 503
        with pytest.raises(ServerFailed, match="503"):
            synth.probe()
    with (make_synth(voice(vs, provider), "", None, timeout=5) as gone,
          pytest.raises(ServiceUnreachable)):
        gone.probe()  # the server has stopped: the port refuses


def test_the_transcription_service_probe_asks_models() -> None:
    with VoiceServer() as vs, OpenAITranscriber(vs.openai_url, "", "whisper-1") as stt:
        stt.probe()
        assert [(r.method, r.path) for r in vs.requests] == [("GET", "/v1/models")]
        vs.down = 502
        with pytest.raises(ServerFailed):
            stt.probe()
    with (OpenAITranscriber(closed_port() + "/v1", "", "w") as gone,
          pytest.raises(ServiceUnreachable)):
        gone.probe()


def test_the_image_service_probe_is_not_down_for_a_wrong_key() -> None:
    with OpenAICompatServer(api_key="right") as server:
        maker = OpenAIImageMaker(server.base_url, "wrong", "img")
        try:
            maker.probe()  # 401: the service is there; a picture would say the key is wrong
            assert [(r.method, r.path) for r in server.requests] == [("GET", "/v1/models")]
            assert server.image_requests == []
            server.down = 503
            with pytest.raises(ServerFailed) as down:
                maker.probe()
            assert outage(down.value)
        finally:
            maker.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_store(endpoint: str, bucket: str) -> S3Store:
    return S3Store(endpoint=endpoint, region="us-east-1", bucket=bucket, access_key="AKIAX",
                   secret_key="y", timeout=5, max_attempts=1)


def test_the_bucket_probe_is_one_head_bucket_and_a_dropped_connection_is_an_outage(
    moto_url: str,
) -> None:
    maker = s3_store(moto_url, "probe-bucket")
    try:
        with pytest.raises(NotFound):
            maker.probe()  # no such bucket: the service answered (not an outage)
        reachable(maker.probe)()  # so the health watch counts it as there
        maker._client.create_bucket(Bucket="probe-bucket")
        maker.probe()
    finally:
        maker.close()
    with GateProxy(moto_url, open=False) as gate:
        store = s3_store(gate.url, "probe-bucket")
        try:
            with pytest.raises(ServiceUnreachable) as down:
                store.probe()
            assert gate.dropped >= 1
            with pytest.raises(ServiceUnreachable):
                reachable(store.probe)()
            gate.open = True
            store.probe()
        finally:
            store.close()
    assert "probe-bucket" in str(down.value)


def test_a_wrong_key_or_a_refused_request_is_no_outage() -> None:
    assert not outage(AuthFailed("key rejected")) and not outage(NotFound("no bucket"))
    assert outage(ServiceUnreachable("refused")) and outage(ServerFailed("503"))
