"""The memory pages' bridge methods against real LanceDB and SQLite, with the
scripted model server for chat and embeddings."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bridge_helpers import Events, ok
from dl_app.bridge import Api
from memory_helpers import export_text, make_export
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply, ToolCallReply


@pytest.fixture
def filled(api: Api) -> Api:
    ok(api.transfer_import({"content": export_text(5)}))
    return api


def failed(result: dict[str, Any], kind: str) -> dict[str, Any]:
    assert result["ok"] is False, result
    assert result["error"]["type"] == kind, result
    return result["error"]


def snapshot(api: Api) -> Any:
    return json.loads(ok(api.transfer_export())["content"])


def test_profile_edit_history_and_restore(api: Api) -> None:
    first = ok(api.memory_profile())
    assert first["history"] == []
    default = first["profile"]
    assert set(default) == {"self_name", "user_name", "memory_about_self", "memory_about_user"}

    res = ok(api.memory_profile_set({"profile": {"self_name": "小忆", "memory_about_user": "爱猫"}}))
    assert res["profile"] == {**default, "self_name": "小忆", "memory_about_user": "爱猫"}
    assert [h["profile"] for h in res["history"]] == [default]
    time.sleep(0.01)  # history versions are told apart by their time (ms)
    ok(api.memory_profile_set({"profile": {"user_name": "阿明"}}))
    hist = ok(api.memory_profile())["history"]
    assert len(hist) == 2 and hist[0]["profile"]["self_name"] == "小忆"  # newest first
    assert ok(api.app_info())["user_name"] == "阿明"

    back = ok(api.memory_profile_restore({"at": hist[-1]["at"]}))
    assert back["profile"] == default
    assert back["history"][0]["profile"]["user_name"] == "阿明"  # the undone one is kept

    failed(api.memory_profile_set({"profile": {"self_name": "  "}}), "InvalidInput")
    failed(api.memory_profile_set({"profile": {"user_name": "x" * 101}}), "InvalidInput")
    failed(api.memory_profile_set({"profile": {"memory_about_self": "x" * 20_001}}),
           "InvalidInput")
    failed(api.memory_profile_set({"profile": {"colour": "red"}}), "InvalidInput")
    failed(api.memory_profile_restore({"at": 12345}), "NotFound")
    assert ok(api.memory_profile())["profile"] == default


def test_diary_list_search_get_and_timeline(filled: Api) -> None:
    page = ok(filled.diary_list({"offset": 0, "limit": 2}))
    assert page["total"] == 5
    assert [e["title"] for e in page["entries"]] == ["话题4的日记", "话题3的日记"]  # newest first
    assert all(e["indexed"] for e in page["entries"])
    rest = ok(filled.diary_list({"offset": 2, "limit": 200}))["entries"]
    assert [e["title"] for e in rest] == ["话题2的日记", "话题1的日记", "话题0的日记"]
    failed(filled.diary_list({"limit": 201}), "InvalidInput")

    hits = ok(filled.diary_search({"query": "话题3", "k": 3}))["hits"]
    assert hits[0]["title"] == "话题3的日记" and hits[0]["text_match"] is True
    assert {"score", "similarity", "summary", "start_time", "end_time"} <= set(hits[0])
    failed(filled.diary_search({"query": "x", "k": 51}), "InvalidInput")
    # Words no entry contains find nothing (the vector ranking alone would
    # always find something); the search by meaning is the page's second step.
    assert ok(filled.diary_search({"query": "zqxj wvut"}))["hits"] == []
    near = ok(filled.diary_search({"query": "zqxj wvut", "meaning": True}))
    assert near["meaning"] is True and near["hits"]
    assert not any(h["text_match"] for h in near["hits"])

    got = ok(filled.diary_get({"uuid": hits[0]["uuid"]}))
    assert got["entry"]["summary"].startswith("话题3：")
    assert [(m["role"], m["content"]) for m in got["messages"]] == [
        ("user", "关于话题3的第0句话"), ("assistant", "关于话题3的第1句话"),
    ]
    failed(filled.diary_get({"uuid": "no-such"}), "NotFound")

    timeline = ok(filled.diary_timeline())["conversations"]
    assert [c["title"] for c in timeline] == [f"话题{i}的日记" for i in range(5)]  # oldest first
    assert all(c["messages"] == 2 for c in timeline)
    assert timeline[0]["start_time"] < timeline[0]["end_time"] <= timeline[1]["start_time"]


def test_timeline_counts_the_messages_the_entry_shows(
    api: Api, openai_server: OpenAICompatServer
) -> None:
    ok(api.chat_send({"text": "我的猫叫咪咪"}))
    first = ok(api.memory_consolidate())["entry"]
    # A recall: the request for it and its result are archived too, but not shown.
    openai_server.enqueue(
        ChatReply(tool_calls=[ToolCallReply("get_memory", {"memoryDescription": "猫"})]),
        ChatReply(content="记得，咪咪。"),
    )
    ok(api.chat_send({"text": "还记得我的猫吗"}))
    second = ok(api.memory_consolidate())["entry"]
    counts = {c["uuid"]: c["messages"] for c in ok(api.diary_timeline())["conversations"]}
    shown = {u: len(ok(api.diary_get({"uuid": u}))["messages"])
             for u in (first["uuid"], second["uuid"])}
    assert counts == shown == {first["uuid"]: 2, second["uuid"]: 2}


def test_diary_update_re_embeds_and_delete_removes_everything(
    filled: Api, openai_server: OpenAICompatServer
) -> None:
    uuid = ok(filled.diary_search({"query": "话题2", "k": 1}))["hits"][0]["uuid"]
    openai_server.clear_requests()
    res = ok(filled.diary_update({"uuid": uuid, "title": "爬山记", "summary": "我们去爬了泰山"}))
    assert res["entry"]["title"] == "爬山记" and res["warnings"] == []
    assert len(openai_server.embedding_requests) == 1  # re-embedded at once
    status = ok(filled.index_status())
    assert status["indexed"] == status["total"] == 5
    hits = ok(filled.diary_search({"query": "泰山", "k": 1}))["hits"]
    assert hits[0]["uuid"] == uuid and hits[0]["title"] == "爬山记"
    titles = [h["title"] for h in ok(filled.diary_search({"query": "话题2的日记"}))["hits"]]
    assert "话题2的日记" not in titles  # the old text is gone from the full-text index
    failed(filled.diary_update({"uuid": uuid, "title": " ", "summary": "x"}), "InvalidInput")
    failed(filled.diary_update({"uuid": "nope", "title": "t", "summary": "s"}), "NotFound")

    ok(filled.diary_delete({"uuid": uuid}))
    assert ok(filled.diary_list())["total"] == 4
    assert ok(filled.index_status())["indexed"] == 4
    assert all(h["uuid"] != uuid for h in ok(filled.diary_search({"query": "泰山"}))["hits"])
    failed(filled.diary_get({"uuid": uuid}), "NotFound")
    exported = snapshot(filled)
    assert all(m["belongTo"] != uuid for m in exported["archivedMemory"])
    assert len(exported["archivedMemory"]) == 8
    assert uuid not in {c["uuid"] for c in ok(filled.diary_timeline())["conversations"]}
    failed(filled.diary_delete({"uuid": uuid}), "NotFound")


def test_export_preview_import_round_trip(filled: Api, tmp_path: Path) -> None:
    out = ok(filled.transfer_export())
    assert out["encrypted"] is False and out["filename"].endswith(".json")
    data = json.loads(out["content"])
    assert data["selfName"] == "小忆" and len(data["longTermMemory"]) == 5

    other = Api(tmp_path / "other", env=filled._ctx.env)
    try:
        prev = ok(other.transfer_preview({"content": out["content"]}))
        assert prev["encrypted"] is False
        assert prev["preview"]["diary_entries"] == 5
        assert prev["preview"]["archived_messages"] == 10
        assert prev["preview"]["self_name"] == "小忆"
        assert prev["preview"]["first_time"] < prev["preview"]["last_time"]
        report = ok(other.transfer_import({"content": out["content"]}))["report"]
        assert (report["entries"], report["archived"], report["backup"]) == (5, 10, None)
        assert snapshot(other) == data
    finally:
        other.close()


def test_encrypted_export_round_trip(filled: Api, events: Events) -> None:
    out = ok(filled.transfer_export({"passphrase": "芝麻开门"}))
    assert out["encrypted"] is True and out["filename"].endswith(".json.enc")
    assert "话题" not in out["content"] and "小忆" not in out["content"]
    need = failed(filled.transfer_preview({"content": out["content"]}), "PassphraseRequired")
    assert "请输入它的密码" in need["message"]  # the bridge speaks Chinese here (make_env)
    wrong = failed(filled.transfer_preview({"content": out["content"], "passphrase": "x"}),
                   "ImportFailed")
    assert "密码不对" in wrong["message"]
    prev = ok(filled.transfer_preview({"content": out["content"], "passphrase": "芝麻开门"}))
    assert prev["encrypted"] is True and prev["preview"]["diary_entries"] == 5

    before = snapshot(filled)
    ok(filled.memory_profile_set({"profile": {"self_name": "改了"}}))
    report = ok(filled.transfer_import({"content": out["content"], "passphrase": "芝麻开门"}))
    assert report["report"]["backup"].startswith("memory-before-import-")
    assert snapshot(filled) == before
    assert events.named("task.progress")[-1]["task"] == "import"

    backups = ok(filled.transfer_backups())["backups"]
    assert backups[0]["name"] == report["report"]["backup"] and backups[0]["size"] > 0
    restored = ok(filled.transfer_restore_local({"name": backups[0]["name"]}))["report"]
    assert restored["entries"] == 5 and restored["backup"]
    assert ok(filled.memory_profile())["profile"]["self_name"] == "改了"
    failed(filled.transfer_restore_local({"name": "../settings.json"}), "NotFound")
    failed(filled.transfer_restore_local({"name": "memory-none.json"}), "NotFound")


# The bridge's language here is Chinese (LANG=zh_CN): the reasons are said in it,
# the places in the file in words (the English words are tests/core/test_exchange.py's).
HOSTILE = [
    ("corrupted", "{\"selfName\": \"a\", \"longTermMemory\": [}", "不是有效的 JSON"),
    ("truncated", export_text(3)[:-30], "不是有效的 JSON"),
    ("not an object", "[1, 2, 3]", "最外层应为一个 JSON 对象"),
    ("wrong types", json.dumps({**make_export(2), "longTermMemory": [{"uuid": 5}]}),
     "日记第 1 条的编号：应为文字，实际是数字 5"),
    ("bad timestamp", json.dumps({**make_export(1), "archivedMemory": [
        {"role": "user", "content": "x", "timestamp": "yesterday", "belongTo": "u"}]}),
     "归档的对话第 1 条的时间：应为毫秒数"),
    ("huge name", json.dumps({**make_export(1), "selfName": "名" * 5000}), "TA 的名字：文字太长"),
    ("huge text", json.dumps({**make_export(1), "memoryAboutUser": "字" * 1_100_000}),
     "TA 对你的了解：文字太长"),
    ("empty", "   ", "文件是空的"),
]


@pytest.mark.parametrize(("name", "content", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_imports_leave_memory_unchanged(
    filled: Api, name: str, content: str, reason: str
) -> None:
    before = snapshot(filled)
    backups = ok(filled.transfer_backups())["backups"]
    for method in (filled.transfer_preview, filled.transfer_import):
        err = failed(method({"content": content}), "ImportFailed")
        assert reason in err["message"], err
    assert snapshot(filled) == before
    assert ok(filled.transfer_backups())["backups"] == backups  # nothing was replaced


def test_script_in_text_is_kept_verbatim_as_text(api: Api) -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    data = make_export(1)
    data["selfName"] = evil[:50]
    data["longTermMemory"][0]["title"] = evil
    data["archivedMemory"][0]["content"] = evil
    ok(api.transfer_import({"content": json.dumps(data)}))
    assert ok(api.memory_profile())["profile"]["self_name"] == evil[:50]
    entry = ok(api.diary_list())["entries"][0]
    assert entry["title"] == evil
    assert ok(api.diary_get({"uuid": entry["uuid"]}))["messages"][0]["content"] == evil


def test_bad_parameters_are_refused(api: Api) -> None:
    bad = api.transfer_import({"content": "{}", "passphrase": "p" * 2000})
    assert failed(bad, "InvalidInput")["fields"][0]["path"] == "passphrase"
    failed(api.transfer_import({"content": ""}), "InvalidInput")
    failed(api.transfer_import({"content": 5}), "InvalidInput")
    failed(api.transfer_preview("not an object"), "InvalidInput")


def test_delete_all_needs_the_exact_phrase_and_backs_up_first(filled: Api) -> None:
    before = snapshot(filled)
    err = failed(filled.memory_delete_all({"phrase": "delete all memories"}), "InvalidInput")
    assert "请准确输入：删除所有记忆" in err["message"]  # the UI language here is Chinese
    failed(filled.memory_delete_all({}), "InvalidInput")
    assert snapshot(filled) == before

    backup = ok(filled.memory_delete_all({"phrase": "删除所有记忆"}))["backup"]
    assert backup.startswith("memory-before-delete-")
    assert ok(filled.diary_list())["total"] == 0
    assert ok(filled.diary_timeline())["conversations"] == []
    assert ok(filled.memory_profile())["history"] == []
    assert ok(filled.memory_profile())["profile"]["self_name"] != "小忆"
    assert ok(filled.index_status())["total"] == 0

    ok(filled.transfer_restore_local({"name": backup}))
    after = snapshot(filled)
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"
    }
