"""A scripted OpenAI-compatible HTTP server for tests and benchmarks (stdlib only).

    with OpenAICompatServer() as server:
        server.enqueue(ChatReply(content="Hello!"), ChatReply.error(500))
        chat = OpenAIChatModel(server.base_url, "", "test-model")
        ...
        assert server.chat_requests[-1].body["max_tokens"] == 512

Endpoints (under ``/v1``): ``POST /chat/completions`` (JSON, or SSE when the
body says ``"stream": true``), ``POST /images/generations`` (a tiny PNG as
``b64_json``; ``image_error`` makes it fail), ``POST /embeddings`` (deterministic vectors from
hashed words of the text) and ``GET /models``. Anything else answers 404.

How a chat request is answered, first match wins:

1. the oldest queued reply (``enqueue``) whose ``match`` accepts the request;
2. the first route (``route``) whose matcher accepts it;
3. ``server.default_responder(request)`` (by default ``echo_responder``).

Every request, answered or not, is recorded (``server.requests``); a stream the
client closes before its end is noted in ``cut_streams`` (and ``stream_cut`` is set).

Usage: ``prompt_tokens`` is 10 unless ``prompt_counter`` (text -> tokens, e.g.
cl100k) is set; then it is the request counted the way OpenAI does, and with
``context_length`` a longer request (prompt + ``max_tokens``) gets OpenAI's 400
"maximum context length". ``reject_stream_options`` answers 400 to requests
that carry ``stream_options``, as some servers do.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from .openai_wire import (
    ChatReply,
    EmbeddingReply,
    Matcher,
    RecordedRequest,
    Responder,
    ToolCallReply,
    completion_body,
    echo_responder,
    error_body,
    hash_embedding,
    last_user_contains,
    prompt_tokens,
    stream_events,
    system_contains,
)

__all__ = [
    "ChatReply",
    "EmbeddingReply",
    "Matcher",
    "OpenAICompatServer",
    "RecordedRequest",
    "Responder",
    "ToolCallReply",
    "echo_responder",
    "hash_embedding",
    "last_user_contains",
    "system_contains",
]


# ---------------------------------------------------------------- the server

# A valid 1x1 PNG (what the images endpoint returns).
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@dataclass
class _Queued:
    reply: ChatReply
    match: Matcher | None


class OpenAICompatServer:
    """The scripted server, running on 127.0.0.1 (free port) in a thread.

    ``api_key``: when set, requests without ``Authorization: Bearer <key>``
    get 401 with ``auth_message`` (``{key}`` in it: the key they gave, ``{basic}``:
    base64 of ``user:<key>``, as some
    services echo it). ``check_models``: requests for a model not in ``models`` get 404.
    """

    def __init__(
        self,
        *,
        models: Sequence[str] = ("test-model", "test-embed"),
        embed_dimensions: int = 64,
        api_key: str | None = None,
        check_models: bool = False,
    ) -> None:
        self.models = list(models)
        self.embed_dimensions = embed_dimensions
        self.api_key = api_key
        self.check_models = check_models
        self.auth_message = "Incorrect API key provided."
        self.default_responder: Responder = echo_responder
        self.embedding_error: int | None = None  # every embedding request fails with it
        self.image_error: int | None = None  # every image request fails with it
        self.down: int | None = None  # every request fails with it (the host is down)
        # Called with each embedding request's texts before it is answered (in the
        # server's thread: a test sees what the client holds meanwhile).
        self.on_embedding: Callable[[list[str]], None] | None = None
        self.prompt_counter: Callable[[str], int] | None = None
        self.context_length: int | None = None  # with prompt_counter: refuse longer requests
        self.reject_stream_options = False
        self.errors: list[BaseException] = []  # exceptions raised inside handlers
        # Streams the client closed before the end: events sent before the cut.
        self.cut_streams: list[int] = []
        self.stream_cut = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: list[_Queued] = []
        self._routes: list[tuple[Matcher, Responder]] = []
        self._embed_queue: list[EmbeddingReply] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> Self:
        httpd = _HTTPServer(("127.0.0.1", 0), self)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="openai-compat-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``: what an OpenAI client takes as base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting

    def enqueue(self, *replies: ChatReply | str, match: Matcher | None = None) -> None:
        """Queue one-shot chat replies (FIFO), optionally only for matching requests."""
        with self._lock:
            for reply in replies:
                self._queue.append(_Queued(_as_reply(reply), match))

    def route(self, match: Matcher, responder: Responder | ChatReply | str) -> None:
        """Answer every matching request (not taken by the queue) with ``responder``."""
        if isinstance(responder, ChatReply | str):
            fixed = responder

            def responder(_request: RecordedRequest) -> ChatReply | str:
                return fixed

        with self._lock:
            self._routes.append((match, responder))

    def enqueue_embedding(self, *replies: EmbeddingReply) -> None:
        with self._lock:
            self._embed_queue.extend(replies)

    @property
    def pending(self) -> int:
        """Queued chat replies not used yet."""
        with self._lock:
            return len(self._queue)

    # -- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def embedding_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/embeddings"]

    @property
    def image_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/images/generations"]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _chat_reply(self, request: RecordedRequest) -> ChatReply:
        with self._lock:
            for i, queued in enumerate(self._queue):
                if queued.match is None or queued.match(request):
                    del self._queue[i]
                    return queued.reply
            routes = list(self._routes)
        for match, responder in routes:
            if match(request):
                return _as_reply(responder(request))
        return _as_reply(self.default_responder(request))

    def _embedding_reply(self) -> EmbeddingReply:
        with self._lock:
            if self._embed_queue:
                return self._embed_queue.pop(0)
        if self.embedding_error is not None:
            return EmbeddingReply.error(self.embedding_error)
        return EmbeddingReply()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


def _as_reply(reply: ChatReply | str) -> ChatReply:
    return reply if isinstance(reply, ChatReply) else ChatReply(content=reply)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: OpenAICompatServer

    def __init__(self, address: tuple[str, int], app: OpenAICompatServer) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections."""
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError | TimeoutError):
            self.app.errors.append(error)


# ---------------------------------------------------------------- the handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes + delayed ACKs cost 40 ms a request
    timeout = 30  # seconds an idle keep-alive connection is kept
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -- plumbing

    def _dispatch(self, method: str) -> None:
        app = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest(method, self.path, headers, body)
        app._record(request)
        try:
            self._answer(app, request)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away (e.g. it timed out)

    def _answer(self, app: OpenAICompatServer, request: RecordedRequest) -> None:
        if app.down is not None:
            self._json(app.down, error_body(app.down, "The service is down (scripted).", None))
            return
        if app.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {app.api_key}"
        ):
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            basic = base64.b64encode(f"user:{given}".encode()).decode()
            message = app.auth_message.replace("{key}", given).replace("{basic}", basic)
            self._json(401, error_body(401, message, "invalid_api_key"))
            return
        route = (request.method, request.path)
        if route == ("GET", "/v1/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in app.models
            ]
            self._json(200, {"object": "list", "data": data})
            return
        if route == ("POST", "/v1/images/generations"):
            if app.image_error is not None:
                self._json(app.image_error, error_body(app.image_error, None, None))
            else:
                data = [{"b64_json": base64.b64encode(TINY_PNG).decode()}]
                self._json(200, {"created": 0, "data": data})
            return
        if route not in {("POST", "/v1/chat/completions"), ("POST", "/v1/embeddings")}:
            message = f"Unknown path {request.method} {request.path}"
            self._json(404, error_body(404, message, None))
            return
        if not isinstance(request.body, dict):
            self._json(400, error_body(400, "The body is not a JSON object.", None))
            return
        model = str(request.body.get("model", ""))
        if app.check_models and model not in app.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            self._json(404, error_body(404, message, "model_not_found"))
            return
        if request.path == "/v1/embeddings":
            self._embeddings(app, request.body)
        else:
            self._chat(app, request)

    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _abort(self) -> None:
        """Close the connection abruptly, mid-body."""
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    # -- endpoints

    def _embeddings(self, app: OpenAICompatServer, body: dict[str, Any]) -> None:
        reply = app._embedding_reply()
        app._sleep(reply.delay)
        if reply.status != 200:
            self._json(reply.status, reply.error_body)
            return
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if app.on_embedding is not None:
            app.on_embedding([str(t) for t in texts])
        dims = reply.dimensions or int(body.get("dimensions") or app.embed_dimensions)
        texts = texts[: max(0, len(texts) - reply.drop)]
        data = [
            {"object": "embedding", "index": i, "embedding": hash_embedding(str(t), dims)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(str(t).split()) for t in texts)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _refusal(self, app: OpenAICompatServer, body: dict[str, Any], prompt: int) -> str | None:
        if app.reject_stream_options and "stream_options" in body:
            return "Unrecognized request argument supplied: stream_options"
        asked = prompt + int(body.get("max_tokens") or 0)
        if app.prompt_counter is not None and app.context_length and asked > app.context_length:
            return (
                f"This model's maximum context length is {app.context_length} tokens. However, "
                f"you requested {asked} tokens ({prompt} in the messages, "
                f"{asked - prompt} in the completion). Please reduce the length of the messages."
            )
        return None

    def _chat(self, app: OpenAICompatServer, request: RecordedRequest) -> None:
        body: dict[str, Any] = request.body
        prompt = 10 if app.prompt_counter is None else prompt_tokens(body, app.prompt_counter)
        refusal = self._refusal(app, body, prompt)
        if refusal is not None:  # before a scripted reply is taken
            self._json(400, error_body(400, refusal, None))
            return
        reply = app._chat_reply(request)
        app._sleep(reply.delay)
        headers = dict(reply.headers)
        if reply.raw is not None:
            self._send(reply.status, reply.raw, reply.content_type, headers)
            return
        if reply.status != 200:
            self._json(reply.status, reply.error_body, headers)
            return
        model = str(request.body.get("model", ""))
        if not request.streamed or reply.force_json:
            data = json.dumps(completion_body(reply, model, prompt)).encode()
            if reply.break_after is not None:  # promise more than we send
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) + 100))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self._abort()
                return
            self._send(200, data, "application/json", headers)
            return
        options = request.body.get("stream_options") or {}
        include_usage = bool(options.get("include_usage")) and reply.usage
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        sent, held, said = 0, reply.held, False
        try:
            for sent, event in enumerate(stream_events(reply, model, include_usage, prompt)):
                if reply.break_after is not None and sent >= reply.break_after:
                    self._abort()
                    return
                if sent:
                    app._sleep(reply.chunk_delay)
                if held is not None and said:  # the first content is out: wait for the test
                    held.wait(60)  # (the bound only against a hang)
                    held = None
                self._chunk(f"data: {json.dumps(event)}\n\n".encode())
                said = said or any(c.get("delta", {}).get("content")
                                   for c in event.get("choices", ()))
        except (ConnectionError, TimeoutError):  # the client closed the stream
            app.cut_streams.append(sent)
            app.stream_cut.set()
            raise
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")  # the chunked-encoding terminator

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
