"""Speech recognition through an OpenAI-compatible ``/audio/transcriptions``
endpoint (OpenAI, faster-whisper-server / speaches, whisper.cpp's server, ...).

    with OpenAITranscriber("http://127.0.0.1:8000/v1", "", "whisper-1") as stt:
        text = stt.transcribe(wav_bytes, "audio/wav", "zh")

The request is multipart: the file ``file`` plus ``model``, ``language``
(ISO 639-1, from the UI language) and ``response_format=json``; the answer's
``text`` is returned. Errors as in ``adapters.tts`` (clear, keys scrubbed).
"""

from __future__ import annotations

from typing import Any

import httpx

from dl_app.core.errors import BadResponse, ServiceUnreachable, msg

from .service_errors import probe_http, what_text
from .tts import request_audio, sniff_audio

__all__ = ["OpenAITranscriber", "RecordingError"]

MAX_RECORDING_BYTES = 25 * 1024 * 1024  # OpenAI's own limit
_EXTENSIONS = {
    "audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/flac": "flac",
    "audio/webm": "webm", "audio/mp4": "m4a", "audio/aac": "aac",
}


class RecordingError(ValueError):
    """The recording itself is unusable (empty, too big, not audio)."""


def check_recording(audio: bytes) -> str:
    """The recording's MIME type from its bytes; ``RecordingError`` if unusable."""
    if not audio:
        raise RecordingError(msg("voice.recording_empty"))
    if len(audio) > MAX_RECORDING_BYTES:
        raise RecordingError(msg("voice.recording_too_long"))
    mime = sniff_audio(audio)
    if mime is None:
        raise RecordingError(msg("voice.recording_format"))
    return mime


class OpenAITranscriber:
    """A ``Transcriber`` for an OpenAI-compatible ``/audio/transcriptions``."""

    what = "transcription service"

    def __init__(self, base_url: str, api_key: str, model: str, *, timeout: float = 60.0,
                 http_client: httpx.Client | None = None) -> None:
        self.base_url = base_url.strip().rstrip("/")
        self._api_key = api_key
        self._model = model
        self._timeout = timeout
        self._client = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), follow_redirects=True
        )

    def transcribe(self, audio: bytes, mime: str, language: str) -> str:
        sniffed = check_recording(audio)
        if not self.base_url:
            raise ServiceUnreachable(msg("voice.stt_no_address"))
        name = f"speech.{_EXTENSIONS.get(sniffed, 'wav')}"
        data = {"model": self._model, "response_format": "json"}
        if language:
            data["language"] = language
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        url = self.base_url + "/audio/transcriptions"
        resp = request_audio(
            self._client, url, what=self.what, secret=self._api_key, timeout=self._timeout,
            model=self._model or None, data=data, files={"file": (name, audio, sniffed)},
            headers=headers,
        )
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("text"), str):
            return str(body["text"]).strip()
        if body is None and "text/plain" in resp.headers.get("content-type", ""):
            return resp.text.strip()  # response_format ignored: plain text
        raise BadResponse(msg("voice.no_transcription", what=what_text(self.what), url=url))

    def probe(self) -> None:
        """Whether the service answers at all (``GET /models``; see ``probe_http``)."""
        if not self.base_url.startswith(("http://", "https://")):
            raise ServiceUnreachable(msg("voice.stt_no_address"))
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        probe_http(self._client, self.base_url + "/models", what=self.what,
                   secret=self._api_key, headers=headers)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAITranscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
