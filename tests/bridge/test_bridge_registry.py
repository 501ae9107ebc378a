"""The bridge's registry: one decorator per method gives its params model and
whether it takes the lock; ``Api`` exposes exactly the registered names."""

from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Any

import pytest

from dl_app.bridge.api import API_METHODS, METHODS, Api
from dl_app.bridge.context import Context
from dl_app.bridge.params import NoParams, TextParams
from dl_app.bridge.registry import Methods, call, collect


def test_a_name_is_registered_once() -> None:
    methods = Methods()

    @methods.expose()
    def ping(ctx: Context, _p: NoParams) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="ping"):
        methods.expose()(ping)
    other = Methods()
    other.expose()(ping)
    with pytest.raises(ValueError, match="ping"):
        collect([methods, other])


def test_every_method_is_exposed_with_one_optional_params_argument() -> None:
    assert list(METHODS) == list(API_METHODS)
    for name in API_METHODS:
        fn = getattr(Api, name)
        assert fn.__name__ == name
        params = list(inspect.signature(fn).parameters.values())
        assert [p.name for p in params] == ["self", "params"]
        assert params[1].default is None


def test_call_validates_locks_and_shapes_the_result(tmp_path: Path) -> None:
    ctx = Context(tmp_path, env={})
    methods = Methods()
    seen: dict[str, bool] = {}

    def held() -> bool:
        """Whether the lock is held (by this call): another thread cannot take it."""
        free: list[bool] = []

        def probe() -> None:
            if ctx.lock.acquire(blocking=False):
                ctx.lock.release()
                free.append(True)

        other = threading.Thread(target=probe)
        other.start()
        other.join()
        return not free

    @methods.expose(TextParams)
    def echo(ctx: Context, p: TextParams) -> dict[str, Any]:
        seen["locked"] = held()
        return {"text": p.text}

    @methods.expose(locked=False)
    def free(ctx: Context, _p: NoParams) -> dict[str, Any]:
        seen["locked"] = held()
        raise RuntimeError("boom")

    assert call(ctx, methods.by_name["echo"], {"text": "hi"}) == {"ok": True, "text": "hi"}
    assert seen["locked"] is True
    assert call(ctx, methods.by_name["free"], None) == {
        "ok": False, "error": {"type": "InternalError", "message": "Unexpected error: boom"}
    }
    assert seen["locked"] is False
    bad = call(ctx, methods.by_name["echo"], {"text": "hi", "extra": 1})
    assert bad["ok"] is False and bad["error"]["type"] == "InvalidInput"
    assert call(ctx, methods.by_name["echo"], ["not", "an", "object"])["error"] == {
        "type": "InvalidInput", "message": "The parameters must be a JSON object."
    }
