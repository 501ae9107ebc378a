"""The bridge's methods as a registry: one decorator per method names its params
model and whether it runs under the memory lock; ``Api`` exposes what is registered.

    methods = Methods()

    @methods.expose(PageParams)                  # locked=True: one call at a time
    def diary_list(ctx: Context, p: PageParams) -> dict[str, Any]:
        return {"entries": ..., "total": ...}

``call`` is the one place that validates params, takes the lock and turns errors
into ``{"ok": false, "error": {...}}``; a result without ``ok`` gets ``"ok": true``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from ..core.errors import DLError, msg
from .params import InvalidInput, NoParams, failure, invalid

if TYPE_CHECKING:
    from .context import Context

__all__ = ["BridgeMethod", "Methods", "call", "collect"]

log = logging.getLogger(__name__)

Handler = Callable[["Context", Any], dict[str, Any]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class BridgeMethod:
    name: str
    params: type[NoParams]
    locked: bool
    handler: Handler
    diary: bool = False  # waits for the diary's stores before it takes the lock


class Methods:
    """The methods of one area of the bridge, in the order they are declared."""

    def __init__(self) -> None:
        self.by_name: dict[str, BridgeMethod] = {}

    def expose(self, params: type[NoParams] = NoParams, *, locked: bool = True,
               diary: bool = False) -> Callable[[H], H]:
        """Register the decorated ``handler(ctx, params)`` under its own name.
        ``locked``: run under the memory lock (False: the handler takes what it needs);
        ``diary``: it reads the diary or the turn index, so it waits for their opening
        before it takes the lock (``Context.await_stores``), not under it, where every
        other call of the page would wait behind it."""

        def register(handler: H) -> H:
            name = handler.__name__
            if name in self.by_name:
                raise ValueError(f"bridge method {name} is registered twice")
            self.by_name[name] = BridgeMethod(name, params, locked, handler, diary)
            return handler

        return register


def collect(groups: Iterable[Methods]) -> dict[str, BridgeMethod]:
    """All methods of ``groups``; a name may be registered once only."""
    out: dict[str, BridgeMethod] = {}
    for group in groups:
        for name, method in group.by_name.items():
            if name in out:
                raise ValueError(f"bridge method {name} is registered twice")
            out[name] = method
    return out


def call(ctx: Context, method: BridgeMethod, params: Any) -> dict[str, Any]:
    """Run ``method`` for the page: never raises, always a JSON dict with ``ok``."""
    try:
        if params is not None and not isinstance(params, dict):
            raise InvalidInput(msg("bridge.not_object"))
        try:
            parsed = method.params.model_validate(params or {})
        except ValidationError as e:
            raise invalid(e, "parameters") from e
        if method.diary:
            ctx.await_stores()
        if method.locked:
            with ctx.lock:
                out = method.handler(ctx, parsed)
        else:
            out = method.handler(ctx, parsed)
    except DLError as e:
        return failure(e, ctx.lang())
    except Exception as e:
        log.exception("bridge call failed")
        return failure(e, ctx.lang())
    return out if "ok" in out else {"ok": True, **out}
