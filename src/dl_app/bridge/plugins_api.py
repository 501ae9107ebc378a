"""The plugins' bridge methods: the weather's status and the greeting on return
(or a check-in about a follow-up). See ``docs/bridge-api.md``."""

from __future__ import annotations

from typing import Any

from ..core.errors import DLError
from .context import Context
from .params import NoParams
from .registry import Methods
from .views import follow_up

__all__ = ["methods"]

methods = Methods()


@methods.expose()
def weather_status(ctx: Context, _p: NoParams) -> dict[str, Any]:
    # The call's own ``ok`` stays the bridge's; the weather's is inside.
    status = ctx.mem().weather_status()
    if status is None:
        return {"weather": {"enabled": False, "ok": False, "line": None, "error": None,
                            "checked_at": None}}
    return {"weather": status}


class GreetingParams(NoParams):
    checkin_only: bool = False


@methods.expose(GreetingParams, diary=True)
def chat_greeting(ctx: Context, p: GreetingParams) -> dict[str, Any]:
    mem = ctx.mem()
    try:
        message = mem.greet(checkin_only=p.checkin_only)
    except DLError as e:
        ctx.service_failed(e)
        raise
    if message is None:
        return {"greeting": None}
    source = next(((f, e) for f, e in mem.recent_checkins(1) if f.message_id == message.id),
                  None)
    if source is not None:  # the desktop shows it as a notification when hidden
        ctx.emit("chat.checkin", {"text": message.content, "message_id": message.id,
                                  "title": source[1].title if source[1] else None})
    return {"greeting": message.content, "message_id": message.id,
            "timestamp": message.timestamp,
            "checkin": follow_up(*source) if source is not None else None}
