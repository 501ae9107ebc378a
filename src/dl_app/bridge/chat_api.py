"""The chat's bridge methods: history, sending, stopping, regenerating and
editing, attachments, ending the conversation, the budget gauge, the context
inspector, and the diary's index.
See ``docs/bridge-api.md``."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

from ..adapters.documents import decode_base64
from ..core.emotion import emotion_of
from ..core.engine import DeltaFn, EventFn, TurnResult
from ..core.errors import DLError
from ..core.ports import ChatDelta
from ..memory import Memory
from ..messages import error_text, render
from . import views
from .backup_api import after_diary
from .context import Context
from .params import (
    AttachmentParams,
    ChatParams,
    EditParams,
    NoParams,
    PreviewParams,
    RebuildParams,
    TextParams,
    TurnParams,
)
from .registry import Methods

__all__ = ["methods"]

methods = Methods()
# The latest check-ins whose diary entry a reloaded history names (at most two a
# day: a month of them).
CHECKINS_SHOWN = 60


@methods.expose()
def chat_history(ctx: Context, _p: NoParams) -> dict[str, Any]:
    mem = ctx.mem()
    checkins = {f.message_id: e for f, e in mem.recent_checkins(CHECKINS_SHOWN)}
    return {"messages": views.history(mem.conversation(), mem.find_diary_entry, checkins),
            "can_regenerate": mem.can_regenerate()}


@methods.expose(ChatParams, diary=True)
def chat_send(ctx: Context, p: ChatParams) -> dict[str, Any]:
    images = [(i.name, i.mime, decode_base64(i.name, i.data_base64)) for i in p.images]
    files = [(f.name, decode_base64(f.name, f.data_base64)) for f in p.files]
    return _turn(ctx, p.turn, lambda mem, delta, event, stop: mem.send(
        p.text, on_delta=delta, on_event=event, images=images, files=files, stop=stop))


@methods.expose(TurnParams, diary=True)
def chat_regenerate(ctx: Context, p: TurnParams) -> dict[str, Any]:
    return _turn(ctx, p.turn, lambda mem, delta, event, stop: mem.regenerate(
        delta, event, stop=stop))


@methods.expose(EditParams, diary=True)
def chat_edit(ctx: Context, p: EditParams) -> dict[str, Any]:
    return _turn(ctx, p.turn, lambda mem, delta, event, stop: mem.edit_last(
        p.text, delta, event, stop=stop))


@methods.expose(TextParams)
def chat_text_fit(ctx: Context, p: TextParams) -> dict[str, Any]:
    fit = ctx.mem().text_fit(p.text)
    return {"tokens": fit.tokens, "cut": fit.cut, "as_file": fit.as_file,
            "as_file_ratio": round(fit.as_file / fit.tokens, 4) if fit.tokens else 1.0}


@methods.expose(TurnParams, locked=False)
def chat_stop(ctx: Context, p: TurnParams) -> dict[str, Any]:
    return {"stopping": ctx.stops.stop(p.turn)}


RunTurn = Callable[[Memory, DeltaFn, EventFn, threading.Event], TurnResult]


def _turn(ctx: Context, turn: str, run: RunTurn) -> dict[str, Any]:
    """One turn for the page: deltas and recalls as events, then ``chat.done``
    (or ``chat.error``); ``chat_stop`` with the same ``turn`` stops it."""
    mem = ctx.mem()

    def on_delta(d: ChatDelta) -> None:
        ctx.emit("chat.delta", {"kind": d.kind, "text": d.text})

    wrote_diary = False

    def on_event(name: str, data: dict[str, Any]) -> None:
        nonlocal wrote_diary
        if name == "recall":
            ctx.emit("chat.recall", {"titles": list(data.get("hits", []))})
        elif name == "withdraw":  # the reply broke off: what was shown goes, it is asked again
            ctx.emit("chat.withdraw", {})
        elif name == "consolidating":  # an idle conversation becomes a diary entry
            wrote_diary = True
        elif name == "notice":  # ... unless writing it failed
            wrote_diary = False

    stop = ctx.stops.begin(turn)
    try:
        result = run(mem, on_delta, on_event, stop)
    except DLError as e:
        ctx.emit("chat.error", {"type": type(e).__name__, "message": error_text(e, ctx.lang())})
        ctx.service_failed(e)
        raise
    finally:
        ctx.stops.end(stop)
    ctx.service_ok(ctx.lang())
    if wrote_diary:
        after_diary(ctx, mem)
    out = {
        "reply": result.reply,
        "reasoning": result.reasoning,
        "message_id": result.messages[-1].id,
        "recalled": [{"uuid": h.entry.uuid, "title": h.entry.title} for h in result.recalled],
        "gauge": _gauge_or_none(mem),
        "notices": [render(n, ctx.lang()) for n in result.notices],
        "named": result.named,
        "user_message_id": result.messages[0].id,
        "attachments": views.attachments(result.messages[0]),
        "reply_attachments": views.attachments(result.messages[-1]),
        "images_unseen": result.images_unseen,
        "stopped": result.stopped,
        "cut_off": result.messages[-1].cut_off,
    }
    ctx.emit("chat.emotion", {"name": emotion_of(result.reply) or "neutral"})
    ctx.emit("chat.done", {"ok": True, **out})
    return out


@methods.expose(AttachmentParams)
def attachment_get(ctx: Context, p: AttachmentParams) -> dict[str, Any]:
    att, path = ctx.mem().attachment(p.id)
    out: dict[str, Any] = {"id": att.id, "kind": att.kind, "name": att.name, "mime": att.mime}
    if att.kind == "image":
        data = base64.b64encode(path.read_bytes()).decode()
        out["data_url"] = f"data:{att.mime};base64,{data}"
    return out


@methods.expose()
def chat_clear(ctx: Context, _p: NoParams) -> dict[str, Any]:
    ctx.mem().clear_conversation()
    return {}


@methods.expose(diary=True)
def memory_consolidate(ctx: Context, _p: NoParams) -> dict[str, Any]:
    mem = ctx.mem()
    try:
        entry = mem.consolidate(ctx.progress("consolidate"))
    except DLError as e:
        ctx.service_failed(e)
        raise
    ctx.service_ok(ctx.lang())
    auto = after_diary(ctx, mem) if entry else False
    return {
        "entry": {"uuid": entry.uuid, "title": entry.title} if entry else None,
        "auto_backup": auto,
    }


@methods.expose(diary=True)
def budget_gauge(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return _gauge(ctx.mem())


def _gauge(mem: Memory) -> dict[str, Any]:
    plan = mem.context_preview().plan
    used, budget = plan.request_tokens, plan.budget.total
    return {"used": used, "budget": budget, "ratio": round(used / budget, 4)}


def _gauge_or_none(mem: Memory) -> dict[str, Any] | None:
    try:
        return _gauge(mem)
    except DLError:
        return None


@methods.expose(PreviewParams, diary=True)
def context_preview(ctx: Context, p: PreviewParams) -> dict[str, Any]:
    return views.preview(ctx.mem().context_preview(p.text))


@methods.expose(diary=True)
def index_status(ctx: Context, _p: NoParams) -> dict[str, Any]:
    mem = ctx.mem()
    indexed, total, model = mem.index_status()
    problem = mem.embedding_problem()
    return {"indexed": indexed, "total": total, "model": model,
            "problem": error_text(problem, ctx.lang()) if problem is not None else ""}


@methods.expose(RebuildParams)
def index_rebuild(ctx: Context, p: RebuildParams) -> dict[str, Any]:
    mem = ctx.mem()
    return {"indexed": mem.reindex(ctx.progress("index"), everything=p.everything)}
