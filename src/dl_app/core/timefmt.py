"""Human time strings in the UI language, with weekday and UTC offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)


def _local(ms: int, offset_minutes: int) -> datetime:
    tz = timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(ms / 1000, tz)


def _offset_label(offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    h, m = divmod(abs(offset_minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


def format_datetime(ms: int, offset_minutes: int, lang: str, *, zone: str = "") -> str:
    """E.g. ``2026年11月27日 星期五 11:05（UTC+08:00）`` /
    ``Friday, 27 November 2026, 11:05 (UTC+08:00)``; ``zone`` adds a name."""
    d = _local(ms, offset_minutes)
    off = _offset_label(offset_minutes)
    where = f"{zone}, {off}" if zone and zone != off else off
    if lang == "zh":
        return (
            f"{d.year}年{d.month}月{d.day}日 星期{_ZH_WEEKDAYS[d.weekday()]} "
            f"{d.hour:02d}:{d.minute:02d}（{where}）"
        )
    return (
        f"{_EN_WEEKDAYS[d.weekday()]}, {d.day} {_EN_MONTHS[d.month - 1]} {d.year}, "
        f"{d.hour:02d}:{d.minute:02d} ({where})"
    )


def format_date(ms: int, offset_minutes: int, lang: str) -> str:
    d = _local(ms, offset_minutes)
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"


def format_time(ms: int, offset_minutes: int) -> str:
    """``HH:MM`` in the local time of the offset."""
    d = _local(ms, offset_minutes)
    return f"{d.hour:02d}:{d.minute:02d}"
