"""The speech adapters against scripted local services that record what they
get: field names (Fish's ``text``), multipart parts (F5, transcriptions),
and the errors a user sees (dead endpoint, 4xx/5xx, timeout, not audio)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from dl_app.adapters.stt import OpenAITranscriber, RecordingError
from dl_app.adapters.tts import F5Synth, FishSynth, OpenAISynth, audio_duration, sniff_audio
from dl_app.core.errors import (
    AuthFailed,
    BadResponse,
    ModelNotFound,
    ServerFailed,
    ServiceUnreachable,
)
from frontend_helpers import free_port
from servers.voice_servers import VoiceServer, measure_wav, tone_wav
from voice_helpers import require_speech_tools, spoken_wav

require_speech_tools()

REF = tone_wav(1.0)
REFERENCE = (REF, "ref.wav", "参考音频说的话")


@pytest.fixture
def vs():
    with VoiceServer() as server:
        yield server
    assert not server.errors


def test_f5_sends_multipart_reference_clip_text_and_model(vs: VoiceServer) -> None:
    with F5Synth(vs.f5_url, REFERENCE) as synth:
        audio, mime = synth.synthesize("你好，世界。")
    assert mime == "audio/wav" and audio_duration(audio) == pytest.approx(0.4, abs=0.01)
    (req,) = vs.of("/api")
    assert req.fields == {"gen_text": "你好，世界。", "ref_text": "参考音频说的话", "model": "f5-tts"}
    name, ctype, data = req.files["audio"]
    assert (name, ctype) == ("ref.wav", "audio/wav") and data == REF


def test_f5_without_a_reference_clip_says_what_to_do(vs: VoiceServer) -> None:
    with F5Synth(vs.f5_url, None) as synth, pytest.raises(Exception, match="reference voice clip"):
        synth.synthesize("你好")
    assert vs.requests == []


def test_fish_sends_the_text_field_and_base64_reference(vs: VoiceServer) -> None:
    with FishSynth(vs.fish_url, REFERENCE) as synth:
        audio, mime = synth.synthesize("早上好。")
    (req,) = vs.of("/v1/tts")
    body = req.json
    assert body["text"] == "早上好。" and "t" not in body  # the original app's bug
    assert body["format"] == "wav" and body["use_memory_cache"] == "on"
    assert body["references"] == [{"audio": base64.b64encode(REF).decode(), "text": "参考音频说的话"}]
    assert mime == "audio/wav" and audio.startswith(b"RIFF")


def test_fish_without_reference_sends_none(vs: VoiceServer) -> None:
    with FishSynth(vs.fish_url, None) as synth:
        synth.synthesize("hi there")
    assert vs.of("/v1/tts")[0].json["references"] == []


def test_openai_speech_body_and_key(vs: VoiceServer) -> None:
    vs.api_key = "sk-voice-1234"
    with OpenAISynth(vs.openai_url, model="tts-1", voice="nova", api_key="sk-voice-1234") as s:
        _audio, mime = s.synthesize("Hello there.")
    (req,) = vs.of("/v1/audio/speech")
    assert req.json == {"model": "tts-1", "input": "Hello there.", "voice": "nova", "response_format": "mp3"}
    assert req.headers["authorization"] == "Bearer sk-voice-1234"
    assert mime == "audio/wav"  # sniffed from the bytes, whatever was asked


def test_wrong_key_is_auth_failed_and_the_key_is_scrubbed(vs: VoiceServer) -> None:
    vs.api_key = "right-key"
    synth = OpenAISynth(vs.openai_url, model="tts-1", voice="a", api_key="sk-wrong-9876")
    with synth, pytest.raises(AuthFailed) as err:
        synth.synthesize("Hello.")
    assert "401" in str(err.value) and "sk-wrong-9876" not in str(err.value)
    assert "***" in str(err.value)  # the server echoed the key; it is hidden


def test_server_error_404_and_dead_endpoint(vs: VoiceServer) -> None:
    vs.tts_errors = [500]
    with F5Synth(vs.f5_url, REFERENCE) as synth, pytest.raises(ServerFailed, match="500"):
        synth.synthesize("你好")
    synth = F5Synth(vs.fish_url + "/nothing", REFERENCE)
    with synth, pytest.raises(ModelNotFound, match=r"404.*default: http://127.0.0.1:5010/api"):
        synth.synthesize("你好")
    dead = f"http://127.0.0.1:{free_port()}"
    with FishSynth(dead, None) as synth, pytest.raises(ServiceUnreachable, match="connection refused"):
        synth.synthesize("你好")
    with FishSynth("127.0.0.1:8080", None) as synth, pytest.raises(ServiceUnreachable, match="http://"):
        synth.synthesize("你好")


def test_timeout_says_so(vs: VoiceServer) -> None:
    vs.tts_delay = 1.0
    synth = FishSynth(vs.fish_url, None, timeout=0.3)
    with synth, pytest.raises(ServiceUnreachable, match=r"did not answer within 0\.3 seconds"):
        synth.synthesize("你好")


def test_an_answer_that_is_not_audio_is_bad_response(vs: VoiceServer) -> None:
    vs.tts_raw = (200, b"<html>please log in</html>", "text/html")  # e.g. a captive portal
    synth = OpenAISynth(vs.openai_url, model="m", voice="v")
    with synth, pytest.raises(BadResponse, match=r"not audio \(text/html, 26 bytes"):
        synth.synthesize("Hello.")


def test_sniff_audio_formats() -> None:
    assert sniff_audio(tone_wav(0.1)) == "audio/wav"
    assert sniff_audio(b"ID3\x03rest") == "audio/mpeg"
    assert sniff_audio(b"\xff\xfb\x90\x00") == "audio/mpeg"
    assert sniff_audio(b"OggS\x00") == "audio/ogg"
    assert sniff_audio(b"\x1a\x45\xdf\xa3....") == "audio/webm"
    assert sniff_audio(b"<html>") is None



def test_transcription_sends_the_recording_model_and_language(vs: VoiceServer, tmp_path: Path) -> None:
    wav = spoken_wav(tmp_path, "hello digital life").read_bytes()
    total, voiced = measure_wav(wav)
    assert total > 3 and voiced > 0.5  # espeak really spoke
    vs.phrases = ["hello digital life"]
    with OpenAITranscriber(vs.openai_url, "", "whisper-1") as stt:
        assert stt.transcribe(wav, "audio/wav", "en") == "hello digital life"
        assert stt.transcribe(tone_wav(0.5)[:44] + b"\0" * 16000, "audio/wav", "zh") == ""
    first, second = vs.stt_requests
    assert first.fields == {"model": "whisper-1", "response_format": "json", "language": "en"}
    name, ctype, data = first.files["file"]
    assert (name, ctype) == ("speech.wav", "audio/wav")
    assert hashlib.sha256(data).digest() == hashlib.sha256(wav).digest()
    assert second.fields["language"] == "zh"


def test_bad_recordings_are_refused_before_sending(vs: VoiceServer) -> None:
    with OpenAITranscriber(vs.openai_url, "", "whisper-1") as stt:
        with pytest.raises(RecordingError, match="empty"):
            stt.transcribe(b"", "audio/wav", "en")
        with pytest.raises(RecordingError, match="not in an audio format"):
            stt.transcribe(b"hello, not audio", "audio/wav", "en")
    with OpenAITranscriber("", "", "whisper-1") as stt, pytest.raises(ServiceUnreachable, match="No address"):
        stt.transcribe(tone_wav(0.2), "audio/wav", "en")
    assert vs.stt_requests == []
