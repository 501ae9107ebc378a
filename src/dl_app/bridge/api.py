"""The bridge: the page's one API, for the window (pywebview ``js_api``) and the
browser (``dl-app serve`` posts to the same methods). See ``docs/bridge-api.md``.

Every exposed method takes one optional ``params`` object and returns a JSON
dict ``{"ok": true, ...}`` or ``{"ok": false, "error": {"type", "message"}}``;
nothing is raised to the caller. Calls that touch the memory or the model run
one at a time (pywebview runs each call on its own thread). Python pushes
events with ``emit(name, payload)``. Secrets never leave Python.

The methods live in the area modules (``chat_api``, ``settings_api``, ``memory_api``,
``backup_api``, ``plugins_api``, ``avatar_api``, ``voice_api``, ``setup_api``, ``health_api``,
``shell_api``), each
registered with ``@methods.expose(Params, locked=...)`` (``registry.py``); they get
the ``Context`` (``context.py``). ``Api`` has one method per registered name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import (
    avatar_api,
    backup_api,
    chat_api,
    health_api,
    memory_api,
    plugins_api,
    settings_api,
    setup_api,
    shell_api,
    voice_api,
)
from .avatar_files import AvatarFiles
from .context import Context, EmitFn
from .params import InvalidInput
from .registry import BridgeMethod, call, collect

if TYPE_CHECKING:
    from ..memory import Memory

__all__ = ["API_METHODS", "METHODS", "Api", "InvalidInput"]

METHODS: dict[str, BridgeMethod] = collect([
    settings_api.methods, chat_api.methods, memory_api.methods, backup_api.methods,
    plugins_api.methods, avatar_api.methods, voice_api.methods, setup_api.methods,
    shell_api.methods, health_api.methods,
])
API_METHODS: tuple[str, ...] = tuple(METHODS)


class Api:
    """The page's API: one method per name in ``API_METHODS`` (added below), each
    ``method(params=None) -> dict``. ``emit(name, payload)`` pushes events to the page.
    Everything else is private or marked ``_serializable = False`` (pywebview exposes
    every other public attribute)."""

    def __init__(
        self,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        emit: EmitFn | None = None,
    ) -> None:
        self._ctx = Context(data_dir, env, emit)
        ctx = self._ctx
        ctx.on_open = lambda mem: health_api.start_watch(ctx, mem)

    def close(self) -> None:
        """Close the memory (for the app shell and the server; not exposed to JS)."""
        self._ctx.close()

    close._serializable = False  # type: ignore[attr-defined]

    def avatar_file(self, path: str) -> Path | None:
        """``/<token>/<rel>`` -> the file to serve, or None (for ``dl-app serve``)."""
        return self._ctx.avatar_files().lookup(path)

    avatar_file._serializable = False  # type: ignore[attr-defined]

    @contextmanager
    def borrow_memory(self, timeout: float) -> Iterator[Memory]:
        """The open memory, with the lock the bridge's calls take held (for the app's
        own use, not exposed to JS); ``TimeoutError`` when it stays taken ``timeout``
        seconds (a reply in progress)."""
        if not self._ctx.lock.acquire(timeout=timeout):
            raise TimeoutError("the memory is busy")
        try:
            yield self._ctx.mem()
        finally:
            self._ctx.lock.release()

    borrow_memory._serializable = False  # type: ignore[attr-defined]

    def attach_shell(self, shell: Any) -> None:
        """The desktop's windows, for ``window_show``/``pet_set``/``app_quit``."""
        self._ctx.shell = shell

    attach_shell._serializable = False  # type: ignore[attr-defined]

    def _avatar_files(self) -> AvatarFiles:
        return self._ctx.avatar_files()

    if TYPE_CHECKING:  # the registered methods, added to the class below

        def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]: ...


def _exposed(method: BridgeMethod) -> Callable[..., dict[str, Any]]:
    def exposed(self: Api, params: Any = None) -> dict[str, Any]:
        return call(self._ctx, method, params)

    exposed.__name__ = exposed.__qualname__ = method.name
    exposed.__doc__ = method.handler.__doc__
    return exposed


for _method in METHODS.values():
    setattr(Api, _method.name, _exposed(_method))
del _method
