"""One settings field: its help line in both languages."""

from __future__ import annotations

from typing import Any

from pydantic import Field


def _f(en: str, zh: str, **kw: Any) -> Any:
    """A field whose description carries both languages: ``en || zh``."""
    return Field(description=f"{en} || {zh}", **kw)
