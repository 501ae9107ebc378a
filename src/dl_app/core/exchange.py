"""Import and export files, compatible with every version of the original app.

Pure code: the caller reads and writes the bytes. The flow of an import is
``load_export_bytes(raw)`` -> ``parse_export(data, default_profile=...)`` ->
``ImportResult``; an export is ``to_export(snapshot, version=...)`` ->
``dump_export_bytes(...)``. Field-by-field checking lives in
``exchange_reader``; ``ImportFailed`` lists up to ``MAX_PROBLEMS`` problems,
each as ``path: what`` (e.g. ``longTermMemory[3].startTime: expected a
number of milliseconds, got string '2024-01-01'``).

The file is the original's one JSON object (``selfName``, ``userName``,
``memoryAboutSelf``, ``memoryAboutUser``, ``longTermMemory``,
``shortTermMemory``, ``archivedMemory``, ``currentSummary``). Decisions:

* ``version`` is written LAST: the original keys keep their exact order as a
  prefix, and the original importer ignores keys it does not know. A file
  without ``version`` is the original's; ``ImportResult.source_version`` is
  then ``"original-1.4"`` (tool shapes seen; such files may still hold old
  ``memo`` messages), ``"original-1.0-1.3"`` (only legacy ``memo`` shapes
  seen) or ``"original"`` (cannot tell); otherwise it is our ``version``.
* Our extra fields (``id``, ``turnId``, ``reasoning`` per message,
  ``sourceIds`` and ``followUps`` per diary entry: ``exchange_followups``)
  follow the original fields; the original ignores them.
* Legacy (v1.0-1.3) recall messages, assistant messages with ``memo: true``
  and/or ``recall: [uuid, ...]``, become the v1.4 pair: an assistant message
  calling ``get_memory`` (empty description: the old file did not keep it)
  and a tool message holding the old content and the recalls
  (similarity 0). The conversation then has one shape everywhere, the
  context window trims the pair as a unit, and the original v1.4 can read
  our export.
* ``system`` messages (the original's importer accepted any role string) are
  dropped with a warning; any other unknown role is an error.
* Archived messages whose ``belongTo`` names no diary entry are kept, with a
  warning; so are recalls of uuids missing from the diary.
* Messages without ``id`` get ``uuid5(ID_NAMESPACE, key)``: the key is the
  diary uuid and position for archived messages, the first timestamp and
  position for the current conversation. Re-importing the same file, or a
  later export of the same original memory, gives the same ids. Without
  ``turnId``, a user message starts a turn (turn id = its id) and the
  assistant/tool messages after it join that turn.
* Unknown fields are ignored and reported in the warnings; ``null`` counts
  as absent for the optional fields. Timestamps are ms since the epoch:
  finite non-negative numbers (fractions rounded), never booleans. An
  empty ``vector`` counts as absent.
* Limits against hostile files: ``MAX_FILE_BYTES`` per file, ``max_items``
  per list, ``MAX_TEXT_CHARS`` per text, ``MAX_NAME_CHARS`` per name,
  ``MAX_ID_CHARS`` per id, ``MAX_VECTOR_DIM`` per vector; too deep nesting
  is refused while decoding.
* Text is kept verbatim (``<script>`` included): it is plain text, never
  rendered as HTML. It must be valid Unicode everywhere in the file: a lone
  UTF-16 surrogate (only a JSON escape such as ``"\\ud800"`` makes one) is
  an error at its path, since no store can encode it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import FieldPath, ImportFailed, Text, msg
from .exchange_checks import (
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_PROBLEMS,
    MAX_TEXT_CHARS,
    MAX_VECTOR_DIM,
    describe,
    finite,
    short,
)
from .exchange_followups import follow_ups_out, read_follow_ups
from .exchange_reader import ID_NAMESPACE, TOP_KEYS, Reader, next_turn
from .models import ArchivedMessage, DiaryEntry, FollowUp, MemorySnapshot, Message, Profile

__all__ = [
    "ID_NAMESPACE",
    "MAX_FILE_BYTES",
    "MAX_ID_CHARS",
    "MAX_ITEMS",
    "MAX_NAME_CHARS",
    "MAX_PROBLEMS",
    "MAX_TEXT_CHARS",
    "MAX_VECTOR_DIM",
    "TOP_KEYS",
    "ImportResult",
    "dump_export_bytes",
    "load_export_bytes",
    "parse_export",
    "summarize_snapshot",
    "to_export",
]


@dataclass(frozen=True)
class ImportResult:
    """A parsed file: the memory, what the user should know, where it came from."""

    snapshot: MemorySnapshot
    warnings: list[Text] = field(default_factory=list)
    source_version: str = "original"


def load_export_bytes(raw: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """Decode a file's bytes as JSON; any failure is an ``ImportFailed`` saying where.

    Accepts UTF-8 (with or without BOM) and UTF-16 with BOM.
    """
    if len(raw) > max_bytes:
        raise ImportFailed(msg("import.too_large", mb=len(raw) / 1e6, limit=max_bytes / 1e6))
    if not raw or raw.isspace():
        raise ImportFailed(msg("import.empty"))
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
    try:
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise ImportFailed(msg("import.not_utf8", byte=f"0x{raw[err.start]:02x}", line=line,
                               col=col, at=err.start)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportFailed(msg(
            "import.bad_json",
            # some messages end in "at" ("Unterminated string starting at")
            why=err.msg.removesuffix(" at"), line=err.lineno, col=err.colno,
        )) from None
    except RecursionError:
        raise ImportFailed(msg("import.too_deep")) from None
    except ValueError as err:  # e.g. an integer literal with thousands of digits
        raise ImportFailed(msg("import.not_json", why=str(err))) from None


def dump_export_bytes(export: dict[str, Any], *, pretty: bool = True) -> bytes:
    """Encode ``to_export``'s dict as UTF-8 JSON (2-space indent like the original)."""
    text = json.dumps(export, ensure_ascii=False, allow_nan=False, indent=2 if pretty else None)
    return text.encode("utf-8")


def parse_export(
    data: Any, *, default_profile: Profile, max_items: int = MAX_ITEMS
) -> ImportResult:
    """Validate an export of any version (already ``json.loads``-ed) and convert it.

    Raises ``ImportFailed`` listing up to ``MAX_PROBLEMS`` problems, each as
    ``path: what``. Empty ``selfName``/``userName``/``memoryAboutSelf`` fall
    back to ``default_profile`` (as in the original), with a warning.
    ``max_items`` bounds each list. Lists keep the file's order.
    """
    if not isinstance(data, dict):
        raise ImportFailed(msg("import.not_object", got=describe(data)))
    r = Reader(max_items)
    _check_unicode(data, r)
    r.note_unknown("top level", data, frozenset((*TOP_KEYS, "version")))
    version = r.text(data, "version", "version", limit=MAX_NAME_CHARS, nonempty=True, need=False)
    names = [r.text(data, k, k, limit=MAX_NAME_CHARS) for k in ("selfName", "userName")]
    abouts = [r.text(data, k, k) for k in ("memoryAboutSelf", "memoryAboutUser")]
    summary = r.text(data, "currentSummary", "currentSummary")
    diary, vectors = r.diary(data)
    follow_ups = read_follow_ups(r, data)
    conversation = r.messages(data, "shortTermMemory", archived=False)
    archive = r.messages(data, "archivedMemory", archived=True)
    if r.problem_count:
        raise ImportFailed(r.report())

    given = (*names, abouts[0])
    dp = default_profile
    defaults = (dp.self_name, dp.user_name, dp.memory_about_self)
    for key, value, default in zip(TOP_KEYS[:3], given, defaults, strict=True):
        if not value.strip():
            r.warn(msg("import.warn.default_name", field=FieldPath(key), default=short(default)))
    profile = Profile(
        self_name=names[0] if names[0].strip() else defaults[0],
        user_name=names[1] if names[1].strip() else defaults[1],
        memory_about_self=abouts[0] if abouts[0].strip() else defaults[2],
        memory_about_user=abouts[1],
    )
    r.cross_check(diary, conversation, archive)
    snapshot = MemorySnapshot(
        profile=profile,
        current_summary=summary,
        conversation=conversation,
        archive=[m for m in archive if isinstance(m, ArchivedMessage)],
        diary=diary,
        vectors=vectors,
        follow_ups=follow_ups,
    )
    if version:
        source = version
    elif r.saw_tools:
        source = "original-1.4"
    else:
        source = "original-1.0-1.3" if r.saw_legacy else "original"
    return ImportResult(snapshot, r.final_warnings(), source)


def to_export(
    snapshot: MemorySnapshot, *, version: str, vectors: dict[str, list[float]] | None = None
) -> dict[str, Any]:
    """The export object: the original's keys in its order, then ``version``.

    Diary newest first (by end, then start time); conversation as given;
    archive grouped by conversation, newest conversation first, each group in
    the order given. ``vectors`` defaults to ``snapshot.vectors``; vectors
    with non-finite values are left out (JSON cannot hold them).
    """
    vecs = snapshot.vectors if vectors is None else vectors
    diary = sorted(snapshot.diary, key=lambda e: (e.end_time, e.start_time), reverse=True)
    follows: dict[str, list[FollowUp]] = {}
    for f in snapshot.follow_ups:
        follows.setdefault(f.entry, []).append(f)
    p = snapshot.profile
    return {
        "selfName": p.self_name,
        "userName": p.user_name,
        "memoryAboutSelf": p.memory_about_self,
        "memoryAboutUser": p.memory_about_user,
        "longTermMemory": [_entry_out(e, vecs.get(e.uuid), follows.get(e.uuid, []))
                           for e in diary],
        "shortTermMemory": _messages_out(snapshot.conversation),
        "archivedMemory": _messages_out(_archive_order(snapshot.archive, diary)),
        "currentSummary": snapshot.current_summary,
        "version": version,
    }


def summarize_snapshot(snapshot: MemorySnapshot) -> dict[str, Any]:
    """Counts, time range (ms) and names, for an import preview."""
    times = [t for e in snapshot.diary for t in (e.start_time, e.end_time)]
    times += [m.timestamp for m in (*snapshot.conversation, *snapshot.archive)]
    uuids = {e.uuid for e in snapshot.diary}
    vecs = {k: v for k, v in snapshot.vectors.items() if k in uuids and v}
    return {
        "self_name": snapshot.profile.self_name,
        "user_name": snapshot.profile.user_name,
        "diary_entries": len(snapshot.diary),
        "conversation_messages": len(snapshot.conversation),
        "archived_messages": len(snapshot.archive),
        "archived_conversations": len({m.belong_to for m in snapshot.archive}),
        "vectors": len(vecs),
        "vector_dimensions": sorted({len(v) for v in vecs.values()}),
        "has_summary": bool(snapshot.current_summary.strip()),
        "first_time": min(times, default=None),
        "last_time": max(times, default=None),
    }


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _surrogate(text: str) -> Text | None:
    """What is wrong with ``text`` if it holds a lone surrogate, else None."""
    found = None if text.isascii() else _SURROGATE.search(text)
    if found is None:
        return None
    return msg("import.surrogate", code=f"\\u{ord(found[0]):04x}", at=found.start())


def _check_unicode(data: dict[str, Any], r: Reader) -> None:
    """Report every string and field name holding a lone surrogate, at its path
    (in file order; paths are built only for containers and failures)."""

    def path(parent: str, key: str | int) -> str:
        return f"{parent}[{key}]" if isinstance(key, int) else f"{parent}.{key}" if parent else key

    stack: list[tuple[str, str | int, Any]] = [("", "", data)]
    while stack:
        parent, key, value = stack.pop()
        if isinstance(value, str):
            if (what := _surrogate(value)) is not None:
                r.fail(path(parent, key), what)
            continue
        here = path(parent, key)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in reversed(list(items)):
            if isinstance(k, str) and (what := _surrogate(k)) is not None:
                r.fail(f"{here or 'top level'}, field name {k!a}", what)
            elif isinstance(v, str | dict | list):
                stack.append((here, k, v))


# --- export helpers -------------------------------------------------------


def _entry_out(
    entry: DiaryEntry, vector: list[float] | None, follow_ups: list[FollowUp]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "uuid": entry.uuid,
        "title": entry.title,
        "summary": entry.summary,
        "startTime": entry.start_time,
        "endTime": entry.end_time,
    }
    if vector and all(math.isfinite(x) for x in vector):
        out["vector"] = [float(x) for x in vector]
    if entry.source_ids:
        out["sourceIds"] = list(entry.source_ids)
    if follow_ups:
        out["followUps"] = follow_ups_out(follow_ups)
    return out


def _messages_out(messages: Iterable[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    turn = ""
    group: str | None = None
    for m in messages:
        belong = m.belong_to if isinstance(m, ArchivedMessage) else ""
        if belong != group:
            group, turn = belong, ""
        turn = next_turn(m.turn_id, m.role, m.id, turn)
        item: dict[str, Any] = {"role": m.role, "content": m.content, "timestamp": m.timestamp}
        if m.tool_calls:
            item["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in m.tool_calls
            ]
        if m.tool_call_id:
            item["tool_call_id"] = m.tool_call_id
        if m.role == "tool":  # automatic recall's quotes on a user message stay in the app
            item["recall"] = [
                {"uuid": c.uuid, "similarity": finite(c.similarity), "desc": c.desc}
                for c in m.recall
            ]
        if isinstance(m, ArchivedMessage):
            item["belongTo"] = m.belong_to
        item["id"] = m.id
        item["turnId"] = turn
        if m.reasoning:
            item["reasoning"] = m.reasoning
        out.append(item)
    return out


def _archive_order(
    archive: list[ArchivedMessage], diary: list[DiaryEntry]
) -> list[ArchivedMessage]:
    """Group by conversation; newest conversation first; keep order inside a group."""
    groups: dict[str, list[ArchivedMessage]] = {}
    for m in archive:
        groups.setdefault(m.belong_to, []).append(m)
    end = {e.uuid: e.end_time for e in diary}

    def when(key: str) -> int:
        return end.get(key, max(m.timestamp for m in groups[key]))

    order = sorted(groups, key=when, reverse=True)
    return [m for key in order for m in groups[key]]
