"""The voice bridge methods on the real ``Api`` against scripted speech services:
the reference clip upload, speak (cleaned text, audio back), transcribe
(language from the UI language), the tests, and that none waits for a turn."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest

from bridge_helpers import ok
from dl_app.bridge import API_METHODS, Api
from dl_app.settings import SETTINGS_FILE
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply
from servers.voice_servers import VoiceServer, tone_wav
from voice_helpers import require_speech_tools, spoken_wav

require_speech_tools()


@pytest.fixture
def vs():
    with VoiceServer() as server:
        yield server
    assert not server.errors


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def configure(api: Api, vs: VoiceServer, **voice: object) -> None:
    patch = {"tts_enabled": True, "f5_url": vs.f5_url, "fish_url": vs.fish_url,
             "openai_tts_url": vs.openai_url, "stt_url": vs.openai_url, **voice}
    ok(api.settings_set({"patch": {"voice": patch}}))


def test_methods_are_listed() -> None:
    for name in ("voice_config", "voice_speak", "voice_transcribe", "voice_reference_upload", "voice_test"):
        assert name in API_METHODS


def test_reference_upload_then_speak_with_f5(api: Api, vs: VoiceServer, data_dir: Path) -> None:
    configure(api, vs)
    cfg = ok(api.voice_config())
    assert cfg["tts_enabled"] is True and cfg["reference"] is None and cfg["silence_ms"] == 1200
    clip = tone_wav(2.0)
    up = ok(api.voice_reference_upload({"name": "我的 声音.wav", "data_base64": b64(clip), "text": "参考文本"}))
    assert up["reference"]["name"] == "我的_声音.wav" and up["reference"]["seconds"] == pytest.approx(2.0)
    assert (data_dir / "voice" / "我的_声音.wav").read_bytes() == clip
    saved = json.loads((data_dir / SETTINGS_FILE).read_text())["voice"]
    assert saved["reference_file"] == "我的_声音.wav" and saved["reference_text"] == "参考文本"
    assert b64(clip) not in (data_dir / SETTINGS_FILE).read_text()  # the clip is a file, not a setting

    res = ok(api.voice_speak({"text": "**你好** 😀 看 https://x.cn/a 。"}))
    assert res["text"] == "你好 看。" and res["mime"] == "audio/wav"
    assert base64.b64decode(res["audio_b64"]).startswith(b"RIFF")
    (req,) = vs.of("/api")
    assert req.fields["gen_text"] == "你好 看。" and req.fields["ref_text"] == "参考文本"
    assert req.files["audio"][2] == clip

    # A new clip replaces the old file.
    ok(api.voice_reference_upload({"name": "b.wav", "data_base64": b64(tone_wav(1.0))}))
    assert sorted(p.name for p in (data_dir / "voice").iterdir()) == ["b.wav"]


def test_bad_inputs_are_clear(api: Api, vs: VoiceServer) -> None:
    configure(api, vs)
    bad = api.voice_reference_upload({"name": "x.wav", "data_base64": b64(b"not audio at all")})
    assert bad["error"]["type"] == "InvalidInput" and "不是应用认识的音频文件" in bad["error"]["message"]
    long = api.voice_reference_upload({"name": "x.wav", "data_base64": b64(tone_wav(31, rate=8000))})
    assert "有 31 秒长" in long["error"]["message"]  # in the app's language (zh)
    assert api.voice_speak({"text": "😀 👍"})["error"]["message"] == "这段文字里没有可以朗读的内容。"
    assert api.voice_transcribe({"audio_b64": "%%%"})["error"]["type"] == "InvalidInput"
    empty = api.voice_transcribe({"audio_b64": ""})
    assert "录音是空的" in empty["error"]["message"]


def test_speak_failure_is_a_service_error(api: Api, vs: VoiceServer) -> None:
    configure(api, vs, tts_provider="fish")
    vs.tts_errors = [500]
    res = api.voice_speak({"text": "你好呀。"})
    assert res["ok"] is False and res["error"]["type"] == "ServerFailed"
    assert "Fish Speech 服务" in res["error"]["message"]
    assert vs.of("/v1/tts")[0].json["text"] == "你好呀。"


def test_transcribe_language_follows_the_ui_language(api: Api, vs: VoiceServer, tmp_path: Path) -> None:
    configure(api, vs, stt_provider="openai")
    ok(api.secret_set({"name": "stt_api_key", "value": "sk-stt-5555"}))
    wav = spoken_wav(tmp_path, "good morning").read_bytes()
    ok(api.settings_set({"patch": {"language": "zh"}}))
    vs.phrases = ["first", "second"]
    assert ok(api.voice_transcribe({"audio_b64": b64(wav), "mime": "audio/wav"}))["text"] == "first"
    ok(api.settings_set({"patch": {"language": "en"}}))
    got = ok(api.voice_transcribe({"audio_b64": b64(wav), "mime": "audio/wav"}))
    assert got == {"ok": True, "text": "second", "language": "en"}
    first, second = vs.stt_requests
    assert first.fields["language"] == "zh" and second.fields["language"] == "en"
    assert second.headers["authorization"] == "Bearer sk-stt-5555"
    # The page may say which language it shows (its own switch): that wins.
    ok(api.voice_transcribe({"audio_b64": b64(wav), "language": "zh-CN"}))
    assert vs.stt_requests[-1].fields["language"] == "zh"


def test_voice_test_both_ways(api: Api, vs: VoiceServer) -> None:
    configure(api, vs, tts_provider="openai")
    ok(api.secret_set({"name": "tts_api_key", "value": "sk-tts-7777"}))
    tts = ok(api.voice_test({"kind": "tts"}))
    # In the UI language (Chinese here): "可以用：语音合成服务返回了 audio/wav（… 秒）。"
    assert tts["message"].startswith("可以用：") and tts["mime"] == "audio/wav"
    assert "audio/wav" in tts["message"]
    assert vs.of("/v1/audio/speech")[0].headers["authorization"] == "Bearer sk-tts-7777"
    stt = ok(api.voice_test({"kind": "stt"}))
    assert stt["message"].startswith("可以用：") and "半秒静音" in stt["message"]
    configure(api, vs, tts_provider="f5")  # no clip uploaded
    failed = api.voice_test({"kind": "tts"})
    # Said in the UI language too (it was English: the error's str()).
    assert failed["ok"] is False and "参考声音" in failed["message"]
    assert failed["error"]["message"] == failed["message"]
    settings = ok(api.settings_get())
    assert settings["secrets"]["tts_api_key"] is True and settings["secrets"]["stt_api_key"] is False
    assert "sk-tts-7777" not in json.dumps(settings)


def test_speak_does_not_wait_for_a_streaming_turn(
    api: Api, vs: VoiceServer, openai_server: OpenAICompatServer
) -> None:
    configure(api, vs, tts_provider="fish")
    openai_server.enqueue(ChatReply(content="慢慢地说。" * 10, chunk_size=2, chunk_delay=0.1))
    turn = threading.Thread(target=api.chat_send, args=({"text": "你好"},))
    turn.start()
    time.sleep(0.5)
    started = time.monotonic()
    ok(api.voice_speak({"text": "我先说一句。"}))
    took = time.monotonic() - started
    still_streaming = turn.is_alive()
    turn.join(30)
    assert still_streaming and took < 1.5
