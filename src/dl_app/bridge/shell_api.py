"""The desktop's own bridge methods, for the pet's menu: open the main window, turn
the desktop pet on or off, quit. See ``docs/bridge-api.md``.

The desktop shell attaches itself with ``Api.attach_shell(shell)`` (``show_main()``,
``set_pet(on)``, ``quit()``); the action runs on a thread of its own after the reply,
since it may close the very window that called. In the browser (``dl-app serve``) there
is no shell: the methods answer ``{"done": false, "reason": "browser"}`` and do nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .context import Context
from .params import NoParams
from .registry import Methods

__all__ = ["PetParams", "methods"]

log = logging.getLogger(__name__)

methods = Methods()


class PetParams(NoParams):
    on: bool


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
