"""The optional services that are down, for the page (issue 18, "degraded, not dead").

With the memory the bridge starts a ``ServiceWatch`` (``start_watch``): it asks
a service that is down again with backoff, fills in missing vectors once the
embedding service is back, and each change goes to the page as a
``service.health`` event; ``service_health`` says what is limited now (the
page asks when it loads). The page words the notice in its own language.
"""

from __future__ import annotations

import logging
from typing import Any

from ..core.errors import DLError
from ..memory import Memory
from ..messages import error_text
from ..service_probes import report, watch_desktop
from ..service_watch import ServiceWatch
from .context import Context
from .params import NoParams
from .registry import Methods

log = logging.getLogger(__name__)

methods = Methods()


def start_watch(ctx: Context, mem: Memory) -> ServiceWatch:
    """Watch the services of the memory just opened; the page hears every change
    with the whole list (at once too: a memory opened again starts afresh)."""
    watch: ServiceWatch | None = None

    def tell(service: str, ok: bool, **more: Any) -> None:
        limited = limited_now(watch, ctx.lang()) if watch is not None else []
        ctx.emit("service.health", {"service": service, "ok": ok, "limited": limited, **more})

    def changed(service: str, error: DLError | None) -> None:
        tell(service, error is None)

    try:  # speech and the backup bucket too, those that are set up
        watch_desktop(mem.health(), ctx.settings(), ctx.secrets)
    except Exception:  # a broken settings file: the memory's own services only
        log.exception("watching the page's services failed")
    watch = ServiceWatch(mem, ctx.lock, on_change=changed, progress=ctx.progress("vectors"),
                         on_filled=lambda n: tell("embeddings", True, filled=n))
    tell("", True)
    return watch.start()


def used(ctx: Context, service: str) -> Any:
    """``with used(ctx, TTS): ...``: how one use of a page's service went counts
    for its health (an outage marks it limited, a success back)."""
    watch = ctx.watch
    return report(watch.health if watch is not None else None, service)


def limited_now(watch: ServiceWatch | None, lang: str) -> list[dict[str, str]]:
    limited = watch.limited() if watch is not None else {}
    return [{"service": s, "message": error_text(e, lang)} for s, e in sorted(limited.items())]


@methods.expose(locked=False)
def service_health(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return {"limited": limited_now(ctx.watch, ctx.lang())}
