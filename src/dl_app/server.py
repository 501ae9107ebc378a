"""``dl-app serve``: the app in a browser, on 127.0.0.1 only (stdlib HTTP server).

    GET  /, /js/*, /css/*, ...     the page (``frontend/``); no token needed, no data
    POST /api/call/<method>        header ``X-DL-Token``; JSON params -> the bridge result,
                                   its words in the page's language (``X-DL-Lang``)
    GET  /api/events?token=...     ``text/event-stream`` of the bridge's events

Every request must carry ``Host: 127.0.0.1:<port>`` or ``localhost:<port>``,
and a present ``Origin`` must be ``http://`` one of those (403 otherwise: DNS
rebinding and cross-site requests); ``/api/*`` needs the per-launch token
(401). The pages (``index.html``, ``quick.html``) get ``<meta name="dl-transport"
content="http">``, which turns the page's HTTP transport on. Secrets never reach the page.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import mimetypes
import queue
import re
import secrets
import shutil
import signal
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from .bridge.api import API_METHODS, Api
from .bridge.context import PAGE_LANG
from .paths import frontend_dir

__all__ = ["AppServer", "EventHub", "serve"]

log = logging.getLogger(__name__)

META = '<meta name="dl-transport" content="http">'
FILES_PREFIX = "/dl-files/"  # + a token of its own: see bridge/avatar_files.py
MAX_BODY = 64_000_000  # bytes of one call's JSON params (attachments in base64)
PING_SECONDS = 15.0  # an SSE comment this often keeps proxies and dead-peer detection happy
_HEAD = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token is in the page URL
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class EventHub:
    """Fans bridge events out to every open event stream."""

    def __init__(self, backlog: int = 1000) -> None:
        self._backlog = backlog
        self._subscribers: set[queue.Queue[tuple[str, Any] | None]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, name: str, payload: Any) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for q in subscribers:
            with contextlib.suppress(queue.Full):  # a stuck reader loses events, not memory
                q.put_nowait((name, payload))

    def subscribe(self) -> queue.Queue[tuple[str, Any] | None]:
        q: queue.Queue[tuple[str, Any] | None] = queue.Queue(self._backlog)
        with self._lock:
            if self._closed:
                q.put_nowait(None)
            self._subscribers.add(q)
        return q

    def unsubscribe(self, q: queue.Queue[tuple[str, Any] | None]) -> None:
        with self._lock:
            self._subscribers.discard(q)

    def close(self) -> None:
        """End every stream."""
        with self._lock:
            self._closed = True
            subscribers = list(self._subscribers)
        for q in subscribers:
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)


class AppServer(ThreadingHTTPServer):
    """The page, the bridge and its events on ``127.0.0.1:<port>`` (0: a free port)."""

    daemon_threads = True

    def __init__(
        self,
        api: Api,
        frontend: Path,
        *,
        port: int = 0,
        token: str | None = None,
        hub: EventHub | None = None,
    ) -> None:
        self.api = api
        self.frontend = Path(frontend).resolve()
        self.hub = hub or EventHub()
        self.token = token or secrets.token_urlsafe(32)
        api._avatar_files().use_route(FILES_PREFIX)  # imported avatar models, backgrounds
        super().__init__(("127.0.0.1", port), _Handler)
        hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.allowed_hosts = frozenset(hosts)
        self.allowed_origins = frozenset(f"http://{h}" for h in hosts)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The page's address, token included (give it only to the user's browser)."""
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            log.exception("request from %s failed", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DigitalLife"
    sys_version = ""
    timeout = 120  # seconds an idle keep-alive connection is kept
    server: AppServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    # -- routing

    def _handle(self, method: str) -> None:
        srv = self.server
        url = urlsplit(self.path)
        api = url.path.startswith("/api/")
        if self.headers.get("Host", "") not in srv.allowed_hosts:
            self._forbidden(api, "This server answers only at 127.0.0.1 or localhost.")
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin not in srv.allowed_origins:
            self._forbidden(api, "Cross-origin request.")
            return
        if url.path.startswith(FILES_PREFIX) and method in ("GET", "HEAD"):
            target = srv.api.avatar_file(url.path.removeprefix(FILES_PREFIX[:-1]))
            self._file(target, head=method == "HEAD")
        elif api:
            self._api(method, url.path, url.query)
        elif method in ("GET", "HEAD"):
            self._static(url.path, head=method == "HEAD")
        else:
            self._plain(405, "Method not allowed.", {"Allow": "GET, HEAD"})

    def _api(self, method: str, path: str, query: str) -> None:
        srv = self.server
        given = self.headers.get("X-DL-Token")
        if given is None and path == "/api/events":
            tokens = parse_qs(query).get("token")
            given = tokens[0] if tokens else None
        if not srv.token_ok(given):
            self._json(401, _error("Unauthorized", "Missing or wrong token."))
            return
        if path == "/api/events":
            if method != "GET":
                self._json(405, _error("InvalidInput", "Use GET."), {"Allow": "GET"})
                return
            self._events()
            return
        name = path.removeprefix("/api/call/")
        if not path.startswith("/api/call/") or name not in API_METHODS:
            self._json(404, _error("InvalidInput", f"No such method: {name}"))
            return
        if method != "POST":
            self._json(405, _error("InvalidInput", "Use POST."), {"Allow": "POST"})
            return
        params = self._body()
        if params is _BAD:
            return
        # The page's language for what this call says (bridge.context.PAGE_LANG).
        said = PAGE_LANG.set(self.headers.get("X-DL-Lang"))
        try:
            result = getattr(srv.api, name)(params)
        finally:
            PAGE_LANG.reset(said)
        self._json(200, result)

    def _body(self) -> Any:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._json(411, _error("InvalidInput", "A Content-Length is required."))
            self.close_connection = True
            return _BAD
        if int(length) > MAX_BODY:
            self._json(413, _error("InvalidInput", "The request is too large."))
            self.close_connection = True
            return _BAD
        raw = self.rfile.read(int(length))
        if not raw.strip():
            return {}
        try:
            params = json.loads(raw)
        except ValueError:
            self._json(400, _error("InvalidInput", "The body is not JSON."))
            return _BAD
        return params

    # -- static files

    def _static(self, path: str, *, head: bool) -> None:
        root = self.server.frontend
        rel = unquote(path).lstrip("/")
        parts = re.split(r"[\\/]", rel)
        if "\x00" in rel or any(p.startswith(".") for p in parts if p):
            self._plain(404, "Not found.")
            return
        target = (root / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            self._plain(404, "Not found.")
            return
        kind = _TYPES.get(target.suffix.lower()) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        if target.suffix.lower() == ".html":
            self._send(200, _inject_meta(target.read_bytes()), kind, head=head)
            return
        self._file(target, kind, head=head)

    def _file(self, target: Path | None, kind: str | None = None, *, head: bool) -> None:
        if target is None:
            self._plain(404, "Not found.")
            return
        kind = kind or _TYPES.get(target.suffix.lower()) or (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        size = target.stat().st_size
        self._start(200, kind, size)
        if not head:
            with target.open("rb") as f:
                shutil.copyfileobj(f, self.wfile)

    # -- events

    def _events(self) -> None:
        hub = self.server.hub
        q = hub.subscribe()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Connection", "close")
            self.send_header("X-Accel-Buffering", "no")
            for name, value in _SECURITY_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            self.close_connection = True
            self._write(b": connected\n\n")
            while True:
                try:
                    item = q.get(timeout=PING_SECONDS)
                except queue.Empty:
                    self._write(b": ping\n\n")
                    continue
                if item is None:
                    return
                name, payload = item
                data = json.dumps(payload, ensure_ascii=False)
                self._write(f"event: {name}\ndata: {data}\n\n".encode())
        except (ConnectionError, TimeoutError, OSError):
            return  # the page went away
        finally:
            hub.unsubscribe(q)

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    # -- responses

    def _start(
        self, status: int, kind: str, length: int, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None,
        *, head: bool = False,
    ) -> None:
        self._start(status, kind, len(data), headers)
        if not head:
            self.wfile.write(data)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _forbidden(self, api: bool, message: str) -> None:
        self.close_connection = True
        if api:
            self._json(403, _error("Forbidden", message))
        else:
            self._plain(403, f"Forbidden: {message}")

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8", headers)


_BAD = object()


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"type": kind, "message": message}}


def _inject_meta(html: bytes) -> bytes:
    tag = META.encode()
    match = _HEAD.search(html)
    if match is None:
        return tag + b"\n" + html
    return html[: match.end()] + b"\n" + tag + html[match.end() :]


def serve(
    *,
    port: int = 0,
    open_browser: bool = True,
    frontend: Path | None = None,
    data_dir: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """Run until Ctrl+C or SIGTERM. Prints the page's address (with its token)
    as one line on stdout: ``Serving Digital Life at http://127.0.0.1:PORT/?token=TOKEN``."""
    out = out or sys.stdout
    root = frontend or frontend_dir()
    hub = EventHub()
    api = Api(data_dir, emit=hub.publish)
    server = AppServer(api, root, port=port, hub=hub)
    print(f"Serving Digital Life at {server.url}", file=out, flush=True)
    print("Press Ctrl+C to stop.", file=sys.stderr, flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        hub.close()
        server.server_close()
        api.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
