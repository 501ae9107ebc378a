"""The plugins' bridge methods: the weather's status and the greeting on return.
See ``docs/bridge-api.md``."""

from __future__ import annotations

from typing import Any

from ..core.errors import DLError
from .context import Context
from .params import NoParams
from .registry import Methods

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


@methods.expose()
def chat_greeting(ctx: Context, _p: NoParams) -> dict[str, Any]:
    mem = ctx.mem()
    try:
        message = mem.greet()
    except DLError as e:
        ctx.service_failed(e)
        raise
    if message is None:
        return {"greeting": None}
    return {"greeting": message.content, "message_id": message.id,
            "timestamp": message.timestamp}
