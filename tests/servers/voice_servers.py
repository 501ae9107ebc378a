"""Scripted speech services for tests (stdlib only), recording what they receive.

    with VoiceServer() as vs:
        vs.f5_url         # http://127.0.0.1:<port>/api           F5-TTS API (multipart)
        vs.fish_url       # http://127.0.0.1:<port>               Fish Speech (/v1/tts, JSON)
        vs.openai_url     # http://127.0.0.1:<port>/v1            /audio/speech, /audio/transcriptions

Speech answers are real WAV files: a tone of ``speech_seconds`` (per request;
``tts_seconds_for(text)`` may pick it by text). ``tts_errors`` is a FIFO of
statuses to answer instead (e.g. ``[500]``); ``tts_delay`` delays answers;
``down`` answers every request (GET too) with that status: an outage. ``GET``
of ``/v1/models`` or ``/v1/health`` answers 200 (what health probes ask).

Transcriptions are NOT recognition: the server measures the received WAV
(length, and how much of it is louder than a threshold: "voiced") and, when
at least ``min_voiced`` seconds are voiced, answers the next text of
``phrases`` (in order); silence gets "". Non-WAV uploads get 400. So a test
sees whether real captured speech arrived, and which turn it was.
"""

from __future__ import annotations

import array
import io
import json
import math
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["Recorded", "VoiceServer", "measure_wav", "tone_wav"]


def tone_wav(seconds: float, rate: int = 22_050, freq: float = 220.0) -> bytes:
    """A mono 16-bit WAV: a soft tone of ``seconds``."""
    n = int(seconds * rate)
    samples = array.array("h", (int(6000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def measure_wav(data: bytes, threshold: float = 0.02) -> tuple[float, float]:
    """(seconds, voiced seconds) of a 16-bit PCM WAV; voiced = 20 ms frames whose
    RMS exceeds ``threshold`` (of full scale)."""
    with wave.open(io.BytesIO(data)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError("only 16-bit WAV")
    samples = array.array("h", frames)[::channels]
    step = max(1, rate // 50)
    voiced = 0
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step]
        if chunk and math.sqrt(sum(s * s for s in chunk) / len(chunk)) / 32768 > threshold:
            voiced += len(chunk)
    return len(samples) / rate, voiced / rate


@dataclass
class Recorded:
    """One request: when (time.time()), where, headers, and what came in."""

    at: float
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name, mime, data
    status: int = 200


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        data = part.get_payload(decode=True) or b""
        if filename is not None:
            files[str(name)] = (filename, part.get_content_type(), data)
        else:
            fields[str(name)] = data.decode("utf-8")
    return fields, files


class VoiceServer:
    """F5-TTS, Fish Speech and OpenAI speech/transcription endpoints on one port."""

    def __init__(self) -> None:
        self.speech_seconds = 0.4
        self.tts_seconds_for: Callable[[str], float] | None = None
        self.tts_errors: list[int] = []
        self.tts_delay = 0.0
        self.tts_raw: tuple[int, bytes, str] | None = None  # answer exactly this instead
        self.phrases: list[str] = ["hello digital life"]
        self.min_voiced = 0.3
        self.api_key: str | None = None  # when set, OpenAI routes need it
        self.down: int | None = None  # every request (GET too) answers this (an outage)
        self.requests: list[Recorded] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._phrase = 0
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle

    def __enter__(self) -> Self:
        app = self

        class Handler(_Handler):
            server_app = app

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def f5_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def fish_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- inspection

    def of(self, path: str, method: str = "POST") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    @property
    def tts_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests
                    if r.method == "POST" and r.path in ("/api", "/v1/tts", "/v1/audio/speech")]

    @property
    def stt_requests(self) -> list[Recorded]:
        return self.of("/v1/audio/transcriptions")

    # -- answers (called by the handler)

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def _tts_answer(self, text: str) -> tuple[int, bytes, str]:
        if self.tts_delay:
            time.sleep(self.tts_delay)
        with self._lock:
            status = self.tts_errors.pop(0) if self.tts_errors else 200
        if status == 200 and self.tts_raw is not None:
            return self.tts_raw
        if status != 200:
            body = json.dumps({"detail": f"scripted failure {status}"}).encode()
            return status, body, "application/json"
        seconds = self.tts_seconds_for(text) if self.tts_seconds_for else self.speech_seconds
        return 200, tone_wav(seconds), "audio/wav"

    def _transcript(self, audio: bytes) -> tuple[int, Any]:
        try:
            _total, voiced = measure_wav(audio)
        except (wave.Error, EOFError, ValueError) as e:
            return 400, {"error": {"message": f"test server reads WAV only: {e}"}}
        if voiced < self.min_voiced:
            return 200, {"text": ""}
        with self._lock:
            text = self.phrases[min(self._phrase, len(self.phrases) - 1)]
            self._phrase += 1
        return 200, {"text": text}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_app: VoiceServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # what health probes ask: /v1/models, /v1/health, the base
        app = self.server_app
        app._record(Recorded(time.time(), "GET", self.path,
                             {k.lower(): v for k, v in self.headers.items()}))
        if app.down is not None:
            self._json(app.down, {"detail": "the service is down (scripted)"})
        elif self.path in ("/v1/models", "/v1/health"):
            self._json(200, {"object": "list", "data": [], "status": "ok"})
        else:
            self._json(405 if self.path == "/api" else 404, {"detail": "Method Not Allowed"})

    def do_POST(self) -> None:
        app = self.server_app
        if app.down is not None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._json(app.down, {"detail": "the service is down (scripted)"})
            return
        try:
            self._post(app)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as e:  # a bug in the test server: fail the test, answer 500
            app.errors.append(e)
            self._send(500, b'{"detail":"test server crashed"}', "application/json")

    def _post(self, app: VoiceServer) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        rec = Recorded(time.time(), "POST", self.path, {k.lower(): v for k, v in self.headers.items()})
        if ctype.startswith("multipart/form-data"):
            rec.fields, rec.files = _multipart(ctype, raw)
        elif raw:
            try:
                rec.json = json.loads(raw)
            except ValueError:
                rec.json = None
        app._record(rec)
        if self.path.startswith("/v1/audio/") and app.api_key is not None and (
            rec.headers.get("authorization") != f"Bearer {app.api_key}"
        ):
            rec.status = 401
            self._json(401, {"error": {"message": f"Incorrect API key provided: {rec.headers.get('authorization', '')[7:]}"}})
            return
        if self.path == "/api":  # F5-TTS
            if "audio" not in rec.files or not rec.fields.get("gen_text"):
                rec.status = 400
                self._json(400, {"code": 1, "msg": "gen_text and audio are required"})
                return
            self._audio(rec, *app._tts_answer(rec.fields["gen_text"]))
        elif self.path == "/v1/tts":  # Fish Speech
            text = rec.json.get("text") if isinstance(rec.json, dict) else None
            if not text:
                rec.status = 422
                self._json(422, {"detail": "text is required"})
                return
            self._audio(rec, *app._tts_answer(text))
        elif self.path == "/v1/audio/speech":
            text = rec.json.get("input") if isinstance(rec.json, dict) else None
            self._audio(rec, *app._tts_answer(str(text or "")))
        elif self.path == "/v1/audio/transcriptions":
            file = rec.files.get("file")
            status, body = app._transcript(file[2] if file else b"")
            rec.status = status
            self._json(status, body)
        else:
            rec.status = 404
            self._json(404, {"detail": "Not Found"})

    def _audio(self, rec: Recorded, status: int, data: bytes, ctype: str) -> None:
        rec.status = status
        self._send(status, data, ctype)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
