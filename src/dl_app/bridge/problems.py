"""The page's parameters or settings that pydantic refused, in the app's
language: ``invalid(error, "settings")`` is an ``InvalidInput`` whose message
and ``fields`` (``{path, message}``, one per problem) are catalogue texts, put
in words when the answer is rendered (``params.failure``). The common kinds of
problem are said by ``settings/problems.why_text``; the bridge's own (a missing
parameter, an unknown one, an empty message) by the ``bridge.why.*`` keys."""

from __future__ import annotations

from functools import reduce
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from ..core.errors import Text, msg
from ..settings.problems import why_text

__all__ = ["custom", "problems", "summary"]

# pydantic error types -> the bridge's words (settings keep theirs: "unknown setting")
_PARAMETER_KEYS = {
    "extra_forbidden": "bridge.why.unknown",
    "missing": "bridge.why.missing",
    "string_too_short": "bridge.why.too_short",
    "too_long": "bridge.why.too_many",
    "model_type": "bridge.why.object",
    "dict_type": "bridge.why.object",
    "list_type": "bridge.why.list",
    "empty_message": "bridge.why.empty_message",
    "unknown_secret": "bridge.why.unknown_secret",
}
_SETTINGS_KEYS = {k: v for k, v in _PARAMETER_KEYS.items()
                  if k not in ("extra_forbidden", "model_type", "dict_type")}


def custom(kind: str, english: str, **ctx: Any) -> PydanticCustomError:
    """A validator's own error: ``kind`` is a key of ``_PARAMETER_KEYS``
    (``bridge.why.*`` says it), ``english`` what pydantic itself would say."""
    return PydanticCustomError(kind, english, ctx or None)


def problems(error: ValidationError, what: str, prefix: str = "") -> list[dict[str, Any]]:
    """``{path, message}`` per problem, ``message`` a ``Text`` (or pydantic's words
    for a kind the catalogue does not know)."""
    keys = _SETTINGS_KEYS if what == "settings" else _PARAMETER_KEYS
    return [
        {"path": prefix + ".".join(str(p) for p in e["loc"]), "message": why_text(e, keys)}
        for e in error.errors()
    ]


def summary(fields: list[dict[str, Any]], what: str) -> Text:
    """``Invalid settings: a: why; b: why`` in words (``bridge.invalid``)."""
    each = [msg("bridge.problem", path=f["path"] or msg(f"bridge.what.{what}"), why=f["message"])
            for f in fields]
    joined = reduce(lambda a, b: msg("bridge.and", a=a, b=b), each) if each else ""
    return msg("bridge.invalid", what=msg(f"bridge.what.{what}"), problems=joined)
