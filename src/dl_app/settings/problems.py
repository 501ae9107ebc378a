"""A settings value pydantic refused, in words for people: the common kinds of
problem (a number expected, out of range, not one of the choices, unknown name)
from the message catalogue; any other kind as pydantic says it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.errors import Text, msg

__all__ = ["problem_text", "problems_text"]

_KINDS = {
    "float_parsing": "number", "float_type": "number", "int_parsing": "integer",
    "int_type": "integer", "int_from_float": "integer", "bool_parsing": "boolean",
    "bool_type": "boolean", "string_type": "text", "literal_error": "choice",
    "enum": "choice", "greater_than_equal": "at_least", "greater_than": "above",
    "less_than_equal": "at_most", "less_than": "below", "string_too_long": "too_long",
    "extra_forbidden": "unknown", "model_type": "object", "dict_type": "object",
}
_LIMITS = ("ge", "gt", "le", "lt", "max_length")


def problem_text(error: Mapping[str, Any]) -> Text:
    """One pydantic error (``ValidationError.errors()`` item) as ``field: why``."""
    field = ".".join(str(p) for p in error.get("loc", ())) or "settings"
    kind = _KINDS.get(str(error.get("type", "")))
    ctx = error.get("ctx") or {}
    if kind is None:
        why: Text | str = str(error.get("msg", "")).removeprefix("Value error, ")
    else:
        limit = next((ctx[k] for k in _LIMITS if k in ctx), "")
        why = msg(f"settings.why.{kind}", got=error.get("input", ""), limit=limit,
                  expected=ctx.get("expected", ""))
    return msg("settings.problem", field=field, why=why)


def problems_text(errors: list[Any]) -> list[Text]:
    return [problem_text(e) for e in errors]
