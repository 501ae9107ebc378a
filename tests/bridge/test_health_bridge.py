"""The bridge with the embedding service down at start (issue 18, degraded not
dead): it answers meanwhile, tells the page what is limited (``service.health``,
``service_health``), and once the service is back fills in the vectors the
diary and the archived messages lack, with progress, and says so.
Real parts: the bridge ``Api``, the scripted OpenAI-compatible server
(``embedding_error`` takes the embeddings down), LanceDB and SQLite."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridge_helpers import make_env, ok
from dl_app.bridge import Api
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

T0 = 1_700_000_000_000


class Heard:
    """The bridge's events, with a wait for one that matters."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()

    def __call__(self, name: str, payload: dict[str, Any]) -> None:
        json.dumps(payload)
        with self._cond:
            self.items.append((name, payload))
            self._cond.notify_all()

    def wait(self, name: str, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((p for n, p in self.items if n == name and test(p)), None)

        with self._cond:
            assert self._cond.wait_for(lambda: found() is not None, timeout=60), self.items
            hit = found()
            assert hit is not None
            return hit


def export() -> bytes:
    diary = [{"uuid": "e-1", "title": "提车", "summary": "用户买了新车。",
              "startTime": T0, "endTime": T0 + 600_000}]
    archive = [{"id": f"m{i}", "belongTo": "e-1", "role": r, "content": t,
                "timestamp": T0 + i * 60_000}
               for i, (r, t) in enumerate([("user", "今天提车了！"), ("assistant", "恭喜！")])]
    return json.dumps({"selfName": "小叶子", "userName": "阿明", "memoryAboutSelf": "",
                       "memoryAboutUser": "", "currentSummary": "", "longTermMemory": diary,
                       "shortTermMemory": [], "archivedMemory": archive},
                      ensure_ascii=False).encode()


def test_the_bridge_says_the_embedder_is_down_and_fills_in_once_it_is_back(
    openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    openai_server.default_responder = companion_responder
    openai_server.embedding_error = 503  # down from the start
    env = make_env(openai_server)
    with Memory.open(data_dir, env=env) as mem:
        mem.import_bytes(export())  # the import stands; its vectors wait
    heard = Heard()
    api = Api(data_dir, env=env, emit=heard)
    try:
        assert ok(api.index_status())["total"] == 1  # the memory opens: the watch begins
        down = heard.wait("service.health", lambda p: not p["ok"])
        assert down["service"] == "embeddings" and down["limited"][0]["service"] == "embeddings"
        assert "503" in down["limited"][0]["message"]
        assert [x["service"] for x in ok(api.service_health())["limited"]] == ["embeddings"]
        assert ok(api.chat_send({"text": "你好"}))["reply"]  # chatting goes on meanwhile

        openai_server.embedding_error = None  # back: the next probe finds it
        filled = heard.wait("service.health", lambda p: bool(p.get("filled")))
        assert filled["filled"] == 3 and filled["limited"] == []  # one entry, two turns
        steps = [p for n, p in heard.items if n == "task.progress" and p["task"] == "vectors"]
        assert steps and steps[-1]["done"] == steps[-1]["total"] == 3
        assert ok(api.service_health())["limited"] == []
        status = ok(api.index_status())
        assert status["indexed"] == status["total"] == 1 and status["problem"] == ""
    finally:
        api.close()


def test_every_optional_service_down_at_start_leaves_the_app_working(
    openai_server: OpenAICompatServer, data_dir: Path
) -> None:
    # Embeddings, weather, pictures, speech both ways and S3, all at an address
    # nothing listens on: the app opens, chats and says what each use could not do.
    dead = "http://127.0.0.1:9"
    openai_server.default_responder = companion_responder
    data_dir.mkdir(parents=True)
    (data_dir / "settings.json").write_text(json.dumps({
        "embed": {"base_url": f"{dead}/v1", "model": "e"},
        "plugins": {"weather_enabled": True, "weather_location": "116.41,39.92",
                    "weather_api_base": dead, "weather_geo_base": dead},
        "images": {"enabled": True, "base_url": f"{dead}/v1"},
        "voice": {"tts_enabled": True, "tts_provider": "openai", "openai_tts_url": f"{dead}/v1",
                  "stt_provider": "openai", "stt_url": f"{dead}/v1"},
        "backup": {"endpoint": dead, "bucket": "b"},
    }))
    env = make_env(openai_server)
    del env["DL_EMBED_BASE_URL"], env["DL_EMBED_MODEL"]
    heard = Heard()
    api = Api(data_dir, env=env, emit=heard)
    try:
        for name in ("weather_api_key", "s3_access_key", "s3_secret_key"):
            ok(api.secret_set({"name": name, "value": "k"}))
        assert ok(api.app_info())["version"]
        assert ok(api.chat_send({"text": "你好"}))["reply"]
        every = {"embeddings", "weather", "pictures", "tts", "stt", "s3"}
        heard.wait("service.health", lambda p: {x["service"] for x in p["limited"]} == every)
        limited = ok(api.service_health())["limited"]
        assert {x["service"] for x in limited} == every
        assert all(x["message"] for x in limited)
        for failed in (api.voice_speak({"text": "你好"}), api.backup_test(),
                       api.voice_test({"kind": "stt"})):
            assert failed["ok"] is False and failed["error"]["message"], failed
        assert ok(api.chat_send({"text": "还在吗？"}))["reply"]
    finally:
        api.close()
