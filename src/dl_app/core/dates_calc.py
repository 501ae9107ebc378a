"""Calendar arithmetic for the date resolver (``dates.py``): periods of local days,
the direction an ambiguous expression points to, and the scan that runs a rule set.

Weeks start on Monday. Seasons are the northern meteorological ones: spring is
March-May, summer June-August, autumn September-November, winter December to
February (the winter "of" a year starts in its December).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

PAST, NEUTRAL, FUTURE = -1, 0, 1
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)
ZH_SEASONS = ("春天", "夏天", "秋天", "冬天")
EN_SEASONS = ("spring", "summer", "autumn", "winter")
SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
CLAUSE_END = re.compile(r"[。！？!?；;\n，,、：:]|\.(?=\s|$)")


@dataclass(frozen=True)
class Period:
    """Local days ``first`` (inclusive) to ``stop`` (exclusive)."""

    first: date
    stop: date
    grain: str
    relative: bool = True


Handler = Callable[[re.Match[str], date], Period | None]
Rule = tuple[re.Pattern[str], Handler]
Found = tuple[int, int, Period]  # start and end offsets in the text, the period


def scan(text: str, today: date, rules: list[Rule]) -> list[Found]:
    """Every period the rules find; a pattern's group ``x``, when set, is the expression."""
    out: list[Found] = []
    for pattern, handler in rules:
        for m in pattern.finditer(text):
            period = handler(m, today)
            if period is not None:
                g = "x" if "x" in pattern.groupindex and m["x"] else 0
                out.append((m.start(g), m.end(g), period))
    return out


def tense(
    m: re.Match[str], future: re.Pattern[str], past: re.Pattern[str], ends: re.Pattern[str]
) -> int:
    """FUTURE when the sentence (or clause: ``ends`` says where they end) around the
    match, the match left out, has a future marker, else PAST when it has a past
    marker, else NEUTRAL."""
    text = m.string
    lo = max((e.end() for e in ends.finditer(text, 0, m.start())), default=0)
    hi = next((e.start() for e in ends.finditer(text, m.end())), len(text))
    rest = text[lo : m.start()] + " " + text[m.end() : hi]
    if future.search(rest):
        return FUTURE
    return PAST if past.search(rest) else NEUTRAL


def days(first: date, n: int = 1, relative: bool = True) -> Period:
    return Period(first, first + timedelta(days=n), "day", relative)


def shift(today: date, n: int) -> date | None:
    """``today`` moved by n days, or None off the calendar."""
    try:
        return today + timedelta(days=n)
    except OverflowError:
        return None


def one_day(y: int, m: int, d: int, relative: bool = True) -> Period | None:
    try:
        return days(date(y, m, d), 1, relative)
    except ValueError:
        return None


def add_months(y: int, m: int, n: int) -> tuple[int, int]:
    k = y * 12 + m - 1 + n
    return k // 12, k % 12 + 1


def month(y: int, m: int, relative: bool = True) -> Period | None:
    if not (1 <= m <= 12 and 1 <= y <= 9998):
        return None
    ny, nm = add_months(y, m, 1)
    return Period(date(y, m, 1), date(ny, nm, 1), "month", relative)


def month_part(y: int, m: int, part: str, relative: bool = True) -> Period | None:
    """Days 1-10 ("early"), 11-20 ("mid") or 21 to the end ("late") of a month."""
    whole = month(y, m, relative)
    if whole is None:
        return None
    lo, hi = {"early": (1, 11), "mid": (11, 21), "late": (21, 0)}[part]
    stop = whole.first.replace(day=hi) if hi else whole.stop
    return Period(whole.first.replace(day=lo), stop, "week", relative)


def week(d: date) -> Period:
    monday = d - timedelta(days=d.weekday())
    return Period(monday, monday + timedelta(days=7), "week")


def weekday_of(d: date, wd: int) -> Period:
    """Weekday ``wd`` (0 = Monday) of the week of ``d``."""
    return days(d + timedelta(days=wd - d.weekday()))


def weekend(d: date) -> Period:
    """Saturday and Sunday of the week of ``d``."""
    return days(d + timedelta(days=5 - d.weekday()), 2)


def last_weekend(today: date) -> Period:
    """The weekend under way, else the one before."""
    return weekend(today if today.weekday() >= 5 else today - timedelta(days=7))


def weekday_toward(today: date, wd: int, direction: int) -> Period:
    """The nearest day named ``wd``, strictly before today when direction is PAST,
    strictly after it otherwise."""
    if direction == PAST:
        return days(today - timedelta(days=(today.weekday() - wd - 1) % 7 + 1))
    return days(today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1))


def month_toward(today: date, m: int, direction: int) -> int:
    """The year of month ``m``: the latest not after this month when direction is
    PAST, the first not before it when FUTURE, else the nearer (the past one on a tie)."""
    back, ahead = (today.month - m) % 12, (m - today.month) % 12
    if direction == FUTURE or (direction == NEUTRAL and ahead < back):
        return today.year if m >= today.month else today.year + 1
    return today.year if m <= today.month else today.year - 1


def _nearest(today: date, candidates: list[date], direction: int) -> Period | None:
    """PAST: the latest not after today; FUTURE: the first not before today;
    NEUTRAL: the nearer of the two (the past one on a tie)."""
    past = max((c for c in candidates if c <= today), default=None)
    ahead = min((c for c in candidates if c >= today), default=None)
    pick: date | None
    if direction == NEUTRAL and past and ahead:
        pick = past if today - past <= ahead - today else ahead
    else:
        pick = ahead if direction == FUTURE or past is None else past
    return days(pick) if pick is not None else None


def date_toward(today: date, m: int, d: int, direction: int) -> Period | None:
    """Month ``m``, day ``d`` of a year next to today's (see ``_nearest``)."""
    found = [one_day(y, m, d) for y in range(today.year - 4, today.year + 5)]
    return _nearest(today, [p.first for p in found if p], direction)


def day_toward(today: date, d: int, direction: int) -> Period | None:
    """Day ``d`` of last, this or next month (see ``_nearest``)."""
    found = []
    for n in (-2, -1, 0, 1, 2):
        y, m = add_months(today.year, today.month, n)
        found.append(one_day(y, m, d))
    return _nearest(today, [p.first for p in found if p], direction)


def season(y: int, s: int, relative: bool = True) -> Period | None:
    """Season ``s`` (0 spring ... 3 winter) of year ``y``."""
    if not 1 <= y <= 9997:
        return None
    ny, nm = add_months(y, 3 + 3 * s, 3)
    return Period(date(y, 3 + 3 * s, 1), date(ny, nm, 1), "season", relative)


def season_year(today: date, s: int) -> int:
    """The year of this season ``s``: in January and February "this winter" began last year."""
    return today.year - 1 if s == 3 and today.month <= 2 else today.year


def season_before(today: date, s: int) -> Period | None:
    """The latest season ``s`` that has ended."""
    for y in range(today.year, today.year - 3, -1):
        p = season(y, s)
        if p and p.stop <= today:
            return p
    return None


def season_after(today: date, s: int) -> Period | None:
    """The first season ``s`` that begins after today."""
    for y in range(today.year - 1, today.year + 2):
        p = season(y, s)
        if p and p.first > today:
            return p
    return None


def year(y: int, relative: bool = True) -> Period | None:
    if not 1 <= y <= 9998:
        return None
    return Period(date(y, 1, 1), date(y + 1, 1, 1), "year", relative)


def ago(today: date, n: int, unit: str) -> Period | None:
    """The day, week, month or year ``n`` units from today (n < 0: before)."""
    if unit == "day":
        d = shift(today, n)
        return days(d) if d else None
    if unit == "week":
        d = shift(today, 7 * n)
        return week(d) if d else None
    if unit == "month":
        return month(*add_months(today.year, today.month, n))
    return year(today.year + n)
