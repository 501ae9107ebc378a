"""The system clock in the local time zone."""

from __future__ import annotations

import time
from datetime import datetime


class SystemClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def tz_name(self) -> str:
        return datetime.now().astimezone().tzname() or ""

    def utc_offset_minutes(self, at_ms: int) -> int:
        offset = datetime.fromtimestamp(at_ms / 1000).astimezone().utcoffset()
        return int(offset.total_seconds() // 60) if offset else 0


class FixedClock:
    """A settable clock (tests, benchmarks, replaying data sets)."""

    def __init__(self, now_ms: int, offset_minutes: int = 0, zone: str = "") -> None:
        self.now = now_ms
        self.offset = offset_minutes
        self.zone = zone

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms

    def tz_name(self) -> str:
        return self.zone

    def utc_offset_minutes(self, at_ms: int) -> int:
        return self.offset
