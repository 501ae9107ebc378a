"""Dates in text, zh and en, resolved by rules against a reference time (no model,
no clock, no I/O): 昨天, 上周五, 去年夏天, 5月初, last weekend, two days ago, in May,
May 8th, 2023, 2023-05-08 ...

The rules, where an expression is ambiguous:

- Weeks run Monday to Sunday; 上周 / last week is the week before this one and
  上周末 / last weekend that week's Saturday and Sunday. 上周五 is the Friday of last
  week; English "last Friday" is the latest Friday before today, "this Friday" today
  or the coming one, "next Friday" the Friday of next week.
- The tense is read from the clause in Chinese (up to the next ，or 。) and from the
  sentence in English: past markers are 了, 过, 已经; did, was, -ed; future markers
  要, 打算, 准备; will, going to. The future wins when both occur (要考试了).
- A bare weekday (周五, on Friday) is the nearest other day of that name: the past
  one in a past clause, else the coming one: "周五考试" and "my exam is on Friday"
  are plans. A bare 周末 / "the weekend" likewise. 今天周六 is today.
- A month without a year (5月, in May) is the latest such month not after this one
  in a past clause (May said in May is this May), the first not before it in a
  future one, else the nearer of the two (the past one on a tie). A day without a
  year (5月20日, May 20) likewise by days; 8号 alone within the months around this one.
- Seasons are northern and meteorological (spring is March-May, winter starts in
  December); 去年夏天 is the summer of last year, "last summer" the latest summer that
  has ended.
- 月初 / early May is days 1-10, 中旬 / mid 11-20, 月底 / late 21 to the end.
- A month name needs a year, a day, a preposition or a qualifier ("May I" and "may"
  are not dates); lower-case "may" and "march" never are.

Spans do not overlap; the longest expression at a position wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from . import dates_en, dates_zh
from .dates_calc import EN_MONTHS, EN_SEASONS, ZH_SEASONS, add_months

_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Span:
    start_ms: int  # inclusive, UTC epoch ms
    end_ms: int  # exclusive
    text: str  # the expression as found in the text
    grain: str  # "day" | "week" | "month" | "season" | "year"
    relative: bool  # True when the expression needed the reference time


def local_date(ms: int, offset_minutes: int) -> date:
    """The calendar day of ``ms`` in the zone UTC+offset_minutes."""
    return datetime.fromtimestamp(ms / 1000, timezone(timedelta(minutes=offset_minutes))).date()


def _ms(d: date, offset_minutes: int) -> int:
    """Local midnight at the start of ``d`` as UTC epoch ms."""
    return ((d - _EPOCH).days * 86400 - offset_minutes * 60) * 1000


def find_spans(text: str, ref_ms: int, offset_minutes: int) -> list[Span]:
    """Date expressions in text (zh and en), resolved against ref_ms in the local
    zone UTC+offset_minutes, in text order."""
    today = local_date(ref_ms, offset_minutes)
    plain = text.translate(_WIDE_DIGITS)
    found = dates_zh.find(plain, today) + dates_en.find(plain, today)
    found.sort(key=lambda f: (f[0], f[0] - f[1]))
    spans: list[Span] = []
    end = 0
    for start, stop, p in found:
        if start >= end:
            spans.append(Span(_ms(p.first, offset_minutes), _ms(p.stop, offset_minutes),
                              text[start:stop], p.grain, p.relative))
            end = stop
    return spans


def _terms(first: date, last: date, grain: str) -> list[str]:
    """Absolute zh and en forms of the local days ``first`` to ``last`` (inclusive)."""
    if grain == "year":
        return [str(first.year), f"{first.year}年"]
    out: list[str] = []
    if grain == "day" and (last - first).days < 7:
        for i in range((last - first).days + 1):
            d = first + timedelta(days=i)
            out += [d.isoformat(), f"{d.year}年{d.month}月{d.day}日",
                    f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"]
    if grain == "season":
        s = (first.month - 3) % 12 // 3
        out += [f"{first.year}年{ZH_SEASONS[s]}", f"{EN_SEASONS[s]} {first.year}"]
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out += [f"{EN_MONTHS[m - 1]} {y}", f"{y}年{m}月"]
        y, m = add_months(y, m, 1)
    return out


def date_terms(text: str, ref_ms: int, offset_minutes: int) -> str:
    """Extra index terms for the relative expressions in text (e.g. "昨天" said at
    2023-05-08 -> "2023-05-07 2023年5月7日 7 May 2023 May 2023 2023年5月"):
    space-separated absolute forms in zh and en, so a search for "5月7日" or
    "May 2023" finds a turn that said "yesterday". Empty string when none."""
    terms: dict[str, None] = {}
    for span in find_spans(text, ref_ms, offset_minutes):
        if span.relative:
            first = local_date(span.start_ms, offset_minutes)
            last = local_date(span.end_ms - 1, offset_minutes)
            terms.update(dict.fromkeys(_terms(first, last, span.grain)))
    return " ".join(terms)
