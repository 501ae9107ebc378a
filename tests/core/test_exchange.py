"""Import/export files: every original version, our own, and broken or hostile ones."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from dl_app.core.errors import ImportFailed
from dl_app.core.exchange import (
    MAX_TEXT_CHARS,
    TOP_KEYS,
    ImportResult,
    dump_export_bytes,
    load_export_bytes,
    parse_export,
    summarize_snapshot,
    to_export,
)
from dl_app.core.models import (
    ArchivedMessage,
    DiaryEntry,
    MemorySnapshot,
    Message,
    Profile,
    Recall,
    ToolCall,
)
from dl_app.messages import render
from where import DATA

DEFAULT = Profile(
    self_name="小叶子", user_name="旅行者", memory_about_self="默认的自我", memory_about_user=""
)
HIKE = "3b5d5c37-1e2a-4f7b-9c1d-2e3f4a5b6c7d"
CAT = "8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60"
FIRST = "c9f0f895-fb98-4b91-9f5a-0a1b2c3d4e5f"


def load(name: str) -> dict[str, Any]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def parse(data: Any, **kw: Any) -> ImportResult:
    return parse_export(data, default_profile=DEFAULT, **kw)


def failure(data: Any, **kw: Any) -> str:
    with pytest.raises(ImportFailed) as info:
        parse(data, **kw)
    return str(info.value)


def original_accepts(data: dict[str, Any]) -> bool:
    """The original app's importAllMemory check (reference 4.2)."""
    strings = ("selfName", "userName", "memoryAboutSelf", "memoryAboutUser", "currentSummary")
    if not all(isinstance(data.get(k), str) for k in strings):
        return False
    lists = ("longTermMemory", "shortTermMemory", "archivedMemory")
    if not all(isinstance(data.get(k), list) for k in lists):
        return False
    for e in data["longTermMemory"]:
        if not all(isinstance(e.get(k), str) for k in ("uuid", "title", "summary")):
            return False
        if not all(type(e.get(k)) in (int, float) for k in ("startTime", "endTime")):
            return False
    for key in ("shortTermMemory", "archivedMemory"):
        for m in data[key]:
            if not (isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
                return False
            if type(m.get("timestamp")) not in (int, float):
                return False
            if key == "archivedMemory" and not isinstance(m.get("belongTo"), str):
                return False
    return True


def our_snapshot() -> MemorySnapshot:
    """A snapshot as our app holds it, deliberately out of export order."""
    call = ToolCall(id="call_1", name="get_memory", arguments='{"memoryDescription":"猫"}')
    old = DiaryEntry(uuid="old", title="旧", summary="s1", start_time=1_000, end_time=2_000)
    new = DiaryEntry(
        uuid="new", title="新", summary="s2", start_time=5_000, end_time=6_000, source_ids=["a1"]
    )

    def arch(i: str, role: Any, ts: int, belong: str, **kw: Any) -> ArchivedMessage:
        return ArchivedMessage(
            id=i, role=role, content=f"c{i}", timestamp=ts, belong_to=belong, **kw
        )

    return MemorySnapshot(
        profile=Profile(
            self_name="叶", user_name="明", memory_about_self="自我", memory_about_user="他"
        ),
        current_summary="总结",
        conversation=[
            Message(id="u1", role="user", content="<script>x</script>", timestamp=9_000),
            Message(id="c1", role="assistant", timestamp=9_000, tool_calls=[call]),
            Message(
                id="t1",
                role="tool",
                content="found",
                timestamp=9_000,
                tool_call_id="call_1",
                recall=[Recall(uuid="old", similarity=0.75, desc="猫")],
            ),
            Message(id="r1", role="assistant", content="喵", timestamp=9_000, reasoning="想想"),
        ],
        archive=[
            arch("b1", "user", 1_000, "old"),
            arch("b2", "assistant", 1_000, "old"),
            arch("a1", "user", 5_000, "new", turn_id="T"),
            arch("a2", "assistant", 5_000, "new", turn_id="T"),
        ],
        diary=[old, new],
        vectors={"new": [0.5, -0.25], "old": [1.0, 0.0]},
    )


# --- original files -------------------------------------------------------


def test_v1_4_file_is_understood() -> None:
    result = parse(load("original_v1_4.json"))
    snap = result.snapshot
    assert result.source_version == "original-1.4"
    assert result.warnings == []
    assert snap.profile.user_name == "阿明"
    assert [e.uuid for e in snap.diary] == [HIKE, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"]
    assert snap.vectors == {HIKE: [0.12, -0.5, 0.33, 0.0, 1.0]}
    call_msg, tool_msg = snap.conversation[1], snap.conversation[2]
    assert call_msg.tool_calls == [
        ToolCall(
            id="call_abc123",
            name="get_memory",
            arguments='{"memoryDescription":"用户和我聊过的爬山计划"}',
        )
    ]
    assert tool_msg.tool_call_id == "call_abc123"
    assert tool_msg.recall == [Recall(uuid=HIKE, similarity=0.83, desc="用户和我聊过的爬山计划")]
    assert all(isinstance(m, ArchivedMessage) for m in snap.archive)
    assert {m.belong_to for m in snap.archive} == {e.uuid for e in snap.diary}


def test_turns_group_a_user_message_with_its_answers() -> None:
    snap = parse(load("original_v1_4.json")).snapshot
    conv = snap.conversation
    assert [m.turn_id == conv[0].id for m in conv] == [True, True, True, True, False]
    assert conv[4].turn_id == conv[4].id
    assert conv[0].turn_id == conv[0].id
    assert len({m.id for m in (*conv, *snap.archive)}) == len(conv) + len(snap.archive)
    # archived turns never cross conversations
    first_of_second = next(m for m in snap.archive if m.belong_to != HIKE)
    assert first_of_second.turn_id == first_of_second.id


def test_derived_ids_are_deterministic() -> None:
    a = parse(load("original_v1_4.json")).snapshot
    b = parse(load("original_v1_4.json")).snapshot
    assert a == b
    # the same conversation, exported later with one more message, keeps its ids
    longer = load("original_v1_4.json")
    longer["shortTermMemory"].append({"role": "assistant", "content": "拜拜", "timestamp": 1})
    c = parse(longer).snapshot
    assert [m.id for m in c.conversation[:-1]] == [m.id for m in a.conversation]
    assert [m.id for m in c.archive] == [m.id for m in a.archive]


def test_legacy_v1_3_memo_messages_become_recall_tool_pairs() -> None:
    result = parse(load("original_v1_3.json"))
    snap = result.snapshot
    assert result.source_version == "original-1.0-1.3"
    assert any("converted 1 legacy recall" in str(w) for w in result.warnings)
    roles = [m.role for m in snap.conversation]
    assert roles == ["user", "assistant", "assistant", "tool", "user", "assistant"]
    call_msg, tool_msg = snap.conversation[2], snap.conversation[3]
    assert call_msg.content == ""
    assert call_msg.tool_calls[0].name == "get_memory"
    assert json.loads(call_msg.tool_calls[0].arguments) == {"memoryDescription": ""}
    assert tool_msg.tool_call_id == call_msg.tool_calls[0].id
    assert tool_msg.content.startswith("我想起了: 聊团子")
    assert tool_msg.recall == [Recall(uuid=CAT)]
    assert call_msg.timestamp == tool_msg.timestamp == 1717300000000
    turn = snap.conversation[0].turn_id
    assert [m.turn_id for m in snap.conversation[:4]] == [turn] * 4
    assert snap.conversation[4].turn_id != turn
    archived_tool = next(m for m in snap.archive if m.role == "tool")
    assert archived_tool.recall == [Recall(uuid=FIRST)]
    assert archived_tool.belong_to == CAT
    assert parse(load("original_v1_3.json")).snapshot == snap


def test_legacy_recall_strings_without_memo_flag_and_memo_without_recall() -> None:
    data = load("original_v1_3.json")
    del data["shortTermMemory"][2]["memo"]
    data["archivedMemory"][2]["recall"] = None
    snap = parse(data).snapshot
    assert [m.role for m in snap.conversation][2:4] == ["assistant", "tool"]
    archived_tool = next(m for m in snap.archive if m.role == "tool")
    assert archived_tool.recall == []


def test_v1_4_round_trip_keeps_everything() -> None:
    first = parse(load("original_v1_4.json")).snapshot
    exported = to_export(first, version="0.1.0")
    again = parse(json.loads(dump_export_bytes(exported)))
    assert again.source_version == "0.1.0"
    assert again.warnings == []
    assert again.snapshot == first


def test_legacy_round_trip_is_stable() -> None:
    first = parse(load("original_v1_3.json")).snapshot
    exported = to_export(first, version="0.1.0")
    assert original_accepts(exported)
    assert '"memo"' not in json.dumps(exported)
    assert parse(exported).snapshot == first


# --- our own files --------------------------------------------------------


def test_export_shape_and_order() -> None:
    out = to_export(our_snapshot(), version="0.1.0")
    assert list(out) == [*TOP_KEYS, "version"]
    assert out["version"] == "0.1.0"
    assert original_accepts(out)
    assert [e["uuid"] for e in out["longTermMemory"]] == ["new", "old"]
    assert out["longTermMemory"][0] == {
        "uuid": "new",
        "title": "新",
        "summary": "s2",
        "startTime": 5_000,
        "endTime": 6_000,
        "vector": [0.5, -0.25],
        "sourceIds": ["a1"],
    }
    assert [m["id"] for m in out["archivedMemory"]] == ["a1", "a2", "b1", "b2"]
    assert [m["turnId"] for m in out["archivedMemory"]] == ["T", "T", "b1", "b1"]
    assert list(out["archivedMemory"][0]) == [
        "role", "content", "timestamp", "belongTo", "id", "turnId"
    ]  # fmt: skip
    short = out["shortTermMemory"]
    assert short[1]["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_memory", "arguments": '{"memoryDescription":"猫"}'},
        }
    ]
    assert list(short[2]) == [
        "role", "content", "timestamp", "tool_call_id", "recall", "id", "turnId"
    ]  # fmt: skip
    assert short[2]["recall"] == [{"uuid": "old", "similarity": 0.75, "desc": "猫"}]
    assert short[3]["reasoning"] == "想想"
    assert {m["turnId"] for m in short} == {"u1"}


def test_our_export_parse_export_is_identical() -> None:
    first = to_export(our_snapshot(), version="0.1.0")
    raw = dump_export_bytes(first)
    result = parse(load_export_bytes(raw))
    assert result.source_version == "0.1.0"
    assert result.warnings == []
    second = to_export(result.snapshot, version="0.1.0")
    assert second == first
    assert dump_export_bytes(second) == raw
    assert result.snapshot.conversation[0].content == "<script>x</script>"


def test_export_vectors_argument_and_non_finite_vectors() -> None:
    snap = our_snapshot()
    out = to_export(snap, version="v", vectors={"old": [float("nan"), 1.0]})
    assert [("vector" in e) for e in out["longTermMemory"]] == [False, False]
    out = to_export(snap, version="v", vectors={})
    assert all("vector" not in e for e in out["longTermMemory"])
    dump_export_bytes(out)  # no NaN reaches JSON


def test_script_tags_survive_verbatim() -> None:
    data = load("original_v1_4.json")
    data["selfName"] = "<script>alert('x')</script>"
    data["archivedMemory"][0]["content"] = '<img src=x onerror="alert(1)">'
    snap = parse(data).snapshot
    out = json.loads(dump_export_bytes(to_export(snap, version="v")))
    assert out["selfName"] == "<script>alert('x')</script>"
    assert out["longTermMemory"][0]["summary"].endswith("<script>alert(1)</script>")
    assert out["shortTermMemory"][4]["content"] == "<b>谢谢</b> & bye"
    assert any(m["content"] == '<img src=x onerror="alert(1)">' for m in out["archivedMemory"])


# --- lenient but reported -------------------------------------------------


def test_empty_names_fall_back_to_defaults_with_warnings() -> None:
    data = load("original_v1_4.json")
    data.update(selfName="", userName="  ", memoryAboutSelf="", memoryAboutUser="")
    result = parse(data)
    assert result.snapshot.profile == Profile(
        self_name="小叶子", user_name="旅行者", memory_about_self="默认的自我", memory_about_user=""
    )
    assert [str(w).split(" ")[0] for w in result.warnings] == [
        "selfName", "userName", "memoryAboutSelf"
    ]  # fmt: skip
    # in Chinese the fields have their names in the page, not the file's keys
    assert [render(w, "zh") for w in result.warnings] == [
        "TA 的名字是空的，改用默认值 '小叶子'。",
        "你的名字是空的，改用默认值 '旅行者'。",
        "TA 的自我认知是空的，改用默认值 '默认的自我'。",
    ]


def test_orphan_archived_messages_are_kept_with_a_warning() -> None:
    data = load("original_v1_4.json")
    del data["longTermMemory"][1]
    result = parse(data)
    assert len(result.snapshot.archive) == 6
    [text] = result.warnings
    warning = str(text)
    assert "2 messages belong to diary entries not in the file (entries: 1" in warning
    assert "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d" in warning
    assert render(text, "zh").startswith("归档的对话中有 2 条消息属于文件里没有的 1 篇日记")


def test_recall_of_missing_entry_is_kept_with_a_warning() -> None:
    data = load("original_v1_4.json")
    data["shortTermMemory"][2]["recall"][0]["uuid"] = "gone"
    result = parse(data)
    assert result.snapshot.conversation[2].recall[0].uuid == "gone"
    assert any("not in the file ('gone')" in str(w) for w in result.warnings)


def test_system_messages_are_dropped_with_a_warning() -> None:
    data = load("original_v1_4.json")
    data["shortTermMemory"].insert(0, {"role": "system", "content": "x", "timestamp": 1})
    result = parse(data)
    assert result.snapshot.conversation[0].role == "user"
    assert any("dropped 1 'system' message" in str(w) for w in result.warnings)


def test_unknown_fields_are_reported() -> None:
    data = load("original_v1_4.json")
    data["extra"] = {"deep": [1, 2]}
    data["shortTermMemory"][0]["mood"] = "happy"
    data["shortTermMemory"][3]["mood"] = "sad"
    warnings = parse(data).warnings
    assert "Ignored unknown fields in top level: 'extra' (1×)." in map(str, warnings)
    assert "Ignored unknown fields in shortTermMemory: 'mood' (2×)." in map(str, warnings)
    assert "忽略了当前对话中不认识的字段：'mood' (2×)。" in [render(w, "zh") for w in warnings]


def test_nulls_floats_and_missing_optional_fields_are_accepted() -> None:
    data = load("original_v1_4.json")
    data["longTermMemory"][0]["vector"] = None
    data["longTermMemory"][1]["startTime"] = 1735600000000.4
    m = data["shortTermMemory"][2]
    m["recall"][0].pop("similarity")
    m["recall"][0].pop("desc")
    data["shortTermMemory"][1]["tool_calls"][0].pop("type")
    data["shortTermMemory"][0].update(tool_calls=None, tool_call_id=None, recall=None)
    snap = parse(data).snapshot
    assert snap.vectors == {}
    assert snap.diary[1].start_time == 1735600000000
    assert snap.conversation[2].recall == [Recall(uuid=HIKE)]


def test_inverted_times_are_kept_with_a_warning() -> None:
    data = load("original_v1_4.json")
    data["longTermMemory"][1]["startTime"] = 1735700000000
    result = parse(data)
    assert result.snapshot.diary[1].start_time == 1735700000000
    [warning] = result.warnings
    assert str(warning) == (
        "longTermMemory: 1 entry with startTime after endTime (longTermMemory[1]); kept as it is."
    )
    assert render(warning, "zh") == "日记中有 1 篇的开始时间晚于结束时间（第一篇：日记第 2 条），已原样保留。"


# --- bad files ------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        obj: Any = data
        for part in parents:
            obj = obj[int(part)] if part.isdigit() else obj[part]
        if value is _DELETE:
            del obj[int(last) if last.isdigit() else last]
        else:
            obj[int(last) if last.isdigit() else last] = value

    return mutate


_DELETE = object()

S, L, A = "shortTermMemory", "longTermMemory", "archivedMemory"
# fmt: off
BAD: list[tuple[str, Mutation, str]] = [
    ("date string", _set(f"{L}.1.startTime", "2024-01-01"),
     f"{L}[1].startTime: expected a number of milliseconds, got string '2024-01-01'"),
    ("bool timestamp", _set(f"{S}.0.timestamp", True),
     f"{S}[0].timestamp: expected a number of milliseconds, got boolean true"),
    ("nan timestamp", _set(f"{A}.3.timestamp", float("nan")), "got NaN"),
    ("inf time", _set(f"{L}.0.endTime", float("inf")), "endTime: expected a number"),
    ("negative time", _set(f"{L}.0.endTime", -1), "between 0 and"),
    ("missing key", _set("currentSummary", _DELETE), "currentSummary: missing"),
    ("null name", _set("userName", None), "userName: expected a string, got null"),
    ("list not array", _set(S, {}), f"{S}: expected an array of messages, got an object"),
    ("entry not object", _set(f"{L}.0", "x"), f"{L}[0]: expected a diary entry object"),
    ("empty uuid", _set(f"{L}.0.uuid", ""), f"{L}[0].uuid: expected a non-empty string"),
    ("number uuid", _set(f"{L}.0.uuid", 7), "uuid: expected a string, got number 7"),
    ("bad role", _set(f"{S}.0.role", "bot"), "role: expected 'user', 'assistant' or 'tool'"),
    ("null content", _set(f"{S}.0.content", None), "content: expected a string, got null"),
    ("no belongTo", _set(f"{A}.0.belongTo", _DELETE), f"{A}[0].belongTo: missing"),
    ("tool call without function", _set(f"{S}.1.tool_calls.0.function", _DELETE),
     f"{S}[1].tool_calls[0].function: expected an object {{name, arguments}}, missing"),
    ("arguments as object", _set(f"{S}.1.tool_calls.0.function.arguments", {"a": 1}),
     "tool_calls[0].function.arguments: expected a string, got an object"),
    ("wrong tool type", _set(f"{A}.1.tool_calls.0.type", "code"),
     f"{A}[1].tool_calls[0].type: expected 'function'"),
    ("tool_calls object", _set(f"{S}.1.tool_calls", {}), "tool_calls: expected an array"),
    ("similarity string", _set(f"{S}.2.recall.0.similarity", "high"),
     f"{S}[2].recall[0].similarity: expected a number, got string 'high'"),
    ("recall number", _set(f"{S}.2.recall.0", 3), "recall[0]: expected a recall object"),
    ("vector string", _set(f"{L}.0.vector.2", "0.3"), f"{L}[0].vector[2]: expected a finite"),
    ("vector nan", _set(f"{L}.0.vector.0", float("nan")), "vector[0]: expected a finite"),
    ("vector inf", _set(f"{L}.0.vector", [0.5, float("inf")]),
     f"{L}[0].vector[1]: expected a finite number, got Infinity"),
    ("vector bool", _set(f"{L}.0.vector.0", False), "got boolean false"),
    ("vector object", _set(f"{L}.0.vector", {}), "vector: expected an array of numbers"),
    ("memo string", _set(f"{S}.3.memo", "yes"), "memo: expected true or false"),
    ("tool_calls on user",
     _set(f"{S}.0.tool_calls", [{"id": "c", "function": {"name": "n", "arguments": ""}}]),
     f"{S}[0].tool_calls: only assistant messages call tools (role is 'user')"),
    ("call id on user", _set(f"{S}.0.tool_call_id", "c"), "only tool messages answer"),
    ("version number", _set("version", 2), "version: expected a string, got number 2"),
    ("id number", _set(f"{S}.0.id", 5), f"{S}[0].id: expected a string"),
    ("duplicate message ids", lambda d: [m.update(id="same") for m in d[S][:2]],
     f"{S}[1].id: duplicate message id 'same' (also {S}[0])"),
    ("duplicate diary uuids", _set(f"{L}.1.uuid", HIKE),
     f"{L}[1].uuid: duplicate uuid '{HIKE}' (also {L}[0])"),
    ("huge string", _set(f"{A}.2.content", "x" * (MAX_TEXT_CHARS + 1)),
     f"{A}[2].content: text too long (1,000,001 characters; the limit is 1,000,000)"),
    ("huge name", _set("selfName", "名" * 1001), "selfName: text too long"),
    ("empty role", _set(f"{S}.0.role", ""),
     f"{S}[0].role: expected a non-empty string, got an empty string"),
    ("lone surrogate in content", _set(f"{S}.0.content", "a\ud800b"),
     f"{S}[0].content: invalid text: a lone UTF-16 surrogate \\ud800 at character 1"),
    ("lone surrogate in a title", _set(f"{L}.1.title", "\udfff"),
     f"{L}[1].title: invalid text: a lone UTF-16 surrogate \\udfff at character 0"),
    ("lone surrogate in tool arguments", _set(f"{S}.1.tool_calls.0.function.arguments", "\udc00"),
     f"{S}[1].tool_calls[0].function.arguments: invalid text"),
    ("lone surrogate in a name", _set("selfName", "x\ud83d"), "selfName: invalid text"),
    ("lone surrogate in a field name", _set(f"{A}.0.x\ud800", 1),
     f"{A}[0], field name 'x\\ud800': invalid text"),
]
# fmt: on


@pytest.mark.parametrize(("mutate", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_files_say_where_and_what(mutate: Mutation, expected: str) -> None:
    data = load("original_v1_4.json")
    mutate(data)
    message = failure(data)
    assert message.startswith("This file is not a valid memory export (1 problem):\n- ")
    assert expected in message


@pytest.mark.parametrize("top", [[], "text", 3, None, True])
def test_top_level_must_be_an_object(top: Any) -> None:
    assert "expected a JSON object at the top level" in failure(top)


def test_many_problems_are_collected_in_one_message() -> None:
    data = load("original_v1_4.json")
    for m in data["archivedMemory"]:
        m["timestamp"] = "soon"
    data["selfName"] = 1
    data["longTermMemory"][0]["title"] = None
    data["shortTermMemory"] = [{"role": 1}] * 3
    message = failure(data)
    lines = message.splitlines()
    assert lines[0] == "This file is not a valid memory export (17 problems):"
    assert lines[1] == "- selfName: expected a string, got number 1"
    assert len(lines) == 12
    assert lines[-1] == "- … and 7 more"


def test_too_many_items() -> None:
    data = load("original_v1_4.json")
    assert "archivedMemory: too many items (6; the limit is 5)" in failure(data, max_items=5)


def test_only_the_original_keys_are_required() -> None:
    data = load("original_v1_4.json")
    for key in TOP_KEYS:
        broken = copy.deepcopy(data)
        del broken[key]
        assert f"{key}: missing" in failure(broken)


# --- bytes -----------------------------------------------------------------


def test_truncated_json_reports_line_and_column() -> None:
    raw = (DATA / "original_v1_4.json").read_bytes()[:300]
    with pytest.raises(ImportFailed, match=r"not valid JSON .* at line \d+, column \d+\.$"):
        load_export_bytes(raw)


def test_bad_utf8_reports_position() -> None:
    with pytest.raises(ImportFailed, match=r"invalid byte 0xff at line 2, column 3 \(byte 4\)"):
        load_export_bytes(b'{\n "\xff": 1}')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"[" * 200_000, "nested too deeply"),
        (b"1" * 5000, "not valid JSON"),
        (b'{"a": 1', "line 1, column 8"),
    ],
)
def test_unreadable_bytes(raw: bytes, expected: str) -> None:
    with pytest.raises(ImportFailed, match=expected):
        load_export_bytes(raw)


def test_size_limit_and_encodings() -> None:
    with pytest.raises(ImportFailed, match="too large"):
        load_export_bytes(b"{}" * 10, max_bytes=10)
    text = (DATA / "original_v1_4.json").read_text(encoding="utf-8")
    expected = json.loads(text)
    assert load_export_bytes(b"\xef\xbb\xbf" + text.encode()) == expected
    assert load_export_bytes(text.encode("utf-16")) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a":\n "cut', "Unterminated string starting at line 2, column 2."),
        (b'{"a": "x\ty"}', "Invalid control character at line 1, column 9."),
    ],
)
def test_json_errors_read_once(raw: bytes, expected: str) -> None:
    with pytest.raises(ImportFailed) as caught:
        load_export_bytes(raw)
    assert str(caught.value).endswith(f"(cut short or damaged?): {expected}")
    assert "at at" not in str(caught.value)


def test_an_escaped_surrogate_pair_is_one_character() -> None:
    data = load("original_v1_4.json")
    data["shortTermMemory"][0]["content"] = "\ud83d\ude00"  # as JSON: "\\ud83d\\ude00"
    raw = json.dumps(data, ensure_ascii=True).encode()
    assert b"\\ud83d\\ude00" in raw
    assert parse(load_export_bytes(raw)).snapshot.conversation[0].content == "😀"


def test_nan_literal_is_rejected_where_it_matters() -> None:
    raw = (DATA / "original_v1_4.json").read_bytes().replace(b"1735800100000", b"NaN")
    assert "shortTermMemory[4].timestamp" in failure(load_export_bytes(raw))


# --- preview ---------------------------------------------------------------


def test_summarize_snapshot() -> None:
    summary = summarize_snapshot(parse(load("original_v1_4.json")).snapshot)
    assert summary == {
        "self_name": "小叶子",
        "user_name": "阿明",
        "diary_entries": 2,
        "conversation_messages": 5,
        "archived_messages": 6,
        "archived_conversations": 2,
        "vectors": 1,
        "vector_dimensions": [5],
        "has_summary": True,
        "first_time": 1735600000000,
        "last_time": 1735800100000,
    }
    empty = MemorySnapshot(profile=DEFAULT)
    assert summarize_snapshot(empty)["first_time"] is None
