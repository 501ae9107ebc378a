"""Typed field checks for reading import files, collecting located problems.

``Checks`` is the generic half of ``exchange_reader.Reader``: each getter
returns a value of the right type (a placeholder after a problem), so one pass
finds every problem; a problem is ``path: what`` in catalogue words, the path a
``FieldPath`` (in Chinese ``日记第 2 条的开始时间``).
"""

from __future__ import annotations

import math
from typing import Any

from .errors import FieldPath, Text, msg

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ITEMS = 1_000_000  # per list
MAX_TEXT_CHARS = 1_000_000  # per text field
MAX_NAME_CHARS = 1_000
MAX_ID_CHARS = 256
MAX_VECTOR_DIM = 65_536
MAX_TOOL_CALLS = 64  # per message
MAX_RECALLS = 1_000  # per message
MAX_PROBLEMS = 10  # listed in one ImportFailed
MAX_TIMESTAMP_MS = 8_640_000_000_000_000  # the largest JavaScript Date


def finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


def describe(value: Any) -> Text:
    """A value in JSON words, short, for error messages."""
    if value is None:
        return msg("json.null")
    if isinstance(value, bool):
        return msg("json.boolean", value=str(value).lower())
    if isinstance(value, int):
        return msg("json.number", value=value) if abs(value) < 10**30 else msg("json.huge")
    if isinstance(value, float):
        if math.isfinite(value):
            return msg("json.number", value=repr(value))
        word = "NaN" if math.isnan(value) else ("-" if value < 0 else "") + "Infinity"
        return msg("json.word", value=word)
    if isinstance(value, str):
        return msg("json.string", value=short(value))
    if isinstance(value, list):
        return msg("json.array", n=len(value))
    if isinstance(value, dict):
        return msg("json.object")
    return msg("json.word", value=type(value).__name__)


def short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


class Checks:
    """Problems and warnings, and the typed getters that find them."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.problems: list[Text] = []
        self.problem_count = 0
        self.warnings: list[Text] = []

    # problems and warnings

    def fail(self, path: str, what: Text) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(msg("import.problem", path=FieldPath(path), what=what))

    def warn(self, text: Text) -> None:
        self.warnings.append(text)

    def report(self) -> Text:
        n = self.problem_count
        more = n - len(self.problems)
        lines = [*self.problems, *([msg("import.more", n=more)] if more else [])]
        return msg("import.invalid", n=n, problems=lines)

    # typed getters

    def text(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        *,
        limit: int = MAX_TEXT_CHARS,
        nonempty: bool = False,
        need: bool = True,
    ) -> str:
        """``obj[key]`` as a string; absent or null is "" unless ``need``."""
        value = obj.get(key)
        if value is None:
            if need:
                self.fail(path, msg("import.null_string" if key in obj else "import.no_string"))
            return ""
        return self.string(value, path, limit=limit, nonempty=nonempty)

    def string(self, value: Any, path: str, *, limit: int, nonempty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(path, msg("import.not_string", got=describe(value)))
            return ""
        if nonempty and not value:
            self.fail(path, msg("import.empty_string"))
        if len(value) > limit:
            self.fail(path, msg("import.too_long", n=len(value), limit=limit))
            return ""
        return str(value)

    def millis(self, obj: dict[str, Any], key: str, path: str) -> int:
        if key not in obj:
            self.fail(path, msg("import.no_millis"))
            return 0
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, msg("import.not_millis", got=describe(value)))
            return 0
        if not math.isfinite(value) or not 0 <= value <= MAX_TIMESTAMP_MS:
            self.fail(path, msg("import.millis_range", max=MAX_TIMESTAMP_MS, got=describe(value)))
            return 0
        return round(value)

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, msg("import.not_number", got=describe(value)))
            return 0.0
        if not math.isfinite(value):
            self.fail(path, msg("import.not_finite", got=describe(value)))
            return 0.0
        return float(value)

    def array(self, value: Any, path: str, limit: int, what: str) -> list[Any]:
        """``what``: the items, a ``import.of.*`` key."""
        if not isinstance(value, list):
            self.fail(path, msg("import.not_array", of=msg(f"import.of.{what}"),
                                got=describe(value)))
            return []
        if len(value) > limit:
            self.fail(path, msg("import.too_many", n=len(value), limit=limit))
            return []
        return value

    def top_list(self, data: dict[str, Any], key: str, what: str) -> list[Any]:
        if key not in data:
            self.fail(key, msg("import.no_array", of=msg(f"import.of.{what}")))
            return []
        return self.array(data[key], key, self.max_items, what)
