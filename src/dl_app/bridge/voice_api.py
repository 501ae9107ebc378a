"""The voice's bridge methods: speak, transcribe, the reference clip, tests.
See ``docs/bridge-api.md``.

None of them waits for the memory lock: sentences are synthesised while
``chat_send`` is still streaming the reply. They read the settings in force
on each call (so a toggle in the tray or the settings page applies at once)
and the keys ``tts_api_key`` / ``stt_api_key`` from the secret store.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import wave
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from .. import settings_io
from ..adapters.stt import OpenAITranscriber, RecordingError
from ..adapters.tts import audio_duration, make_synth, sniff_audio
from ..core.errors import ServiceError, msg
from ..core.health import STT, TTS
from ..core.speech import speakable, speech_weight
from ..fsutil import atomic_write_bytes
from ..messages import say
from ..settings import VoiceSettings
from .context import Context
from .health_api import used
from .params import InvalidInput, NoParams, failure
from .registry import Methods

__all__ = ["methods", "silent_wav"]

methods = Methods()

VOICE_DIR = "voice"
MAX_SPEAK_CHARS = 2000
MAX_CLIP_BYTES = 10 * 1024 * 1024
MAX_CLIP_SECONDS = 30.0
TTS_TIMEOUT = 60.0
STT_TIMEOUT = 60.0
_TEST_TEXT = {"zh": "你好，我是你的数字生命。", "en": "Hello, I am your Digital Life."}


class SpeakParams(NoParams):
    text: str = Field(max_length=MAX_SPEAK_CHARS)


class TranscribeParams(NoParams):
    audio_b64: str = Field(max_length=36_000_000)
    mime: str = Field(default="", max_length=100)
    language: str = Field(default="", max_length=10, pattern=r"^[a-zA-Z-]*$")


class ReferenceParams(NoParams):
    name: str = Field(default="reference.wav", max_length=255)
    data_base64: str = Field(min_length=1, max_length=14_000_000)
    text: str | None = Field(default=None, max_length=2000)


class VoiceTestParams(NoParams):
    kind: Literal["tts", "stt"]


def silent_wav(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """A short silent 16-bit mono WAV (what ``voice_test`` sends to the STT)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buf.getvalue()


def _b64(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidInput(msg(what)) from e


# -- helpers


def _voice(ctx: Context) -> tuple[VoiceSettings, str]:
    return ctx.settings().voice, ctx.companion_lang()


def _reference(ctx: Context, v: VoiceSettings) -> tuple[bytes, str, str] | None:
    if not v.reference_file:
        return None
    path = ctx.data_dir / VOICE_DIR / Path(v.reference_file).name
    try:
        return path.read_bytes(), path.name, v.reference_text
    except FileNotFoundError:
        return None


def _reference_info(ctx: Context, v: VoiceSettings) -> dict[str, Any] | None:
    ref = _reference(ctx, v)
    if ref is None:
        return None
    clip, name, text = ref
    return {"name": name, "bytes": len(clip), "seconds": audio_duration(clip),
            "mime": sniff_audio(clip), "text": text}


def _synthesize(ctx: Context, v: VoiceSettings, text: str) -> dict[str, Any]:
    with used(ctx, TTS), make_synth(v, ctx.secrets.get("tts_api_key"), _reference(ctx, v),
                                    timeout=TTS_TIMEOUT) as synth:
        audio, mime = synth.synthesize(text)
    return {"audio_b64": base64.b64encode(audio).decode("ascii"), "mime": mime,
            "seconds": audio_duration(audio)}


def _transcriber(ctx: Context, v: VoiceSettings) -> OpenAITranscriber:
    return OpenAITranscriber(v.stt_url, ctx.secrets.get("stt_api_key"), v.stt_model,
                             timeout=STT_TIMEOUT)


# -- the page's methods


@methods.expose(locked=False)
def voice_config(ctx: Context, _p: NoParams) -> dict[str, Any]:
    v, lang = _voice(ctx)
    return {
        "tts_enabled": v.tts_enabled,
        "tts_provider": v.tts_provider,
        "stt_provider": v.stt_provider,
        "stt_server": bool(v.stt_url.strip()),
        "silence_ms": v.silence_ms,
        "lang": lang,
        "reference": _reference_info(ctx, v),
    }


@methods.expose(SpeakParams, locked=False)
def voice_speak(ctx: Context, p: SpeakParams) -> dict[str, Any]:
    text = speakable(p.text)
    if not speech_weight(text):
        raise InvalidInput(msg("voice.nothing_to_read"))
    v, _lang = _voice(ctx)
    return {"text": text, **_synthesize(ctx, v, text)}


@methods.expose(TranscribeParams, locked=False)
def voice_transcribe(ctx: Context, p: TranscribeParams) -> dict[str, Any]:
    audio = _b64(p.audio_b64, "voice.recording_base64")
    v, lang = _voice(ctx)
    language = (p.language or lang).split("-")[0].lower()
    try:
        with used(ctx, STT), _transcriber(ctx, v) as stt:
            text = stt.transcribe(audio, p.mime, language)
    except RecordingError as e:
        raise InvalidInput(e.args[0]) from e
    return {"text": text, "language": language}


@methods.expose(ReferenceParams)
def voice_reference_upload(ctx: Context, p: ReferenceParams) -> dict[str, Any]:
    clip = _b64(p.data_base64, "voice.clip_base64")
    if len(clip) > MAX_CLIP_BYTES:
        raise InvalidInput(msg("voice.clip_too_large"))
    mime = sniff_audio(clip)
    if mime is None:
        raise InvalidInput(msg("voice.clip_format", name=p.name))
    seconds = audio_duration(clip)
    if seconds is not None and seconds > MAX_CLIP_SECONDS:
        raise InvalidInput(msg("voice.clip_too_long", seconds=seconds))
    ext = mime.split("/")[1].replace("mpeg", "mp3")
    stem = re.sub(r"[^\w.-]+", "_", Path(p.name).stem)[:60] or "reference"
    name = f"{stem}.{ext}"
    folder = ctx.data_dir / VOICE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    v, _lang = _voice(ctx)
    atomic_write_bytes(folder / name, clip)
    patch: dict[str, Any] = {"reference_file": name}
    if p.text is not None:
        patch["reference_text"] = p.text.strip()
    settings_io.apply_patch(ctx.data_dir, {"voice": patch})
    old = Path(v.reference_file).name if v.reference_file else ""
    if old and old != name:
        (folder / old).unlink(missing_ok=True)
    v, _lang = _voice(ctx)
    return {"reference": _reference_info(ctx, v)}


@methods.expose(VoiceTestParams, locked=False)
def voice_test(ctx: Context, p: VoiceTestParams) -> dict[str, Any]:
    v, lang = _voice(ctx)
    try:
        if p.kind == "tts":
            out = _synthesize(ctx, v, _TEST_TEXT[lang])
            secs = out["seconds"]
            key = "voice.test_tts_ok_seconds" if secs else "voice.test_tts_ok"
            return {"message": say(ctx.lang(), key, mime=out["mime"], seconds=secs or 0), **out}
        with used(ctx, STT), _transcriber(ctx, v) as stt:
            text = stt.transcribe(silent_wav(), "audio/wav", lang)
        return {"message": say(ctx.lang(), "voice.test_stt_ok", text=repr(text))}
    except ServiceError as e:  # in the app's language (str() is English)
        out = failure(e, ctx.lang())
        return {**out, "message": out["error"]["message"]}
