"""Serving imported avatar models and background pictures to the page.

Files live in ``<data dir>/avatars/<id>/...`` and ``<data dir>/backgrounds/bg-*.ext``.
pixi fetches a model's files by URL (the model JSON names its textures and motions
relative to itself), so the page needs real URLs under one secret prefix:

* ``dl-app serve``: the app's own server answers ``/dl-files/<token>/<rel>``
  (same origin; ``AppServer`` registers the route with ``use_route``).
* the window: pywebview serves only ``frontend/``, so a small loopback server
  (``FileServer``, started on first use) answers ``http://127.0.0.1:<port>/<token>/<rel>``
  with CORS for loopback origins only.

The token is random per launch and separate from the bridge's token: it grants
reading these two folders and nothing else. Hidden names, ``..`` and anything that
resolves outside the two folders get 404.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

__all__ = ["AvatarFiles", "FileServer", "content_type"]

log = logging.getLogger(__name__)

ROOTS = ("avatars", "backgrounds")
_TYPES = {
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".txt": "text/plain; charset=utf-8",
}
_LOOPBACK_ORIGIN = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d{1,5})?$")


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or "application/octet-stream"


class AvatarFiles:
    """Maps ``<token>/<rel>`` to a file under the data dir's avatars/backgrounds."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.token = secrets.token_urlsafe(24)
        self.base: str | None = None  # URL prefix the page uses, token included
        self._server: FileServer | None = None
        self._lock = threading.Lock()

    def use_route(self, prefix: str) -> None:
        """The app's own server answers ``prefix + <token>/...`` (browser mode)."""
        self.base = f"{prefix}{self.token}/"

    def url_base(self) -> str:
        """The prefix for the page; starts the loopback server when no route is set."""
        with self._lock:
            if self.base is None:
                self._server = FileServer(self)
                threading.Thread(
                    target=self._server.serve_forever, name="dl-avatar-files", daemon=True
                ).start()
                self.base = f"http://127.0.0.1:{self._server.server_address[1]}/{self.token}/"
            return self.base

    def lookup(self, path: str) -> Path | None:
        """``/<token>/<rel>`` -> the file, or None (wrong token, hidden, outside, missing)."""
        token, _, rel = unquote(path).lstrip("/").partition("/")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return None
        parts = rel.split("/")
        if (
            not rel or "\\" in rel or "\x00" in rel or parts[0] not in ROOTS
            or any(not p or p.startswith(".") for p in parts)
        ):
            return None
        root = (self.data_dir / parts[0]).resolve()
        target = (self.data_dir / rel).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
        return target

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


class FileServer(ThreadingHTTPServer):
    """GET/HEAD-only loopback server for :class:`AvatarFiles` (the window's case)."""

    daemon_threads = True

    def __init__(self, files: AvatarFiles) -> None:
        self.files = files
        super().__init__(("127.0.0.1", 0), _FileHandler)
        port = self.server_address[1]
        self.allowed_hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


class _FileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DigitalLife"
    sys_version = ""
    server: FileServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_OPTIONS(self) -> None:
        self._reply(204, b"", "text/plain", head=False)

    def _cors(self) -> dict[str, str]:
        origin = self.headers.get("Origin", "")
        if _LOOPBACK_ORIGIN.match(origin):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def _serve(self, *, head: bool) -> None:
        if self.headers.get("Host", "") not in self.server.allowed_hosts:
            self._reply(403, b"Forbidden.", "text/plain", head=head)
            return
        origin = self.headers.get("Origin")
        if origin is not None and not _LOOPBACK_ORIGIN.match(origin):
            self._reply(403, b"Forbidden.", "text/plain", head=head)
            return
        target = self.server.files.lookup(urlsplit(self.path).path)
        if target is None:
            self._reply(404, b"Not found.", "text/plain", head=head)
            return
        self._start(200, content_type(target), target.stat().st_size)
        if not head:
            with target.open("rb") as f:
                shutil.copyfileobj(f, self.wfile)

    def _start(self, status: int, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in self._cors().items():
            self.send_header(name, value)
        self.end_headers()

    def _reply(self, status: int, body: bytes, kind: str, *, head: bool) -> None:
        self._start(status, kind, len(body))
        if not head:
            self.wfile.write(body)

