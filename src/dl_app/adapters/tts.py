"""Speech synthesis services behind one interface (``core.ports.SpeechSynth``).

    synth = make_synth(settings.voice, api_key, reference=(wav_bytes, "它说的话"))
    audio, mime = synth.synthesize("你好！")

- **F5-TTS API** (jianchang512/f5-tts-api): ``POST {url}`` multipart with the
  form fields ``gen_text`` (what to say), ``ref_text`` (what the reference clip
  says), ``model=f5-tts`` and the file ``audio`` (the reference clip). The
  answer is the WAV.
- **Fish Speech** HTTP API: ``POST {url}/v1/tts`` with JSON ``{"text": ...,
  "format": "wav", "use_memory_cache": "on", "references": [{"audio": <base64>,
  "text": ...}]}``. (The original app sent the key ``t`` instead of ``text`` in
  its real calls, so Fish read an empty text; here it is ``text``.)
- **OpenAI-compatible** ``POST {url}/audio/speech`` with JSON ``{model, input,
  voice, response_format}`` and ``Authorization: Bearer <key>``.

Every failure is a ``dl_app.core.errors`` error whose message says which
service, where, and what to do; keys are scrubbed from what services echo.
An answer that is not audio (an HTML page, JSON, nothing) is ``BadResponse``.
"""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

import httpx

from dl_app.core.errors import (
    BadResponse,
    ModelNotFound,
    ServiceError,
    ServiceUnreachable,
    msg,
)

from .service_errors import probe_http, server_detail, status_error, unreachable, what_text

__all__ = [
    "F5Synth",
    "FishSynth",
    "OpenAISynth",
    "audio_duration",
    "make_synth",
    "request_audio",
    "sniff_audio",
]

MAX_AUDIO_BYTES = 25 * 1024 * 1024


def sniff_audio(data: bytes) -> str | None:
    """The MIME type of WAV, MP3, Ogg, FLAC, WebM or MP4/AAC bytes, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        if len(data) > 1 and data[1] & 0xF6 == 0xF0:  # ADTS AAC, not MPEG layer audio
            return "audio/aac"
        return "audio/mpeg"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"fLaC":
        return "audio/flac"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    return None


def audio_duration(data: bytes) -> float | None:
    """Seconds of a WAV file (None for other formats or a broken header)."""
    if sniff_audio(data) != "audio/wav":
        return None
    try:
        with wave.open(io.BytesIO(data)) as w:
            rate = w.getframerate()
            return w.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        return None


def request_audio(
    client: httpx.Client,
    url: str,
    *,
    what: str,
    secret: str,
    timeout: float,
    default_url: str | None = None,
    model: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """POST, mapping connection failures and error statuses to errors."""
    if not url.startswith(("http://", "https://")):
        raise ServiceUnreachable(
            msg("voice.bad_scheme_example", what=what_text(what), url=url, example=default_url)
            if default_url else msg("voice.bad_scheme", what=what_text(what), url=url)
        )
    try:
        resp = client.post(url, **kwargs)
    except httpx.TimeoutException as e:
        raise ServiceUnreachable(
            msg("voice.timeout", what=what_text(what), url=url, seconds=timeout)
        ) from e
    except httpx.HTTPError as e:
        raise unreachable(url, e, what) from e
    if resp.status_code >= 300:
        try:
            detail = server_detail(resp.json(), secret)
        except ValueError:
            detail = server_detail(resp.text, secret)
        if resp.status_code == 404 and model is None:
            said = msg("service.said", detail=detail) if detail else ""
            raise ModelNotFound(
                msg("voice.nothing_found_default", url=url, default=default_url, said=said)
                if default_url else msg("voice.nothing_found", url=url, said=said)
            )
        raise status_error(resp.status_code, detail, what=what, base_url=url, model=model)
    return resp


def _audio_of(resp: httpx.Response, what: str, url: str) -> tuple[bytes, str]:
    data = resp.content
    if not data:
        raise BadResponse(msg("voice.no_audio", what=what_text(what), url=url))
    if len(data) > MAX_AUDIO_BYTES:
        raise BadResponse(msg("voice.audio_too_large", what=what_text(what), url=url))
    mime = sniff_audio(data)
    if mime is None:
        kind = resp.headers.get("content-type", "unknown").split(";")[0]
        raise BadResponse(
            msg("voice.not_audio", what=what_text(what), url=url, kind=kind, size=len(data))
        )
    return data, mime


def _need_text(text: str) -> str:
    if not text.strip():
        raise ValueError("nothing to synthesise: the text is empty")
    return text


class _Base:
    what = "speech service"
    default_url: str | None = None

    def __init__(self, url: str, *, api_key: str = "", timeout: float = 60.0,
                 http_client: httpx.Client | None = None) -> None:
        self.url = url.strip().rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._client = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), follow_redirects=True
        )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def probe_url(self) -> str:
        return self.url

    def probe(self) -> None:
        """Whether the service answers at all (a short GET; see ``probe_http``)."""
        if not self.url.startswith(("http://", "https://")):
            raise ServiceUnreachable(
                msg("voice.bad_scheme", what=what_text(self.what), url=self.url))
        probe_http(self._client, self.probe_url(), what=self.what, secret=self._api_key,
                   headers=self._headers())

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class F5Synth(_Base):
    """F5-TTS API: multipart, reference clip + its transcript + the text."""

    what = "F5-TTS service"
    default_url = "http://127.0.0.1:5010/api"

    def __init__(self, url: str, reference: tuple[bytes, str, str] | None, *,
                 model: str = "f5-tts", **kw: Any) -> None:
        super().__init__(url, **kw)
        self._reference = reference  # (clip bytes, file name, transcript)
        self._model = model

    def synthesize(self, text: str) -> tuple[bytes, str]:
        _need_text(text)
        if self._reference is None:
            raise ServiceError(msg("voice.f5_reference"))
        clip, name, ref_text = self._reference
        mime = sniff_audio(clip) or "audio/wav"
        resp = request_audio(
            self._client, self.url, what=self.what, secret=self._api_key,
            timeout=self._timeout, default_url=self.default_url,
            data={"gen_text": text, "ref_text": ref_text, "model": self._model},
            files={"audio": (name, clip, mime)}, headers=self._headers(),
        )
        return _audio_of(resp, self.what, self.url)


class FishSynth(_Base):
    """Fish Speech ``/v1/tts`` (JSON; the reference clip in base64)."""

    what = "Fish Speech service"
    default_url = "http://127.0.0.1:8080"

    def __init__(self, url: str, reference: tuple[bytes, str, str] | None, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._reference = reference

    def probe_url(self) -> str:
        return self.url + "/v1/health"

    def synthesize(self, text: str) -> tuple[bytes, str]:
        body: dict[str, Any] = {
            "text": _need_text(text), "format": "wav", "use_memory_cache": "on",
            "references": [],
        }
        if self._reference is not None:
            clip, _name, ref_text = self._reference
            body["references"] = [
                {"audio": base64.b64encode(clip).decode("ascii"), "text": ref_text}
            ]
        url = self.url + "/v1/tts"
        resp = request_audio(
            self._client, url, what=self.what, secret=self._api_key, timeout=self._timeout,
            default_url=self.default_url, json=body, headers=self._headers(),
        )
        return _audio_of(resp, self.what, url)


class OpenAISynth(_Base):
    """An OpenAI-compatible ``/audio/speech`` endpoint."""

    what = "speech service"

    def __init__(self, url: str, *, model: str, voice: str, response_format: str = "mp3",
                 **kw: Any) -> None:
        super().__init__(url, **kw)
        self._model = model
        self._voice = voice
        self._format = response_format

    def probe_url(self) -> str:
        return self.url + "/models"

    def synthesize(self, text: str) -> tuple[bytes, str]:
        if not self.url:
            raise ServiceUnreachable(msg("voice.tts_no_address"))
        body = {"model": self._model, "input": _need_text(text), "voice": self._voice,
                "response_format": self._format}
        url = self.url + "/audio/speech"
        resp = request_audio(
            self._client, url, what=self.what, secret=self._api_key, timeout=self._timeout,
            model=self._model or None, json=body, headers=self._headers(),
        )
        return _audio_of(resp, self.what, url)


def make_synth(
    voice: Any,
    api_key: str,
    reference: tuple[bytes, str, str] | None,
    *,
    timeout: float = 60.0,
    http_client: httpx.Client | None = None,
) -> F5Synth | FishSynth | OpenAISynth:
    """The synthesiser ``voice`` (``settings.VoiceSettings``) selects."""
    kw: dict[str, Any] = {"api_key": api_key, "timeout": timeout, "http_client": http_client}
    if voice.tts_provider == "f5":
        return F5Synth(voice.f5_url, reference, **kw)
    if voice.tts_provider == "fish":
        return FishSynth(voice.fish_url, reference, **kw)
    return OpenAISynth(voice.openai_tts_url, model=voice.openai_tts_model,
                       voice=voice.openai_tts_voice, **kw)
