"""Hostile import files, generated: for tests/library/test_import_fuzz.py.

``hostile_files()`` is a Hypothesis strategy of ``(kind, bytes)``: a valid
export (random names, texts, diary entries and messages), then one way of
spoiling it: cut short, a value of the wrong type somewhere, a lone
surrogate, invalid UTF-8, NaN/Infinity, huge and deeply nested values,
duplicate ids, unknown or empty roles, unknown keys, binary, other encodings.
Some of them are still valid memory (a UTF-16 file with a BOM, an unknown
key); the test does not predict which, it checks what happens either way.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from memory_helpers import DAY, T0

# Text of every script, no surrogates (Hypothesis leaves them out by default).
TEXT = st.text(max_size=30)
NAMES = st.text(min_size=1, max_size=12).filter(str.strip)

HOSTILE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, -1e308, 10**30, float("nan"), float("inf"),
    float("-inf"), "", "文本", "\u0000", "<script>alert(1)</script>", [], [1, "a"], {},
    {"role": "user"},
]
ROLES = ["", "system", "User", "bot", "tool", "assistant", " user", None, 5, ["user"]]
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "gbk", "big5",
             "latin-1", "cp1252"]


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


@st.composite
def exports(draw: st.DrawFn) -> dict[str, Any]:
    """A valid export: 0-3 diary entries with 0-3 archived messages each (and
    0-2 follow-ups for some), 0-4 messages of the current conversation, random
    text everywhere."""
    diary, archive = [], []
    for i in range(draw(st.integers(0, 3))):
        uuid = f"00000000-0000-4000-8000-{i:012d}"
        start = T0 + i * DAY
        entry = {"uuid": uuid, "title": draw(TEXT), "summary": draw(TEXT),
                 "startTime": start, "endTime": start + 3_600_000}
        if draw(st.booleans()):  # the optional follow-ups (issue 19)
            entry["followUps"] = [
                {"what": draw(NAMES), "when": _day(start + (k + 1) * DAY),
                 **({"askedAt": start + 2 * DAY} if draw(st.booleans()) else {})}
                for k in range(draw(st.integers(0, 2)))
            ]
        diary.append(entry)
        for j in range(draw(st.integers(0, 3))):
            archive.append({"role": ("user", "assistant")[j % 2], "content": draw(TEXT),
                            "timestamp": start + j * 1000, "belongTo": uuid})
    conversation = [
        {"role": ("user", "assistant")[j % 2], "content": draw(TEXT),
         "timestamp": T0 + 10 * DAY + j * 1000}
        for j in range(draw(st.integers(0, 4)))
    ]
    return {
        "selfName": draw(NAMES), "userName": draw(NAMES),
        "memoryAboutSelf": draw(TEXT), "memoryAboutUser": draw(TEXT),
        "longTermMemory": diary, "shortTermMemory": conversation, "archivedMemory": archive,
        "currentSummary": draw(TEXT),
    }


def paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root too), as key/index tuples."""
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*here, i))
    return out


def put(data: Any, where: tuple[Any, ...], value: Any) -> Any:
    """``data`` with the value at ``where`` replaced (the root: ``value`` itself)."""
    if not where:
        return value
    data = copy.deepcopy(data)
    parent = data
    for k in where[:-1]:
        parent = parent[k]
    parent[where[-1]] = value
    return data


def dumps(data: Any) -> bytes:
    """JSON as the original app writes it (NaN and Infinity as JSON words)."""
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def messages_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [*data["shortTermMemory"], *data["archivedMemory"]]


KINDS = ("valid", "truncated", "retyped", "surrogate", "bad-utf8", "binary", "encoding",
         "duplicate-uuid", "duplicate-id", "role", "keys", "huge", "deep")


@st.composite
def hostile_files(draw: st.DrawFn, kind: str) -> tuple[str, bytes]:
    """A file of ``kind`` (one of ``KINDS``); ``("valid", ...)`` when the drawn
    export has nothing to spoil that way (no messages to give a bad role)."""
    data = draw(exports())
    raw = dumps(data)
    if kind == "valid":
        return kind, raw
    if kind == "truncated":
        return kind, raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "retyped":
        where = draw(st.sampled_from(paths(data)))
        return kind, dumps(put(data, where, draw(st.sampled_from(HOSTILE_VALUES))))
    if kind == "surrogate":
        texts = [p for p in paths(data) if p and isinstance(_at(data, p), str)]
        code = draw(st.sampled_from(["\ud800", "\udfff", "\udc80"]))
        if not texts or draw(st.booleans()):  # a field name
            where = draw(st.sampled_from([p for p in paths(data) if isinstance(_at(data, p), dict)]))
            bad = put(data, where, {**_at(data, where), f"k{code}": 1})
        else:
            where = draw(st.sampled_from(texts))
            bad = put(data, where, f"a{code}b{_at(data, where)}")
        if draw(st.booleans()):  # as a JSON escape, or as its UTF-8 bytes (CESU)
            return kind, json.dumps(bad).encode("ascii")
        return kind, json.dumps(bad, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if kind == "bad-utf8":
        at = draw(st.integers(0, len(raw)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xe4\xb8", b"\x80", b"\xf8\x88\x80"]))
        return kind, raw[:at] + junk + raw[at:]
    if kind == "binary":
        return kind, draw(st.binary(max_size=200))
    if kind == "encoding":
        enc = draw(st.sampled_from(ENCODINGS))
        return kind, json.dumps(data, ensure_ascii=False).encode(enc, "replace")
    if kind == "duplicate-uuid" and len(data["longTermMemory"]) >= 1:
        entries = data["longTermMemory"]
        twin = dict(draw(st.sampled_from(entries)))
        if draw(st.booleans()):
            twin["title"] = "twin"
        entries.append(twin)
        return kind, dumps(data)
    if kind == "duplicate-id" and messages_of(data):
        msgs = messages_of(data)
        for i, m in enumerate(msgs):
            m["id"] = f"m{i}"
        draw(st.sampled_from(msgs))["id"] = draw(st.sampled_from(msgs))["id"]
        msgs[-1]["id"] = msgs[0]["id"]
        return kind, dumps(data)
    if kind == "role" and messages_of(data):
        draw(st.sampled_from(messages_of(data)))["role"] = draw(st.sampled_from(ROLES))
        return kind, dumps(data)
    if kind == "keys":
        where = draw(st.sampled_from([p for p in paths(data) if isinstance(_at(data, p), dict)]))
        obj = dict(_at(data, where))
        if obj and draw(st.booleans()):
            del obj[draw(st.sampled_from(sorted(obj)))]
        else:
            obj[draw(st.sampled_from(["", " ", "__proto__", "extra", "版本"]))] = draw(TEXT)
        return kind, dumps(put(data, where, obj))
    if kind == "huge":
        where = draw(st.sampled_from(paths(data)))
        value = draw(st.sampled_from(["x" * 1_000_001, "名" * 1_001, "9" * 5000, 10**400]))
        if value == "9" * 5000:  # an integer literal of 5000 digits
            return kind, dumps(put(data, where, "@@")).replace(b'"@@"', value.encode())
        return kind, dumps(put(data, where, value))
    if kind == "deep":
        where = draw(st.sampled_from(paths(data)))
        depth = draw(st.sampled_from([50, 5_000, 200_000]))
        nested = b"[" * depth + b"]" * depth
        return kind, dumps(put(data, where, "@@")).replace(b'"@@"', nested)
    return "valid", raw


def _at(data: Any, where: tuple[Any, ...]) -> Any:
    for k in where:
        data = data[k]
    return data
