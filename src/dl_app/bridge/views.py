"""The JSON shapes of the chat history and the context inspector."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..core.models import ConversationState, DiaryEntry, FollowUp, Message
from ..memory import ContextPreview

__all__ = ["attachments", "follow_up", "history", "preview"]


def attachments(m: Message) -> list[dict[str, Any]]:
    """A message's attachments for the page (the files come from ``attachment_get``)."""
    return [
        {"id": a.id, "kind": a.kind, "name": a.name, "mime": a.mime, "note": a.description}
        for a in m.attachments
    ]


def history(
    state: ConversationState,
    find_entry: Callable[[str], DiaryEntry | None],
    checkins: Mapping[str, DiaryEntry | None] | None = None,
) -> list[dict[str, Any]]:
    """User messages and replies; tool messages (and automatic recall, kept on
    the user's message) fold into ``recalled`` of the reply (titles of entries
    recalled earlier come from ``find_entry``). ``checkins``: message id -> the
    diary entry a check-in came from, shown as what that message recalled."""
    checkins = checkins or {}
    titles = {e.uuid: e.title for e in state.recalled}
    out: list[dict[str, Any]] = []
    pending: list[dict[str, str]] = []
    for m in state.messages:
        for r in m.recall:  # a tool's results, or what automatic recall found
            title = titles.get(r.uuid)
            if title is None:
                entry = find_entry(r.uuid)
                title = entry.title if entry else ""
            pending.append({"uuid": r.uuid, "title": title})
        if m.role == "tool":
            continue
        if m.role == "assistant" and m.tool_calls:
            continue  # the request for a recall; its results fold into the reply
        reply = m.role == "assistant"
        source = checkins.get(m.id)
        if reply and not pending and source is not None:
            pending = [{"uuid": source.uuid, "title": source.title}]
        out.append({
            "id": m.id, "role": m.role, "content": m.content, "reasoning": m.reasoning,
            "timestamp": m.timestamp, "recalled": pending if reply else [],
            "attachments": attachments(m), "stopped": m.stopped,
            "cut_off": m.cut_off,
        })
        if reply:
            pending = []
    return out


def follow_up(f: FollowUp, entry: DiaryEntry | None = None) -> dict[str, Any]:
    """A follow-up for the page; ``title``: the diary entry it came from (when given)."""
    return {"id": f.id, "what": f.what, "when": f.when, "entry": f.entry,
            "title": entry.title if entry is not None else None,
            "asked_at": f.asked_at, "message_id": f.message_id or None}


def preview(p: ContextPreview) -> dict[str, Any]:
    """The next request and its accounting. ``prompt_tokens`` = ``fixed_tokens``
    (system message with the sections, tools, priming) + ``history_tokens`` +
    ``current_tokens``; ``request_tokens`` adds the answer's reserve. ``rejected``:
    housekeeping outputs not stored, newest first."""
    plan = p.plan
    return {
        "budget": plan.budget.total,
        "reply_tokens": plan.budget.reply,
        "prompt_tokens": plan.prompt_tokens,
        "request_tokens": plan.request_tokens,
        "fixed_tokens": plan.prompt_tokens - plan.history_tokens - plan.current_tokens,
        "tools_tokens": p.tools_tokens,
        "history_tokens": plan.history_tokens,
        "current_tokens": plan.current_tokens,
        "current_truncated": plan.current_truncated,
        "window_start": plan.window_start,
        "dropped_turns": plan.dropped_turns,
        "sections": [
            {"name": s.name, "text": s.text, "tokens": s.tokens, "cap": s.cap}
            for s in plan.sections
        ],
        "messages": plan.messages,
        "last_recall": [
            {"uuid": h.entry.uuid, "title": h.entry.title, "score": h.score,
             "similarity": h.similarity}
            for h in p.last_recall
        ],
        "rejected": [
            {"kind": r.kind, "reason": r.reason, "detail": r.detail, "at": r.at_ms}
            for r in reversed(p.rejected)
        ],
        "checkins": [follow_up(f, e) for f, e in p.checkins],
    }
