"""Closing the parts of something that ends (stores, clients, the bridge)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def close_quietly(*parts: object, what: str) -> None:
    """Call ``close()`` on each part that has one. A part that fails to close is
    logged (``closing <what> failed``) and the others still close: the caller is
    ending, and one broken part must not keep the rest open."""
    for part in parts:
        close = getattr(part, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing %s failed", what)
