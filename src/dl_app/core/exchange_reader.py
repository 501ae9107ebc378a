"""Validation and conversion of import files; used by ``exchange`` only.

``Reader`` checks a loaded file field by field, collecting problems (each as
``path: what``, catalogue words with the path a ``FieldPath``: in Chinese
``日记第 2 条的开始时间``) and warnings; see ``exchange`` for the decisions it applies.
"""

from __future__ import annotations

import math
import uuid as _uuid
from dataclasses import dataclass
from typing import Any, cast

from .errors import FieldPath, Text, msg
from .exchange_checks import (
    MAX_ID_CHARS,
    MAX_RECALLS,
    MAX_TOOL_CALLS,
    MAX_VECTOR_DIM,
    Checks,
    describe,
    short,
)
from .models import ArchivedMessage, DiaryEntry, Message, Recall, Role, ToolCall

ID_NAMESPACE = _uuid.UUID("f561b53c-ff9b-51be-955f-61fab7926816")

TOP_KEYS = (
    "selfName",
    "userName",
    "memoryAboutSelf",
    "memoryAboutUser",
    "longTermMemory",
    "shortTermMemory",
    "archivedMemory",
    "currentSummary",
)
_ENTRY_KEYS = frozenset(
    {"uuid", "title", "summary", "startTime", "endTime", "vector", "sourceIds", "followUps"}
)
_MESSAGE_KEYS = frozenset(
    {"role", "content", "timestamp", "tool_calls", "tool_call_id", "recall", "memo"}
    | {"id", "turnId", "reasoning"}
)
_ARCHIVED_KEYS = _MESSAGE_KEYS | {"belongTo"}
_ROLES = ("user", "assistant", "tool", "system")


def next_turn(given: str, role: str, msg_id: str, current: str) -> str:
    """The turn of a message: its own, or a user message starts one, or the current one."""
    if given:
        return given
    if role == "user" or not current:
        return msg_id
    return current


def derive_id(key: str) -> str:
    return str(_uuid.uuid5(ID_NAMESPACE, key))


@dataclass
class Msg:
    """A validated message before ids and turns are assigned."""

    role: str
    content: str
    timestamp: int
    msg_id: str
    turn_id: str
    tool_calls: list[ToolCall]
    tool_call_id: str | None
    recall: list[Recall]
    reasoning: str
    legacy: bool  # a v1.0-1.3 recall message to convert
    belong_to: str


class Reader(Checks):
    """Validates field by field; collects problems, warnings and what it saw.

    Getters always return a value of the right type (a placeholder after a
    problem), so one pass finds every problem; nothing is built from a file
    with problems because ``parse_export`` raises first.
    """

    def __init__(self, max_items: int) -> None:
        super().__init__(max_items)
        self.unknown: dict[str, dict[str, int]] = {}
        self.dropped_system: dict[str, int] = {}
        self.converted: dict[str, int] = {}
        self.saw_tools = False
        self.saw_legacy = False
        self.seen_ids: dict[str, str] = {}  # message id -> where first seen

    def note_unknown(self, where: str, obj: dict[str, Any], known: frozenset[str]) -> None:
        if obj.keys() <= known:
            return
        for key in obj:
            if key not in known:
                seen = self.unknown.setdefault(where, {})
                name = key if len(seen) < 10 or key in seen else "…"
                seen[name] = seen.get(name, 0) + 1

    def final_warnings(self) -> list[Text]:
        out = list(self.warnings)
        for where, count in self.converted.items():
            out.append(msg("import.warn.converted", where=FieldPath(where), n=count))
        for where, count in self.dropped_system.items():
            out.append(msg("import.warn.dropped_system", where=FieldPath(where), n=count))
        for where, keys in self.unknown.items():
            listed = ", ".join(f"{short(k)} ({n}×)" for k, n in keys.items())
            if where == "top level":
                out.append(msg("import.warn.unknown_top", listed=listed))
            else:
                out.append(msg("import.warn.unknown", where=FieldPath(where), listed=listed))
        return out

    # diary

    def diary(self, data: dict[str, Any]) -> tuple[list[DiaryEntry], dict[str, list[float]]]:
        entries: list[DiaryEntry] = []
        vectors: dict[str, list[float]] = {}
        first_at: dict[str, int] = {}
        inverted: list[str] = []
        for i, item in enumerate(self.top_list(data, "longTermMemory", "entries")):
            path = f"longTermMemory[{i}]"
            if not isinstance(item, dict):
                self.fail(path, msg("import.not_entry", got=describe(item)))
                continue
            self.note_unknown("longTermMemory", item, _ENTRY_KEYS)
            uid = self.ident(item, "uuid", path)
            if uid in first_at:
                also = FieldPath(f"longTermMemory[{first_at[uid]}]")
                self.fail(f"{path}.uuid", msg("import.duplicate_uuid", uuid=short(uid), also=also))
            elif uid:
                first_at[uid] = i
            title = self.text(item, "title", f"{path}.title")
            summary = self.text(item, "summary", f"{path}.summary")
            start = self.millis(item, "startTime", f"{path}.startTime")
            end = self.millis(item, "endTime", f"{path}.endTime")
            if start > end:
                inverted.append(path)
            vector = self.vector(item.get("vector"), f"{path}.vector")
            if vector and uid:
                vectors[uid] = vector
            sources: list[str] = []
            if item.get("sourceIds") is not None:
                raw = self.array(item["sourceIds"], f"{path}.sourceIds", self.max_items, "ids")
                for j, sid in enumerate(raw):
                    p = f"{path}.sourceIds[{j}]"
                    sources.append(self.string(sid, p, limit=MAX_ID_CHARS, nonempty=True))
            entries.append(
                DiaryEntry(
                    uuid=uid or "-",
                    title=title,
                    summary=summary,
                    start_time=start,
                    end_time=end,
                    source_ids=sources,
                )
            )
        if inverted:
            self.warn(msg("import.warn.inverted", n=len(inverted), first=FieldPath(inverted[0])))
        return entries, vectors

    def vector(self, value: Any, path: str) -> list[float]:
        if value is None:
            return []
        raw = self.array(value, path, MAX_VECTOR_DIM, "numbers")
        if all(type(x) is float for x in raw):  # fast path: fsum is NaN/inf if any x is
            try:
                if math.isfinite(math.fsum(raw)):
                    return list(raw)
            except (OverflowError, ValueError):
                pass
        out: list[float] = []
        for j, x in enumerate(raw):
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                self.fail(f"{path}[{j}]", msg("import.not_finite", got=describe(x)))
                return []
            out.append(float(x))
        return out

    # messages

    def messages(self, data: dict[str, Any], key: str, *, archived: bool) -> list[Message]:
        """Validate one message list, then give ids and turns (see ``exchange``)."""
        raws: list[tuple[int, Msg]] = []
        for i, item in enumerate(self.top_list(data, key, "messages")):
            found = self.message(item, f"{key}[{i}]", key, archived=archived)
            if found is not None:
                raws.append((i, found))
        first_ts = raws[0][1].timestamp if raws else 0
        out: list[Message] = []
        positions: dict[str, int] = {}
        group: str | None = None
        turn = ""
        for i, m in raws:
            if m.belong_to != group:
                group, turn = m.belong_to, ""
            pos = positions[group] = positions.get(group, -1) + 1
            base = f"{key}/{m.belong_to}/{pos}" if archived else f"{key}/{first_ts}/{pos}"
            if m.role == "system" and not m.legacy:
                self.dropped_system[key] = self.dropped_system.get(key, 0) + 1
                continue
            msg_id = m.msg_id or derive_id(base)
            self.claim_id(msg_id, f"{key}[{i}]")
            if self.problem_count:  # only looking for more problems now
                continue
            role: Role = "tool" if m.legacy else cast(Role, m.role)
            turn = next_turn(m.turn_id, role, msg_id, turn)
            common: dict[str, Any] = {"timestamp": m.timestamp, "turn_id": turn}
            if archived:
                common["belong_to"] = m.belong_to
            cls = ArchivedMessage if archived else Message
            if m.legacy:  # becomes a get_memory call plus its tool result
                self.converted[key] = self.converted.get(key, 0) + 1
                call_msg_id = derive_id(base + "/call")
                self.claim_id(call_msg_id, f"{key}[{i}]")
                call = ToolCall(
                    id="call_" + call_msg_id.replace("-", "")[:24],
                    name="get_memory",
                    arguments='{"memoryDescription": ""}',
                )
                out.append(cls(id=call_msg_id, role="assistant", tool_calls=[call], **common))
                m.tool_call_id = call.id
            out.append(
                cls(
                    id=msg_id,
                    role=role,
                    content=m.content,
                    tool_calls=m.tool_calls,
                    tool_call_id=m.tool_call_id,
                    recall=m.recall,
                    reasoning=m.reasoning,
                    **common,
                )
            )
        return out

    def message(self, item: Any, path: str, where: str, *, archived: bool) -> Msg | None:
        if not isinstance(item, dict):
            self.fail(path, msg("import.not_message", got=describe(item)))
            return None
        self.note_unknown(where, item, _ARCHIVED_KEYS if archived else _MESSAGE_KEYS)
        role = self.text(item, "role", f"{path}.role", limit=MAX_ID_CHARS, nonempty=True)
        if role and role not in _ROLES:
            self.fail(f"{path}.role", msg("import.bad_role", got=describe(role)))
        memo = item.get("memo")
        if memo is not None and not isinstance(memo, bool):
            self.fail(f"{path}.memo", msg("import.not_boolean", got=describe(memo)))
        m = Msg(
            role=role,
            content=self.text(item, "content", f"{path}.content"),
            timestamp=self.millis(item, "timestamp", f"{path}.timestamp"),
            msg_id=self.ident(item, "id", path, need=False),
            turn_id=self.text(item, "turnId", f"{path}.turnId", limit=MAX_ID_CHARS, need=False),
            tool_calls=self.tool_calls(item.get("tool_calls"), f"{path}.tool_calls"),
            tool_call_id=self.ident(item, "tool_call_id", path, need=False) or None,
            recall=[],
            reasoning=self.text(item, "reasoning", f"{path}.reasoning", need=False),
            legacy=False,
            belong_to=self.ident(item, "belongTo", path) if archived else "",
        )
        m.recall, legacy_ids = self.recall(item.get("recall"), f"{path}.recall")
        self.saw_tools |= bool(m.tool_calls or m.tool_call_id or role == "tool")
        mismatch = [
            ("tool_calls", bool(m.tool_calls), "assistant", "import.only_assistant_calls"),
            ("tool_call_id", bool(m.tool_call_id), "tool", "import.only_tool_answers"),
            ("recall", bool(m.recall) and not legacy_ids, "tool", "import.recall_needs_tool"),
        ]
        for key, present, wanted, what in mismatch:
            if present and role != wanted:
                self.fail(f"{path}.{key}", msg(what, role=repr(role)))
        if memo is True or legacy_ids:
            self.saw_legacy = True
            if role not in ("assistant", "system", "tool"):
                self.fail(f"{path}.memo", msg("import.legacy_role", role=repr(role)))
            if m.tool_calls:
                self.fail(f"{path}.memo", msg("import.legacy_calls"))
            m.legacy = role != "tool"  # a tool message with uuid strings just keeps its recalls
        return m

    def ident(self, obj: dict[str, Any], key: str, path: str, *, need: bool = True) -> str:
        """A non-empty id-like string field ``obj[key]``."""
        return self.text(obj, key, f"{path}.{key}", limit=MAX_ID_CHARS, nonempty=True, need=need)

    def tool_calls(self, value: Any, path: str) -> list[ToolCall]:
        if value is None:
            return []
        out: list[ToolCall] = []
        for j, call in enumerate(self.array(value, path, MAX_TOOL_CALLS, "tool_calls")):
            p = f"{path}[{j}]"
            if not isinstance(call, dict):
                self.fail(p, msg("import.not_tool_call", got=describe(call)))
                continue
            call_id = self.ident(call, "id", p)
            if call.get("type", "function") != "function":
                self.fail(f"{p}.type", msg("import.not_function", got=describe(call["type"])))
            fn = call.get("function")
            if not isinstance(fn, dict):
                got = msg("import.missing") if "function" not in call else msg(
                    "import.got", got=describe(fn))
                self.fail(f"{p}.function", msg("import.not_fn_object", got=got))
                continue
            name = self.ident(fn, "name", f"{p}.function")
            args = self.text(fn, "arguments", f"{p}.function.arguments")
            out.append(ToolCall(id=call_id, name=name, arguments=args))
        return out

    def recall(self, value: Any, path: str) -> tuple[list[Recall], bool]:
        """Recall objects (v1.4) or uuid strings (legacy); the flag tells which."""
        if value is None:
            return [], False
        items = self.array(value, path, MAX_RECALLS, "recalls")
        if items and all(isinstance(x, str) for x in items):
            ids = [
                self.string(x, f"{path}[{j}]", limit=MAX_ID_CHARS, nonempty=True)
                for j, x in enumerate(items)
            ]
            return [Recall(uuid=x) for x in ids], True
        out: list[Recall] = []
        for j, x in enumerate(items):
            p = f"{path}[{j}]"
            if not isinstance(x, dict):
                self.fail(p, msg("import.not_recall", got=describe(x)))
                continue
            uid = self.ident(x, "uuid", p)
            sim = x.get("similarity")
            sim = 0.0 if sim is None else self.number(sim, f"{p}.similarity")
            desc = self.text(x, "desc", f"{p}.desc", need=False)
            out.append(Recall(uuid=uid, similarity=sim, desc=desc))
        return out, False

    # whole-file checks

    def claim_id(self, msg_id: str, path: str) -> None:
        if msg_id in self.seen_ids:
            also = FieldPath(self.seen_ids[msg_id])
            self.fail(f"{path}.id", msg("import.duplicate_id", id=short(msg_id), also=also))
        else:
            self.seen_ids[msg_id] = path

    def cross_check(
        self, diary: list[DiaryEntry], conversation: list[Message], archive: list[Message]
    ) -> None:
        known = {e.uuid for e in diary}
        orphans = [
            m for m in archive if isinstance(m, ArchivedMessage) and m.belong_to not in known
        ]
        if orphans:
            groups = list(dict.fromkeys(m.belong_to for m in orphans))
            self.warn(msg("import.warn.orphans", n=len(orphans), entries=len(groups),
                          example=short(groups[0])))
        missing = [
            c.uuid for m in (*conversation, *archive) for c in m.recall if c.uuid not in known
        ]
        if missing:
            self.warn(msg("import.warn.missing_recalls", n=len(missing), example=short(missing[0])))
