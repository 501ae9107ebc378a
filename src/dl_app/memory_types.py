"""The values ``Memory`` returns besides the core models (``dl_app.core.models``).
Import them from ``dl_app.memory``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .core.context import ContextPlan
from .core.errors import Text
from .core.models import DiaryEntry, FollowUp, SearchHit
from .core.output_check import Rejection

__all__ = ["ContextPreview", "DiaryPage", "ImportReport", "IndexStatus", "ModelInfo"]


@dataclass
class ImportReport:
    entries: int
    messages: int
    archived: int
    backup: Path | None
    warnings: list[Text] = field(default_factory=list)
    preview: dict[str, Any] = field(default_factory=dict)


class IndexStatus(NamedTuple):
    """How many diary entries have a vector of the current embedder (``model``;
    "" when there is none)."""

    indexed: int
    total: int
    model: str


@dataclass(frozen=True)
class ModelInfo:
    """The model that answers; ``demo``: the tiny offline demo model (llama.cpp)."""

    name: str
    demo: bool


@dataclass(frozen=True)
class DiaryPage:
    """``entries`` newest first from an offset; ``unindexed``: the uuids among them
    without a vector of the current embedder; ``total``: all entries."""

    entries: list[DiaryEntry]
    unindexed: set[str]
    total: int


@dataclass(frozen=True)
class ContextPreview:
    """The next request as it would be sent, with the tools' share, the last recall,
    the housekeeping outputs lately rejected (oldest first; kept in memory while
    the app runs) and the latest check-ins with the diary entry each came from."""

    plan: ContextPlan
    tools_tokens: int
    last_recall: list[SearchHit]
    rejected: list[Rejection] = field(default_factory=list)
    checkins: list[tuple[FollowUp, DiaryEntry | None]] = field(default_factory=list)
