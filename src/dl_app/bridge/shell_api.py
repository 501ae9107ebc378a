"""The desktop's own bridge methods, for the pet's menu: open the main window, turn
the desktop pet on or off, quit; and for the pet's page: where it draws (``pet_shape``:
clicks beside it go to the desktop where the platform allows it). See
``docs/bridge-api.md``.

The desktop shell attaches itself with ``Api.attach_shell(shell)`` (``show_main()``,
``set_pet(on)``, ``quit()``); the action runs on a thread of its own after the reply,
since it may close the very window that called. In the browser (``dl-app serve``) there
is no shell: the methods answer ``{"done": false, "reason": "browser"}`` and do nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from .context import Context
from .params import NoParams
from .registry import Methods

__all__ = ["PetParams", "PetShapeParams", "methods", "shell_notes"]

log = logging.getLogger(__name__)

methods = Methods()


class PetParams(NoParams):
    on: bool


Coord = Annotated[float, Field(ge=-100_000, le=100_000)]


class PetShapeParams(NoParams):
    # [x, y, width, height] in the page's CSS pixels; scale: window.devicePixelRatio
    rects: list[tuple[Coord, Coord, Coord, Coord]] = Field(min_length=1, max_length=32)
    scale: float = Field(default=1.0, ge=0.25, le=8.0)


def _run(ctx: Context, name: str, action: Callable[[Any], None]) -> dict[str, Any]:
    shell = ctx.shell
    if shell is None:
        return {"done": False, "reason": "browser"}

    def work() -> None:
        try:
            action(shell)
        except Exception:
            log.exception("shell action %s failed", name)

    threading.Thread(target=work, name=f"dl-shell-{name}", daemon=True).start()
    return {"done": True}


@methods.expose(locked=False)
def window_show(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return _run(ctx, "show", lambda shell: shell.show_main())


@methods.expose(PetParams, locked=False)
def pet_set(ctx: Context, p: PetParams) -> dict[str, Any]:
    return _run(ctx, "pet", lambda shell: shell.set_pet(p.on))


@methods.expose(locked=False)
def app_quit(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return _run(ctx, "quit", lambda shell: shell.quit())


@methods.expose(PetShapeParams, locked=False)
def pet_shape(ctx: Context, p: PetShapeParams) -> dict[str, Any]:
    """The pet's page says where it draws; ``done`` says whether clicks beside that now
    pass through to the desktop (false where the platform does not allow it)."""
    shell = ctx.shell
    if shell is None:
        return {"done": False, "reason": "browser"}
    rects = [(round(x * p.scale), round(y * p.scale), round(w * p.scale), round(h * p.scale))
             for x, y, w, h in p.rects]
    try:
        done = bool(shell.set_pet_shape(rects))
    except Exception:
        log.exception("setting the pet's input shape failed")
        done = False
    return {"done": done} if done else {"done": False, "reason": "platform"}


def shell_notes(ctx: Context) -> dict[str, dict[str, str]]:
    """Notes the settings page shows under a field, from the desktop (``settings_get``'s
    ``field_notes``): what the desktop pet can do on this desktop."""
    notes = getattr(ctx.shell, "pet_notes", None)
    if not callable(notes):
        return {}
    try:
        return {"app.pet": notes()}
    except Exception:
        log.exception("the desktop's pet notes failed")
        return {}
