"""A settings value pydantic refused, in words for people: the common kinds of
problem (a number expected, out of range, not one of the choices, not in the
format, unknown name) from the message catalogue; any other kind as pydantic says it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..core.errors import Text, msg

__all__ = ["problem_text", "problems_text", "why_text"]

_KINDS = {
    "float_parsing": "number", "float_type": "number", "int_parsing": "integer",
    "int_type": "integer", "int_from_float": "integer", "bool_parsing": "boolean",
    "bool_type": "boolean", "string_type": "text", "literal_error": "choice",
    "enum": "choice", "greater_than_equal": "at_least", "greater_than": "above",
    "less_than_equal": "at_most", "less_than": "below", "string_too_long": "too_long",
    "extra_forbidden": "unknown", "model_type": "object", "dict_type": "object",
    "string_pattern_mismatch": "format",
}
_LIMITS = ("ge", "gt", "le", "lt", "max_length")


def why_text(error: Mapping[str, Any], keys: Mapping[str, str] | None = None) -> Text | str:
    """Why pydantic refused a value (one ``ValidationError.errors()`` item), in
    words from the catalogue; ``keys``: pydantic error types -> catalogue keys
    that take precedence (another layer's words, its own custom error types)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    limit = next((ctx[k] for k in (*_LIMITS, "min_length") if k in ctx), "")
    got = error.get("input", "")
    if len(str(got)) > 80:  # a whole object or a file's base64: its start is enough
        got = str(got)[:60] + "…"
    expected = str(ctx.get("expected", ""))
    if "'" in expected:  # pydantic's "'llm' or 'embed'": the names, in neither language
        expected = " / ".join(re.findall(r"'([^']*)'", expected))
    values = {"got": got, "limit": limit, "expected": expected}
    if isinstance(limit, int):
        values["n"] = limit  # a key with "one" and "other" forms chooses by it
    if keys and kind in keys:
        return msg(keys[kind], **values)
    if kind in _KINDS:
        return msg(f"settings.why.{_KINDS[kind]}", **values)
    return str(error.get("msg", "")).removeprefix("Value error, ")


def problem_text(error: Mapping[str, Any]) -> Text:
    """One pydantic error (``ValidationError.errors()`` item) as ``field: why``."""
    field = ".".join(str(p) for p in error.get("loc", ())) or "settings"
    return msg("settings.problem", field=field, why=why_text(error))


def problems_text(errors: list[Any]) -> list[Text]:
    return [problem_text(e) for e in errors]
