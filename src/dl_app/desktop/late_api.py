"""The window's ``js_api`` before the bridge exists, so the window shows first.

Importing the bridge (``bridge.api``: the engine, the adapters, pydantic models) takes
longer than opening the window; the window does not need it until its page asks for the
API. :class:`LateApi` stands in for the ``Api`` from the start: pywebview lists the page's
methods on a worker thread once the page has loaded (``dir(js_api)``), and calls them on
worker threads; both wait here until :meth:`LateApi.resolve` hands over the real object.
Nothing waits on the GUI thread (pywebview never touches ``js_api`` there).

    late = LateApi()
    build_in_background(late, factory, then=lambda api: ...)   # the bridge, on a thread
    webview.create_window(..., js_api=late)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class BridgeFailed(RuntimeError):
    """The bridge could not be built (a broken install): the page gets no API."""


class LateApi:
    """Forwards every public attribute to the real ``Api`` once :meth:`resolve` gave it;
    until then, asking waits (on the caller's thread)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_done", threading.Event())
        object.__setattr__(self, "_real", None)
        object.__setattr__(self, "_error", None)

    def resolve(self, real: Any) -> None:
        object.__setattr__(self, "_real", real)
        self._done.set()

    def fail(self, error: BaseException) -> None:
        object.__setattr__(self, "_error", error)
        self._done.set()

    def real(self, timeout: float | None = None) -> Any:
        """The real object (waits up to ``timeout`` s; None = for ever); raises
        :class:`BridgeFailed` if it could not be built, ``TimeoutError`` if not yet."""
        if not self._done.wait(timeout):
            raise TimeoutError("the bridge is still loading")
        if self._error is not None:
            raise BridgeFailed(str(self._error)) from self._error
        return self._real

    def ready(self) -> bool:
        return self._done.is_set() and self._error is None

    def __dir__(self) -> list[str]:
        try:
            return dir(self.real())
        except BridgeFailed:
            return []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self.real(), name)
        except BridgeFailed as e:
            raise AttributeError(name) from e

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.real(), name, value)


def build_in_background(
    late: LateApi,
    factory: Callable[[], Any],
    then: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> threading.Thread:
    """Build the real object with ``factory()`` on a thread, hand it to ``late``, then
    run ``then(real)`` (on the same thread: wiring that needs it, prewarming)."""

    def build() -> None:
        try:
            real = factory()
        except BaseException as e:  # an ImportError of a broken install, too
            log.exception("building the bridge failed")
            late.fail(e)
            if on_error is not None:
                on_error(e)
            return
        late.resolve(real)
        if then is not None:
            then(real)

    thread = threading.Thread(target=build, name="dl-bridge", daemon=True)
    thread.start()
    return thread
