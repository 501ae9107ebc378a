"""``dl-app serve`` over real HTTP on loopback: token, Host and Origin checks, SSE."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dl_app.bridge import Api
from dl_app.server import META, AppServer, EventHub
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

INDEX = "<!doctype html>\n<html><head><title>DL</title></head><body>hi</body></html>\n"


@pytest.fixture
def frontend(tmp_path: Path) -> Path:
    root = tmp_path / "frontend"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "js" / "app.js").write_text("export const x = 1;\n")
    (root / ".hidden").write_text("no")
    (tmp_path / "outside.txt").write_text("private")
    return root


@pytest.fixture
def server(
    openai_server: OpenAICompatServer, frontend: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppServer]:
    openai_server.default_responder = companion_responder
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("DL_EMBED_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_EMBED_MODEL", "test-embed")
    hub = EventHub()
    api = Api(tmp_path / "data", emit=hub.publish)
    srv = AppServer(api, frontend, hub=hub)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield srv
    hub.close()
    srv.shutdown()
    srv.server_close()
    thread.join(10)
    api.close()


def request(
    srv: AppServer, method: str, path: str, *, body: Any = None,
    headers: dict[str, str] | None = None, host: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{srv.port}")
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None or method == "POST":
            conn.putheader("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders(data or None)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def call(srv: AppServer, method: str, params: Any, **kw: Any) -> tuple[int, Any]:
    headers = {"X-DL-Token": srv.token, "Content-Type": "application/json"}
    headers.update(kw.pop("headers", {}))
    status, _h, data = request(srv, "POST", f"/api/call/{method}", body=params,
                               headers=headers, **kw)
    return status, json.loads(data)


def test_bound_to_loopback_only(server: AppServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/?token={server.token}"
    assert len(server.token) >= 40
    try:
        addresses = {
            info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        }
    except OSError:
        addresses = set()
    for addr in addresses - {"127.0.0.1"}:
        if addr.startswith("127."):
            continue
        with pytest.raises(OSError):
            socket.create_connection((addr, server.port), timeout=2).close()


def test_the_token_guards_the_api(server: AppServer) -> None:
    status, _h, data = request(server, "POST", "/api/call/app_info", body={})
    assert status == 401 and json.loads(data)["error"]["type"] == "Unauthorized"
    status, _h, _d = request(server, "POST", "/api/call/app_info", body={},
                             headers={"X-DL-Token": server.token[:-1] + "x"})
    assert status == 401
    status, _h, _d = request(server, "POST", f"/api/call/app_info?token={server.token}", body={})
    assert status == 401  # calls take the token from the header only
    status, _h, _d = request(server, "GET", "/api/events")
    assert status == 401
    status, _h, _d = request(server, "GET", "/api/events?token=nope")
    assert status == 401
    status, res = call(server, "app_info", {})
    assert status == 200 and res["ok"] is True and res["model"] == "qwen-test"


def test_foreign_origins_and_hosts_are_refused(server: AppServer) -> None:
    port = server.port
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null",
                   f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"):
        status, _res = call(server, "app_info", {}, headers={"Origin": origin})
        assert status == 403, origin
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", ""):
        status, _h, _d = request(server, "GET", "/", host=host)
        assert status == 403, host
        status, _res = call(server, "app_info", {}, host=host)
        assert status == 403, host
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
        status, res = call(server, "app_info", {}, headers={"Origin": origin})
        assert status == 200 and res["ok"], origin
    status, res = call(server, "app_info", {}, host=f"localhost:{port}")
    assert status == 200 and res["ok"]


def test_the_page_is_served_with_the_transport_meta(server: AppServer) -> None:
    status, headers, data = request(server, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    html = data.decode()
    assert META in html and html.index(META) < html.index("<title>")
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    status, _h, again = request(server, "GET", "/index.html")
    assert status == 200 and again == data
    status, headers, data = request(server, "GET", "/js/app.js")
    assert status == 200 and data == b"export const x = 1;\n"
    assert headers["content-type"].startswith("text/javascript")
    for path in ("/../outside.txt", "/%2e%2e/outside.txt", "/js/../../outside.txt",
                 "/.hidden", "/missing.js", "/js/%00.js"):
        status, _h, data = request(server, "GET", path)
        assert status == 404 and b"private" not in data, path
    status, _h, _d = request(server, "POST", "/index.html", body={})
    assert status == 405


def test_unknown_methods_and_bad_bodies(server: AppServer) -> None:
    for name in ("close", "_mem", "nothing"):
        status, res = call(server, name, {})
        assert status == 404 and res["ok"] is False, name
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(
            f"POST /api/call/app_info HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"X-DL-Token: {server.token}\r\n\r\n".encode()
        )
        assert raw.recv(100).startswith(b"HTTP/1.1 411 ")  # no Content-Length
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/api/call/app_info", body=b"{not json",
                 headers={"X-DL-Token": server.token, "Host": f"127.0.0.1:{server.port}"})
    resp = conn.getresponse()
    assert resp.status == 400 and json.loads(resp.read())["error"]["type"] == "InvalidInput"
    conn.close()
    status, res = call(server, "chat_send", {"text": ""})
    assert status == 200 and res["error"]["type"] == "InvalidInput"


def test_events_stream_a_turn(server: AppServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", f"/api/events?token={server.token}",
                 headers={"Host": f"127.0.0.1:{server.port}"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type", "").startswith("text/event-stream")
    assert resp.fp.readline() == b": connected\n"  # subscribed from here on
    assert resp.fp.readline() == b"\n"
    status, res = call(server, "chat_send", {"text": "你好呀"})
    assert status == 200 and res["ok"]
    events: list[tuple[str, Any]] = []
    while not events or events[-1][0] != "chat.done":
        name = resp.fp.readline().decode().rstrip("\n")
        data = resp.fp.readline().decode().rstrip("\n")
        assert resp.fp.readline() == b"\n"
        assert name.startswith("event: ") and data.startswith("data: ")
        events.append((name[7:], json.loads(data[6:])))
    conn.close()
    deltas = [p["text"] for n, p in events if n == "chat.delta"]
    assert "".join(deltas) == res["reply"] == "嗯嗯，我记住了：你好呀"
    assert events[-1] == ("chat.done", res)
    status, res = call(server, "settings_get", {})
    assert "secrets" in res and all(isinstance(v, bool) for v in res["secrets"].values())


def test_dl_app_serve_prints_its_address_and_serves(frontend: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["DL_DATA_DIR"] = str(tmp_path / "cli-data")
    env["DL_LLM_BASE_URL"] = "http://127.0.0.1:9/v1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dl_app", "serve", "--no-browser", "--frontend", str(frontend)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "Serving Digital Life at http://127.0.0.1:"
        assert line.startswith(prefix), (line, proc.stderr.read() if proc.poll() else "")
        port_part, token = line[len(prefix):].split("/?token=")
        # A hang detector: the first call opens the memory (LanceDB) in a cold process.
        conn = http.client.HTTPConnection("127.0.0.1", int(port_part), timeout=180)
        conn.request("POST", "/api/call/chat_send", body=json.dumps({"text": "hi"}),
                     headers={"X-DL-Token": token})
        res = json.loads(conn.getresponse().read())
        conn.close()
        assert res["ok"] is False and res["error"]["type"] == "ServiceUnreachable"
    finally:
        proc.terminate()
        code = proc.wait(30)
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()
    assert code == 0, stderr


def test_a_call_speaks_the_asking_pages_language(
    server: AppServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No language chosen and an English system: a page in a Chinese browser asks in
    # Chinese (X-DL-Lang), and what the bridge says, and the phrase it checks before
    # deleting everything, are that page's; a call without the header gets the app's.
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    status, out = call(server, "memory_delete_all", {"phrase": "delete all memories"},
                       headers={"X-DL-Lang": "zh"})
    assert status == 200 and out["ok"] is False
    assert out["error"]["message"] == "要删除全部记忆，请准确输入：删除所有记忆"
    status, out = call(server, "memory_delete_all", {"phrase": "no"})
    assert out["error"]["message"] == "To delete all memories, type exactly: delete all memories"
    status, out = call(server, "memory_delete_all", {"phrase": "no"},
                       headers={"X-DL-Lang": "fr"})  # not ours: the app's
    assert out["error"]["message"].startswith("To delete all memories")
    status, out = call(server, "settings_get", {}, headers={"X-DL-Lang": "zh"})
    assert out["ok"] is True and out["lang"] == "en"  # the app's own, whoever asks
    status, out = call(server, "memory_delete_all", {"phrase": "删除所有记忆"},
                       headers={"X-DL-Lang": "zh"})
    assert status == 200 and out["ok"] is True, out
