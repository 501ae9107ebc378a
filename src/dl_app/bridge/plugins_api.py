"""The plugins' bridge methods: the weather's status and the greeting on return.
A mixin of ``Api`` (same plumbing: ``_run``, ``_mem``). See ``docs/bridge-api.md``."""

from __future__ import annotations

from typing import Any

from ..core.errors import DLError
from .params import NoParams

__all__ = ["PLUGIN_METHODS", "PluginsApi"]

PLUGIN_METHODS = ("weather_status", "chat_greeting")


class PluginsApi:
    _run: Any
    _mem: Any
    _service_failed: Any

    def weather_status(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._weather_status)

    def _weather_status(self, _p: NoParams) -> dict[str, Any]:
        # The call's own ``ok`` stays the bridge's; the weather's is inside.
        status = self._mem().weather_status()
        if status is None:
            return {"weather": {"enabled": False, "ok": False, "line": None, "error": None,
                                "checked_at": None}}
        return {"weather": status}

    def chat_greeting(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._chat_greeting)

    def _chat_greeting(self, _p: NoParams) -> dict[str, Any]:
        mem = self._mem()
        try:
            message = mem.greet()
        except DLError as e:
            self._service_failed(e)
            raise
        if message is None:
            return {"greeting": None}
        return {"greeting": message.content, "message_id": message.id,
                "timestamp": message.timestamp}
