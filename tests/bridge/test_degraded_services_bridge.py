"""The bridge when speech or the backup bucket goes down during use (issue 18,
degraded not dead): the failed call is answered as before, the page hears
``service.health`` with the service limited (its words in the app's language),
and once the service answers again (the watch's next probe, or a use) it hears
it back. Real parts: the bridge ``Api``, the scripted chat and speech servers
(``down`` takes one down), moto's S3 behind a gate that drops connections."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bridge_helpers import make_env, ok
from dl_app.bridge import Api
from servers.companion import companion_responder
from servers.gate_proxy import GateProxy
from servers.openai_compat import OpenAICompatServer
from servers.voice_servers import VoiceServer, tone_wav


class Heard:
    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        json.dumps(payload)
        with self._cond:
            self.items.append((name, payload))
            self._cond.notify_all()

    def limited(self, test: Callable[[set[str]], bool]) -> dict[str, Any]:
        """The first ``service.health`` whose limited services pass ``test``."""
        def found() -> dict[str, Any] | None:
            return next((p for n, p in self.items if n == "service.health"
                         and test({x["service"] for x in p["limited"]})), None)

        with self._cond:
            assert self._cond.wait_for(lambda: found() is not None, timeout=60), self.items
            hit = found()
            assert hit is not None
            return hit

    def clear(self) -> None:
        with self._cond:
            self.items.clear()


@pytest.fixture
def heard() -> Heard:
    return Heard()


def open_api(server: OpenAICompatServer, data_dir: Path, heard: Heard, settings: dict[str, Any],
             secrets: dict[str, str] | None = None) -> Api:
    server.default_responder = companion_responder
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps(settings))
    api = Api(data_dir, env=make_env(server), emit=heard)
    for name, value in (secrets or {}).items():
        ok(api.secret_set({"name": name, "value": value}))
    assert ok(api.index_status())  # the memory opens: the watch begins
    heard.limited(lambda s: s == set())  # the first word: nothing limited
    return api


def test_speech_down_during_use_is_said_and_back_when_it_answers(
    openai_server: OpenAICompatServer, data_dir: Path, heard: Heard
) -> None:
    with VoiceServer() as vs:
        api = open_api(openai_server, data_dir, heard, {"voice": {
            "tts_enabled": True, "tts_provider": "openai", "openai_tts_url": vs.openai_url,
            "stt_provider": "openai", "stt_url": vs.openai_url}})
        try:
            assert ok(api.voice_speak({"text": "你好"}))["audio_b64"]
            vs.down = 503
            failed = api.voice_speak({"text": "还在吗"})
            assert failed["ok"] is False and "503" in failed["error"]["message"]
            said = heard.limited(lambda s: "tts" in s)
            assert said["service"] == "tts" and said["ok"] is False
            tts = next(x for x in said["limited"] if x["service"] == "tts")
            assert "503" in tts["message"] and "语音" in tts["message"]  # the app's language
            assert "tts" in {x["service"] for x in ok(api.service_health())["limited"]}
            clip = base64.b64encode(tone_wav(1.0)).decode()
            failed = api.voice_transcribe({"audio_b64": clip, "mime": "audio/wav"})
            assert failed["ok"] is False
            heard.limited(lambda s: s == {"tts", "stt"})  # the microphone's service too
            heard.clear()
            vs.down = None  # back: the next probes (within a few seconds) find them
            heard.limited(lambda s: s == set())
            assert ok(api.voice_speak({"text": "你好"}))["audio_b64"]
            assert ok(api.voice_transcribe({"audio_b64": clip, "mime": "audio/wav"}))["text"]
        finally:
            api.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="y").create_bucket(Bucket="dl-b")
    yield f"http://{host}:{port}"
    server.stop()


def test_the_backup_bucket_unreachable_during_use_is_said_and_back_when_it_answers(
    openai_server: OpenAICompatServer, data_dir: Path, heard: Heard, moto_url: str
) -> None:
    with GateProxy(moto_url) as gate:
        api = open_api(openai_server, data_dir, heard,
                       {"backup": {"endpoint": gate.url, "bucket": "dl-b", "region": "us-east-1"}},
                       {"s3_access_key": "AKIATEST", "s3_secret_key": "s3-secret"})
        api._ctx.backup_timeout = 5.0
        try:
            assert ok(api.backup_list())["objects"] == []
            gate.open = False
            failed = api.backup_list()
            assert failed["ok"] is False
            said = heard.limited(lambda s: s == {"s3"})
            assert said["limited"][0]["message"]
            heard.clear()
            gate.open = True
            heard.limited(lambda s: s == set())
            assert ok(api.backup_list())["objects"] == []
        finally:
            api.close()
