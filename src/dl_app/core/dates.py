"""Placeholder until the date resolver lands (being written on branch ``dates``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int
    text: str
    grain: str
    relative: bool


def find_spans(text: str, ref_ms: int, offset_minutes: int) -> list[Span]:
    return []


def date_terms(text: str, ref_ms: int, offset_minutes: int) -> str:
    return ""
