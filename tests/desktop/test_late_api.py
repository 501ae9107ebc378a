"""``LateApi``: the window's js_api while the bridge is built on a thread. Asking for
its methods waits for the real object; the GUI thread is never made to wait (pywebview
asks on worker threads, checked by the window tests)."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest

from dl_app.desktop.late_api import BridgeFailed, LateApi, build_in_background


class Real:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def chat_send(self, params: Any = None) -> dict[str, Any]:
        self.calls.append(params)
        return {"ok": True}

    def close(self) -> None: ...

    close._serializable = False  # type: ignore[attr-defined]


def _listed(api: Any) -> dict[str, list[str]]:
    """What pywebview's ``inject_pywebview`` lists: public methods and their params."""
    found = {}
    for name in dir(api):
        if name.startswith("_"):
            continue
        attr = getattr(api, name)
        if getattr(attr, "_serializable", True) and inspect.ismethod(attr):
            found[name] = inspect.getfullargspec(attr).args[1:]
    return found


def test_listing_waits_for_the_real_object_then_forwards() -> None:
    late = LateApi()
    got: dict[str, Any] = {}
    asked = threading.Event()

    def page_side() -> None:
        asked.set()
        got["listed"] = _listed(late)  # waits here until resolve()
        got["reply"] = late.chat_send({"text": "hi"})

    worker = threading.Thread(target=page_side)
    worker.start()
    asked.wait(5)
    with pytest.raises(TimeoutError):
        late.real(timeout=0)  # nothing yet: the listing is still waiting
    assert "listed" not in got
    real = Real()
    late.resolve(real)
    worker.join(5)
    assert got["listed"] == {"chat_send": ["params"]}  # close() is not exposed
    assert got["reply"] == {"ok": True} and real.calls == [{"text": "hi"}]
    late.patched = 1  # setting an attribute sets it on the real object (watch_settings)
    assert real.patched == 1  # type: ignore[attr-defined]


def test_private_names_never_wait() -> None:
    late = LateApi()
    assert not hasattr(late, "_serializable")  # pywebview probes this; must not block
    assert not late.ready()


def test_a_failed_build_lists_nothing_and_says_why() -> None:
    late = LateApi()
    failed = threading.Event()

    def factory() -> Any:
        raise ImportError("no module named lancedb")

    build_in_background(late, factory, on_error=lambda e: failed.set()).join(5)
    assert failed.is_set()
    assert dir(late) == [] and not hasattr(late, "chat_send")
    with pytest.raises(BridgeFailed, match="lancedb"):
        late.real()


def test_build_hands_over_then_runs_the_follow_up_on_its_thread() -> None:
    late = LateApi()
    seen: list[Any] = []
    thread = build_in_background(
        late, Real, then=lambda real: seen.append((real, threading.current_thread().name)))
    thread.join(5)
    assert late.ready()
    assert seen == [(late.real(), "dl-bridge")]
