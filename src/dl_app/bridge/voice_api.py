"""The voice's bridge methods: speak, transcribe, the reference clip, tests.
A mixin of ``Api`` (same plumbing: ``_run``). See ``docs/bridge-api.md``.

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
from ..core.errors import ServiceError
from ..core.speech import speakable, speech_weight
from ..fsutil import atomic_write_bytes
from ..settings import VoiceSettings
from ..wiring import resolve_lang
from .params import InvalidInput, NoParams

__all__ = ["VOICE_METHODS", "VoiceApi"]

VOICE_METHODS = (
    "voice_config", "voice_speak", "voice_transcribe", "voice_reference_upload", "voice_test",
)
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
        raise InvalidInput(f"The {what} is not valid base64.") from e


class VoiceApi:
    _run: Any
    _data_dir: Path
    _env: Any
    _secrets: Any
    _lock: Any

    # -- helpers (not exposed)

    def _voice(self) -> tuple[VoiceSettings, str]:
        s = settings_io.effective(self._data_dir, self._env)
        return s.voice, resolve_lang(s.language, self._env)

    def _reference(self, v: VoiceSettings) -> tuple[bytes, str, str] | None:
        if not v.reference_file:
            return None
        path = self._data_dir / VOICE_DIR / Path(v.reference_file).name
        try:
            return path.read_bytes(), path.name, v.reference_text
        except FileNotFoundError:
            return None

    def _reference_info(self, v: VoiceSettings) -> dict[str, Any] | None:
        ref = self._reference(v)
        if ref is None:
            return None
        clip, name, text = ref
        return {"name": name, "bytes": len(clip), "seconds": audio_duration(clip),
                "mime": sniff_audio(clip), "text": text}

    def _synthesize(self, v: VoiceSettings, text: str) -> dict[str, Any]:
        with make_synth(v, self._secrets.get("tts_api_key"), self._reference(v),
                        timeout=TTS_TIMEOUT) as synth:
            audio, mime = synth.synthesize(text)
        return {"audio_b64": base64.b64encode(audio).decode("ascii"), "mime": mime,
                "seconds": audio_duration(audio)}

    def _transcriber(self, v: VoiceSettings) -> OpenAITranscriber:
        return OpenAITranscriber(v.stt_url, self._secrets.get("stt_api_key"), v.stt_model,
                                 timeout=STT_TIMEOUT)

    # -- the page's methods

    def voice_config(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._voice_config, locked=False)

    def _voice_config(self, _p: NoParams) -> dict[str, Any]:
        v, lang = self._voice()
        return {
            "tts_enabled": v.tts_enabled,
            "tts_provider": v.tts_provider,
            "stt_provider": v.stt_provider,
            "stt_server": bool(v.stt_url.strip()),
            "silence_ms": v.silence_ms,
            "lang": lang,
            "reference": self._reference_info(v),
        }

    def voice_speak(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, SpeakParams, self._voice_speak, locked=False)

    def _voice_speak(self, p: SpeakParams) -> dict[str, Any]:
        text = speakable(p.text)
        if not speech_weight(text):
            raise InvalidInput("There is nothing to read aloud in this text.")
        v, _lang = self._voice()
        return {"text": text, **self._synthesize(v, text)}

    def voice_transcribe(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, TranscribeParams, self._voice_transcribe, locked=False)

    def _voice_transcribe(self, p: TranscribeParams) -> dict[str, Any]:
        audio = _b64(p.audio_b64, "recording")
        v, lang = self._voice()
        language = (p.language or lang).split("-")[0].lower()
        try:
            with self._transcriber(v) as stt:
                text = stt.transcribe(audio, p.mime, language)
        except RecordingError as e:
            raise InvalidInput(str(e)) from e
        return {"text": text, "language": language}

    def voice_reference_upload(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ReferenceParams, self._voice_reference_upload)

    def _voice_reference_upload(self, p: ReferenceParams) -> dict[str, Any]:
        clip = _b64(p.data_base64, "voice clip")
        if len(clip) > MAX_CLIP_BYTES:
            raise InvalidInput("The voice clip is larger than 10 MB; a few seconds are enough.")
        mime = sniff_audio(clip)
        if mime is None:
            raise InvalidInput(
                f"{p.name}: not an audio file the app knows (use WAV, MP3, FLAC or Ogg)."
            )
        seconds = audio_duration(clip)
        if seconds is not None and seconds > MAX_CLIP_SECONDS:
            raise InvalidInput(
                f"The voice clip is {seconds:.0f} s long; use one under 15 s (at most 30 s)."
            )
        ext = mime.split("/")[1].replace("mpeg", "mp3")
        stem = re.sub(r"[^\w.-]+", "_", Path(p.name).stem)[:60] or "reference"
        name = f"{stem}.{ext}"
        folder = self._data_dir / VOICE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        v, _lang = self._voice()
        atomic_write_bytes(folder / name, clip)
        patch: dict[str, Any] = {"reference_file": name}
        if p.text is not None:
            patch["reference_text"] = p.text.strip()
        settings_io.apply_patch(self._data_dir, {"voice": patch})
        old = Path(v.reference_file).name if v.reference_file else ""
        if old and old != name:
            (folder / old).unlink(missing_ok=True)
        v, _lang = self._voice()
        return {"reference": self._reference_info(v)}

    def voice_test(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, VoiceTestParams, self._voice_test, locked=False)

    def _voice_test(self, p: VoiceTestParams) -> dict[str, Any]:
        v, lang = self._voice()
        try:
            if p.kind == "tts":
                out = self._synthesize(v, _TEST_TEXT[lang])
                secs = out["seconds"]
                length = f" ({secs:.1f} s)" if secs else ""
                return {"message": f"OK: the speech service answered {out['mime']}{length}.",
                        **out}
            with self._transcriber(v) as stt:
                text = stt.transcribe(silent_wav(), "audio/wav", lang)
            return {"message": f"OK: the transcription service answered ({text!r} for "
                               "half a second of silence)."}
        except ServiceError as e:
            return {"ok": False, "error": {"type": type(e).__name__, "message": str(e)},
                    "message": str(e)}
