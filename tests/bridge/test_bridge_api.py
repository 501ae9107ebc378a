"""The bridge ``Api`` called as the page calls it, against the scripted model server."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bridge_helpers import Events, make_env, ok
from dl_app.bridge import API_METHODS, Api
from dl_app.settings import SETTINGS_FILE
from servers.companion import companion_responder
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply

SECRET = "sk-very-secret-0123456789"




def test_only_the_contract_methods_are_exposed(api: Api) -> None:
    # pywebview exposes public callables unless they set _serializable = False.
    exposed = {
        n for n in dir(api)
        if not n.startswith("_") and getattr(getattr(api, n), "_serializable", True)
    }
    assert exposed == set(API_METHODS)


def test_a_message_streams_events_and_lands_in_the_history(api: Api, events: Events) -> None:
    res = ok(api.chat_send({"text": "我今天去爬山了"}))
    assert res["reply"] == "嗯嗯，我记住了：我今天去爬山了"
    deltas = events.named("chat.delta")
    assert len(deltas) > 1 and {d["kind"] for d in deltas} == {"content"}
    assert "".join(d["text"] for d in deltas) == res["reply"]
    assert events.items[-1] == ("chat.done", res)
    gauge = res["gauge"]
    assert 0 < gauge["used"] <= gauge["budget"] == 3000
    assert gauge["ratio"] == round(gauge["used"] / gauge["budget"], 4)

    history = ok(api.chat_history())["messages"]
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "我今天去爬山了"), ("assistant", res["reply"]),
    ]
    assert history[1]["id"] == res["message_id"]
    assert all(isinstance(m["timestamp"], int) and m["recalled"] == [] for m in history)
    assert ok(api.budget_gauge())["used"] > 0


def test_a_cut_off_reply_and_a_withdrawn_one_reach_the_page(
    api: Api, events: Events, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(
        ChatReply(content="话说到一半", chunk_size=1, break_after=3),  # breaks off: withdrawn
        ChatReply(content="故事要从很久以前说起", finish_reason="length"),
    )
    res = ok(api.chat_send({"text": "讲个故事"}))
    assert res["reply"] == "故事要从很久以前说起" and res["cut_off"] is True
    names = [name for name, _ in events.items]
    assert "chat.withdraw" in names
    assert names.index("chat.withdraw") < len(names) - 1 - names[::-1].index("chat.delta")
    history = ok(api.chat_history())["messages"]
    assert history[-1]["cut_off"] is True and history[0]["cut_off"] is False


def test_recall_is_announced_and_folded_into_the_reply(
    api: Api, events: Events, openai_server: OpenAICompatServer
) -> None:
    ok(api.chat_send({"text": "我的猫咪咪咪生病了"}))
    entry = ok(api.memory_consolidate())["entry"]
    assert entry["title"] == "愉快的聊天"  # the book-title marks are stripped
    # (the service watch may report its own task, "vectors", in the background)
    progress = [p for p in events.named("task.progress") if p["task"] != "vectors"]
    assert progress[0]["done"] == 0 and progress[-1]["done"] == progress[-1]["total"]
    assert {p["task"] for p in progress} == {"consolidate"}
    assert ok(api.chat_history())["messages"] == []
    assert ok(api.index_status()) == {
        "ok": True, "indexed": 1, "total": 1, "model": "openai:test-embed", "problem": ""
    }

    openai_server.enqueue(
        ChatReply(tool_calls=[ToolCallReply("get_memory", {"memoryDescription": "聊天 咪咪"})]),
        ChatReply(content="我记得那次聊天。"),
    )
    res = ok(api.chat_send({"text": "还记得我们聊过什么吗"}))
    assert res["recalled"] == [{"uuid": entry["uuid"], "title": entry["title"]}]
    assert events.named("chat.recall") == [{"titles": [entry["title"]]}]
    history = ok(api.chat_history())["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]  # tool messages folded
    assert history[1]["recalled"] == res["recalled"]
    recall = ok(api.context_preview())["last_recall"]
    assert [r["uuid"] for r in recall] == [entry["uuid"]] and recall[0]["score"] > 0

    assert ok(api.index_rebuild({"all": True}))["indexed"] == 1
    indexed = [p for p in events.named("task.progress") if p["task"] == "index"]
    assert indexed[-1] == {"task": "index", "done": 1, "total": 1}


def test_context_preview_sections_add_up(api: Api) -> None:
    ok(api.chat_send({"text": "第一句话"}))
    p = ok(api.context_preview({"text": "下一句话说什么"}))
    assert p["prompt_tokens"] == p["fixed_tokens"] + p["history_tokens"] + p["current_tokens"]
    assert p["request_tokens"] == p["prompt_tokens"] + p["reply_tokens"] <= p["budget"]
    section_tokens = sum(s["tokens"] for s in p["sections"])
    assert 0 < section_tokens <= p["fixed_tokens"] - p["tools_tokens"]
    assert p["fixed_tokens"] - p["tools_tokens"] - section_tokens < 40  # framing only
    system = p["messages"][0]
    assert system["role"] == "system"
    assert all(s["text"] in system["content"] for s in p["sections"])
    assert {"persona", "self", "user", "world"} <= {s["name"] for s in p["sections"]}
    assert p["messages"][-1] == {"role": "user", "content": "下一句话说什么"}
    time_note = p["messages"][-2]  # the current time, after the conversation (prompt cache)
    assert time_note["role"] == "system" and time_note["content"].startswith("现在的时间：")
    assert p["history_tokens"] > 0 and p["current_tokens"] > 0 and p["window_start"] == 0
    assert p["dropped_turns"] == 0 and p["tools_tokens"] > 0


def test_settings_set_persists_rebuilds_and_rejects_bad_values(
    api: Api, data_dir: Path
) -> None:
    got = ok(api.settings_get())
    assert got["settings"]["memory"]["token_budget"] == 3000
    # The model source too: the service's address in a variable decides it.
    assert got["env_overrides"] == [
        "llm.base_url", "llm.model", "llm.provider", "embed.base_url", "embed.model",
    ]
    paths = {f["path"]: f for f in got["fields"]}
    assert paths["memory.token_budget"]["min"] == 1500
    assert paths["llm.recall_mode"]["choices"] == ["tool", "auto", "off"]
    assert paths["llm.temperature"]["nullable"] is True
    assert paths["llm.model"]["label"]["zh"] == "模型" and paths["llm.model"]["help"]["en"]
    assert [g["path"] for g in got["groups"]] == [
        "llm", "embed", "memory", "backup", "plugins", "images", "avatar", "voice", "app",
    ]
    assert ok(api.budget_gauge())["budget"] == 3000

    res = ok(api.settings_set({"patch": {"memory": {"token_budget": 4000}}}))
    assert res["settings"]["memory"]["token_budget"] == 4000
    saved = json.loads((data_dir / SETTINGS_FILE).read_text())
    assert saved["memory"]["token_budget"] == 4000
    assert saved["memory"]["reply_tokens"] == 400  # the rest kept
    assert saved["llm"]["base_url"] == "http://127.0.0.1:11434/v1"  # env override not saved
    assert ok(api.budget_gauge())["budget"] == 4000  # the engine was rebuilt

    bad = api.settings_set({"patch": {"memory": {"token_budget": 10}}})
    assert bad["ok"] is False and bad["error"]["type"] == "InvalidInput"
    assert "memory.token_budget" in bad["error"]["message"]
    assert "1500" in bad["error"]["message"]
    assert bad["error"]["fields"][0]["path"] == "memory.token_budget"
    unknown = api.settings_set({"patch": {"llm": {"colour": "red"}}})
    assert unknown["error"]["type"] == "InvalidInput"
    assert "llm.colour" in unknown["error"]["message"]
    assert json.loads((data_dir / SETTINGS_FILE).read_text()) == saved  # nothing written
    assert api.settings_set({"patch": "x"})["error"]["type"] == "InvalidInput"


def test_secrets_never_reach_the_page_or_the_settings_file(
    data_dir: Path, events: Events
) -> None:
    with OpenAICompatServer(api_key=SECRET) as server:
        server.default_responder = companion_responder
        api = Api(data_dir, env=make_env(server), emit=events)
        try:
            failed = api.chat_send({"text": "你好"})
            assert failed["ok"] is False and failed["error"]["type"] == "AuthFailed"
            assert events.named("chat.error")[-1]["type"] == "AuthFailed"
            assert events.named("service.status")[-1]["ok"] is False

            assert ok(api.secret_set({"name": "llm_api_key", "value": SECRET}))["secrets"][
                "llm_api_key"
            ]
            assert ok(api.secret_set({"name": "embed_api_key", "value": SECRET}))
            assert ok(api.chat_send({"text": "你好"}))["reply"]  # the rebuilt engine has the key
            assert events.named("service.status")[-1] == {
                "ok": True, "message": "模型服务已恢复。"
            }
            ok(api.settings_set({"patch": {"llm": {"temperature": 0.5}}}))
            got = ok(api.settings_get())
            assert got["secrets"]["llm_api_key"] is True
            assert got["secrets"]["weather_api_key"] is False
            assert got["secret_store"]["backend"] == "file"  # tests run with keyring's fail
            assert got["secret_store"]["secure"] is False
            for text in (
                json.dumps(got), json.dumps(api.app_info()), json.dumps(events.items),
                (data_dir / SETTINGS_FILE).read_text(), json.dumps(api.context_preview()),
            ):
                assert SECRET not in text
            ok(api.secret_delete({"name": "llm_api_key"}))
            assert ok(api.settings_get())["secrets"]["llm_api_key"] is False
            assert api.chat_send({"text": "还在吗"})["error"]["type"] == "AuthFailed"
        finally:
            api.close()


def test_app_info_describes_the_app(api: Api, data_dir: Path) -> None:
    info = ok(api.app_info())
    assert info["lang"] == "zh" and info["ui_lang_setting"] == "auto"
    assert info["model"] == "qwen-test" and info["data_dir"] == str(data_dir)
    assert info["self_name"] and info["user_name"] and info["theme"] == "system"
    assert info["inspector"] is False and info["version"]
    ok(api.settings_set({"patch": {"language": "en"}}))
    assert ok(api.app_info())["lang"] == "en"


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("chat_send", {}, "text"),
        ("chat_send", {"text": "   "}, "empty"),
        ("chat_send", "hello", "JSON object"),
        ("chat_send", {"text": "hi", "extra": 1}, "extra"),
        ("secret_set", {"name": "openai", "value": "x"}, "unknown secret"),
        ("test_connection", {"kind": "tts"}, "kind"),
        ("index_rebuild", {"all": "maybe"}, "all"),
    ],
)
def test_bad_parameters_are_invalid_input(
    api: Api, method: str, params: Any, fragment: str
) -> None:
    ok(api.settings_set({"patch": {"language": "en"}}))  # zh: test_bridge_invalid_lang.py
    res = getattr(api, method)(params)
    assert res["ok"] is False and res["error"]["type"] == "InvalidInput"
    assert fragment in res["error"]["message"]


def test_a_dead_service_is_an_error_result_and_an_event(
    data_dir: Path, events: Events, openai_server: OpenAICompatServer
) -> None:
    env = make_env(openai_server, DL_LLM_BASE_URL="http://127.0.0.1:9/v1")
    api = Api(data_dir, env=env, emit=events)
    try:
        res = api.chat_send({"text": "你好"})
        assert res["ok"] is False and res["error"]["type"] == "ServiceUnreachable"
        assert "127.0.0.1:9" in res["error"]["message"]
        assert events.named("chat.error") == [res["error"]]
        assert ok(api.chat_history())["messages"] == []  # nothing changed
    finally:
        api.close()


def test_turns_from_several_threads_run_one_at_a_time(
    api: Api, openai_server: OpenAICompatServer
) -> None:
    openai_server.default_responder = lambda r: ChatReply(
        content=companion_responder(r).content, chunk_delay=0.01
    )
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(api.chat_send({"text": f"消息{i}"})))
        for i in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r["ok"] for r in results) and len(results) == 3
    history = ok(api.chat_history())["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"] * 3
    for user, reply in zip(history[::2], history[1::2], strict=True):
        assert reply["content"].endswith(user["content"])


def test_page_ready_sets_the_event(api: Api) -> None:
    assert not api._ctx.page_ready.is_set()
    assert api.page_ready() == {"ok": True}
    assert api._ctx.page_ready.is_set()


# -- test_connection ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connection(data_dir: Path, env: dict[str, str], **params: Any) -> dict[str, Any]:
    api = Api(data_dir, env=env)
    try:
        return api.test_connection({"kind": "llm", **params})
    finally:
        api.close()


def test_connection_ok_lists_models(api: Api, openai_server: OpenAICompatServer) -> None:
    res = ok(api.test_connection({"kind": "llm", "model": "test-model"}))
    assert res["models"] == ["test-model", "test-embed"] and "可用（共列出 2 个模型）" in res["message"]
    res = ok(api.test_connection({"kind": "llm"}))  # qwen-test: not listed but it answers
    assert "回答了" in res["message"]
    emb = ok(api.test_connection({"kind": "embed"}))
    assert "返回 64 维向量" in emb["message"]
    builtin = ok(api.test_connection({"kind": "embed", "base_url": ""}))
    assert "内置的嵌入模型" in builtin["message"]


def test_connection_explains_a_bad_key(data_dir: Path) -> None:
    with OpenAICompatServer(api_key=SECRET) as server:
        res = _connection(data_dir, make_env(server, DL_LLM_API_KEY="sk-wrong"))
    assert res["ok"] is False and res["error"]["type"] == "AuthFailed"
    assert "401" in res["message"] and "API key" in res["message"]
    assert res["message"] == res["error"]["message"]


EN = "en_US.UTF-8"  # these tests read the English words


def test_connection_explains_an_unknown_model(data_dir: Path) -> None:
    with OpenAICompatServer(check_models=True) as server:
        res = _connection(data_dir, make_env(server, DL_LLM_MODEL="qwen-nope", LANG=EN))
    assert res["error"]["type"] == "ModelNotFound"
    assert "'qwen-nope' is not available" in res["message"]
    assert "test-model" in res["message"] and res["models"] == ["test-model", "test-embed"]


def test_connection_explains_refused(data_dir: Path, openai_server: OpenAICompatServer) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    res = _connection(data_dir, make_env(openai_server, DL_LLM_BASE_URL=url, LANG=EN))
    assert res["error"]["type"] == "ServiceUnreachable"
    assert "connection refused" in res["message"] and url in res["message"]
    # In Chinese (the app's language from the locale): the same type, Chinese words.
    res = _connection(data_dir, make_env(openai_server, DL_LLM_BASE_URL=url))
    assert res["error"]["type"] == "ServiceUnreachable"
    assert res["message"] == res["error"]["message"]
    assert f"无法连接对话服务（{url}）：连接被拒绝。" in res["message"]


class _HtmlPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><html><body>Welcome to our dashboard</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def test_connection_explains_a_web_page(data_dir: Path, openai_server: OpenAICompatServer) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        res = _connection(data_dir, make_env(openai_server, LANG=EN), base_url=url)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert res["error"]["type"] == "BadResponse"
    assert "web page" in res["message"] and "/v1" in res["message"]


def test_connection_explains_a_timeout(data_dir: Path, openai_server: OpenAICompatServer) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never answers
    try:
        (data_dir).mkdir(parents=True)
        (data_dir / SETTINGS_FILE).write_text(json.dumps({"llm": {"timeout_s": 0.3}}))
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        res = _connection(data_dir, make_env(openai_server, DL_LLM_BASE_URL=url, LANG=EN))
    finally:
        silent.close()
    assert res["error"]["type"] == "ServiceUnreachable" and "timed out" in res["message"]
