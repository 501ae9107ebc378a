"""A scripted ollama on 127.0.0.1 (free port): ``GET /api/tags`` lists
``models`` the way ollama does, ``GET /v1/models`` lists them the OpenAI way
(what the connection test reads), ``POST /api/show`` describes a model: its
``context_length`` in ``model_info`` and, when set, ``num_ctx`` in its
parameters. Every request is recorded (``paths``).

    with ScriptedOllama(["qwen2.5:7b"]) as ollama:
        probe_ollama(ollama.url)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class ScriptedOllama:
    def __init__(
        self, models: Sequence[str] = (), *, context_length: int = 32768,
        num_ctx: int | None = None,
    ) -> None:
        self.models = list(models)
        self.context_length = context_length
        self.num_ctx = num_ctx
        self.paths: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.paths.append(self.path)
                if self.path == "/api/tags":
                    body: Any = {"models": [
                        {"name": m, "model": m, "size": 4_683_087_332,
                         "details": {"family": "qwen2", "parameter_size": "7.6B"}}
                        for m in owner.models
                    ]}
                elif self.path == "/v1/models":
                    body = {"object": "list", "data": [
                        {"id": m, "object": "model", "owned_by": "library"} for m in owner.models
                    ]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self._json(body)

            def do_POST(self) -> None:
                owner.paths.append(self.path)
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path != "/api/show" or asked.get("model") not in owner.models:
                    self.send_response(404)
                    self.end_headers()
                    return
                params = f"num_ctx                        {owner.num_ctx}\nstop <|im_end|>"
                self._json({
                    "parameters": params if owner.num_ctx else 'stop "<|im_end|>"',
                    "details": {"family": "qwen2"},
                    "model_info": {"general.architecture": "qwen2",
                                   "qwen2.context_length": owner.context_length},
                })

            def _json(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
