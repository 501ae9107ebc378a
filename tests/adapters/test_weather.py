"""The QWeather adapter against a scripted QWeather server on loopback, and the
weather line in the chat request's system prompt."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.secrets import SecretStore
from dl_app.adapters.weather_qweather import CACHE_MS, QWeather, format_line
from dl_app.bridge import Api
from dl_app.core.health import WEATHER
from dl_app.memory import Memory
from dl_app.service_watch import ServiceWatch
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

T0 = 1_764_000_000_000
NOW = {
    "temp": "3", "feelsLike": "1", "text": "晴", "windDir": "西北风", "windSpeed": "15",
    "humidity": "40", "precip": "0.0", "vis": "10",
}
CITY = {"location": [{"name": "北京", "lon": "116.41", "lat": "39.92"}], "code": "200"}


class QWeatherServer:
    """Answers ``/v7/weather/now`` and ``/v2/city/lookup``; records every request.
    ``mode``: ok, 500, 401, slow, garbage."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.mode = "ok"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                server.requests.append((url.path, query))
                if server.mode == "slow":
                    time.sleep(1.0)
                if server.mode == "500":
                    return self._send(500, b"oops")
                if server.mode == "401":
                    body = {"error": {"status": 401, "title": "Unauthorized",
                                      "detail": "Invalid key"}}
                    return self._send(401, json.dumps(body).encode())
                if server.mode == "garbage":
                    return self._send(200, b"{not json")
                if url.path == "/v2/city/lookup":
                    return self._send(200, json.dumps(CITY).encode())
                body = {"code": "200", "now": NOW}
                return self._send(200, json.dumps(body, ensure_ascii=False).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def qw() -> Iterator[QWeatherServer]:
    server = QWeatherServer()
    yield server
    server.close()


def provider(qw: QWeatherServer, clock: FixedClock, location: str = "116.41,39.92",
             lang: str = "zh", key: str = "k1") -> QWeather:
    return QWeather(key=key, location=location, lang=lang, clock=clock, base=qw.base,
                    geo_base=qw.base, timeout=0.3)


def test_line_format_in_both_languages() -> None:
    zh = format_line(NOW, "zh", "北京")
    assert zh == ("北京：晴，气温 3°C（体感 1°C），西北风 15 km/h，湿度 40%，"
                  "过去一小时降水 0.0 mm，能见度 10 km")
    en = format_line({**NOW, "text": "Sunny", "windDir": "NW"}, "en")
    assert en == ("Sunny, 3°C (feels like 1°C), wind NW 15 km/h, humidity 40%, "
                  "precipitation 0.0 mm in the past hour, visibility 10 km")


def test_lon_lat_request_and_30_minute_cache(qw: QWeatherServer) -> None:
    clock = FixedClock(T0)
    w = provider(qw, clock, lang="en")
    assert w.lines() == [format_line(NOW, "en")]
    assert qw.requests == [
        ("/v7/weather/now", {"location": "116.41,39.92", "key": "k1", "lang": "en"})
    ]
    clock.advance(CACHE_MS - 1)
    w.lines()
    assert len(qw.requests) == 1  # still cached
    assert CACHE_MS == 1_800_000
    clock.advance(1)
    w.lines()
    assert len(qw.requests) == 2  # 30 minutes later: fetched again


def test_city_name_is_looked_up_once(qw: QWeatherServer) -> None:
    clock = FixedClock(T0)
    w = provider(qw, clock, location="北京")
    assert w.lines() == [format_line(NOW, "zh", "北京")]
    assert qw.requests[0] == (
        "/v2/city/lookup", {"location": "北京", "key": "k1", "lang": "zh", "number": "1"}
    )
    assert qw.requests[1][1]["location"] == "116.41,39.92"
    clock.advance(CACHE_MS)
    w.lines()
    assert [p for p, _ in qw.requests] == [
        "/v2/city/lookup", "/v7/weather/now", "/v7/weather/now"
    ]
    st = w.status()
    assert st["enabled"] and st["ok"] and st["error"] is None and st["checked_at"] == T0 + CACHE_MS


@pytest.mark.parametrize(
    ("mode", "why"),
    [("500", "HTTP 500"), ("401", "Invalid key"), ("slow", "秒内没有回应"),
     ("garbage", "不是有效的 JSON")],
)
def test_failures_leave_the_line_out_and_say_why(
    qw: QWeatherServer, mode: str, why: str
) -> None:
    qw.mode = mode
    w = provider(qw, FixedClock(T0))
    assert w.lines() == []
    st = w.status()
    assert st["enabled"] is True and st["ok"] is False and st["line"] is None
    assert why in st["error"], st["error"]
    assert len(qw.requests) == 1  # the failure is remembered for a while, not retried


def test_off_or_without_key_makes_no_request(qw: QWeatherServer) -> None:
    clock = FixedClock(T0)
    off = QWeather(key="k", location="1,2", lang="zh", clock=clock, base=qw.base, enabled=False)
    assert off.lines() == [] and off.status()["enabled"] is False
    no_key = provider(qw, clock, key="")
    assert no_key.lines() == [] and "API 密钥" in no_key.status()["error"]  # in its language (zh)
    assert qw.requests == []


def _setup(data: Path, qw: QWeatherServer, openai_server: OpenAICompatServer,
           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    openai_server.default_responder = companion_responder
    data.mkdir(parents=True, exist_ok=True)
    settings = {"language": "zh", "plugins": {
        "weather_enabled": True, "weather_location": "116.41,39.92",
        "weather_api_base": qw.base, "weather_geo_base": qw.base,
    }}
    (data / "settings.json").write_text(json.dumps(settings))
    SecretStore(data, {}).set("weather_api_key", "k1")


def test_weather_line_is_in_the_system_prompt(
    qw: QWeatherServer, openai_server: OpenAICompatServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    _setup(data, qw, openai_server, monkeypatch)
    with Memory.open(data, clock=FixedClock(T0, 480)) as mem:
        mem.send("今天天气怎么样？")
    system = openai_server.chat_requests[-1].system_text
    assert "天气：" + format_line(NOW, "zh") in system
    assert qw.requests[0][1]["key"] == "k1"


def test_a_weather_failure_never_blocks_chatting(
    qw: QWeatherServer, openai_server: OpenAICompatServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    _setup(data, qw, openai_server, monkeypatch)
    qw.mode = "401"
    api = Api(data_dir=data, env={"DL_LLM_BASE_URL": openai_server.base_url,
                                  "DL_LLM_MODEL": "qwen-test"})
    try:
        res = api.chat_send({"text": "你好"})
        assert res["ok"] is True and res["reply"]
        assert "天气" not in openai_server.chat_requests[-1].system_text
        res = api.weather_status()
        assert res["ok"] is True  # the call worked ...
        st = res["weather"]
        assert st["enabled"] is True and st["ok"] is False  # ... the weather did not
        assert st["line"] is None
        assert "Invalid key" in st["error"] and st["checked_at"]
    finally:
        api.close()


def test_a_weather_service_down_at_start_is_asked_again_and_comes_back(
    qw: QWeatherServer, openai_server: OpenAICompatServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 18, degraded not dead: limited while it fails, asked again with backoff
    # (the settable clock drives it), its line back in the prompt once it answers.
    data = tmp_path / "data"
    _setup(data, qw, openai_server, monkeypatch)
    qw.mode = "500"
    clock = FixedClock(T0, 480)
    with Memory.open(data, clock=clock) as mem:
        heard: list[tuple[str, bool]] = []
        watch = ServiceWatch(mem, on_change=lambda s, e: heard.append((s, e is None)))
        try:
            watch.first_check()
            assert heard == [(WEATHER, False)] and "500" in str(watch.limited()[WEATHER])
            mem.send("你好")  # chatting goes on without the weather
            assert "天气" not in openai_server.chat_requests[-1].system_text
            qw.mode = "ok"
            asked = len(qw.requests)
            assert watch.tick() == 1.0 and len(qw.requests) == asked  # not due yet
            clock.advance(1000)
            assert watch.tick() is None and heard == [(WEATHER, False), (WEATHER, True)]
            mem.send("今天天气怎么样？")
            assert "天气：" + format_line(NOW, "zh") in openai_server.chat_requests[-1].system_text
        finally:
            watch.stop()


def test_weather_status_when_off(tmp_path: Path, openai_server: OpenAICompatServer) -> None:
    api = Api(data_dir=tmp_path / "d", env={"DL_LLM_BASE_URL": openai_server.base_url})
    try:
        assert api.weather_status() == {"ok": True, "weather": {
            "enabled": False, "ok": False, "line": None, "error": None, "checked_at": None}}
    finally:
        api.close()
