"""Follow-ups: what the user said will happen at a time, noted by rules when a
conversation becomes a diary entry ("周五考试", "my sister arrives next Tuesday").

Rules (no model): every date expression in a user message that ``dates.find_spans``
resolves, against the message's own time, to days strictly after that message's
day, at most ``MAX_DAYS_SPAN`` days long (a day, a weekend, a week; not a month
or a season) and at most ``HORIZON_DAYS`` ahead. ``what`` is the clause around
the expression (up to a comma or full stop) with the expression and its
preposition taken out, in the user's words; a goodbye ("明天再聊", "see you
tomorrow") or a clause with fewer than two Chinese characters or two words left
("明天见") is no plan.

``when`` is a local ISO date (``2025-11-28``) or ``first/last`` for several days
(``2025-12-06/2025-12-07``). A follow-up is due from local midnight after its
last day (``due_ms``), and stale ``STALE_DAYS`` days later: nobody wants to be
asked about an exam a month on (an old import, a long holiday from the app).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from .cjk import ideograph_count
from .dates import find_spans, local_date
from .dates_calc import CLAUSE_END
from .models import FollowUp, Message

__all__ = [
    "HORIZON_DAYS", "MAX_DAYS_SPAN", "MAX_WHAT_CHARS", "STALE_DAYS", "due_ms", "extract",
    "is_plan", "parse_when", "when_text",
]

MAX_DAYS_SPAN = 7
HORIZON_DAYS = 366
STALE_DAYS = 3
MAX_WHAT_CHARS = 120
DAY_MS = 86_400_000

_WORDS = re.compile(r"[A-Za-z]{2,}")
# Left over around the expression: prepositions and joiners, not the plan.
_EDGE_EN = re.compile(r"^(?:on|in|at|by|this|next|until|and|so|but)\b\s*|\s*\b(?:on|in|at|by|"
                      r"this|next|until|and|so|but)$", re.I)
_EDGE_ZH = re.compile(r"^[在于到的，,、\s]+|[在于到的，,、\s]+$")
# Goodbyes name a time but no plan: "明天再聊", "see you tomorrow".
_FAREWELL = re.compile(r"^(?:我们)?再?(?:见|聊|说|联系)|^(?:see|talk to|catch|speak to|chat"
                       r"(?: with)?)\s+(?:you|ya)\b|^(?:bye|good ?night)", re.I)
_WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:/(\d{4}-\d{2}-\d{2}))?$")


def when_text(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}/{last.isoformat()}"


def parse_when(text: str) -> tuple[date, date] | None:
    """``(first, last)`` local days of a ``when``, or None if it is not one."""
    m = _WHEN.match(text)
    if m is None:
        return None
    try:
        first = date.fromisoformat(m[1])
        last = date.fromisoformat(m[2]) if m[2] else first
    except ValueError:
        return None
    return (first, last) if first <= last else None


def due_ms(follow: FollowUp, offset_minutes: int) -> int | None:
    """Local midnight after the follow-up's last day, as UTC ms (None: bad ``when``)."""
    days = parse_when(follow.when)
    if days is None:
        return None
    end = days[1] + timedelta(days=1)
    return ((end - date(1970, 1, 1)).days * 86400 - offset_minutes * 60) * 1000


def _clause(text: str, start: int, stop: int) -> tuple[int, int]:
    lo = max((e.end() for e in CLAUSE_END.finditer(text, 0, start)), default=0)
    hi = next((e.start() for e in CLAUSE_END.finditer(text, stop)), len(text))
    return lo, hi


def _what(text: str, start: int, stop: int) -> str:
    lo, hi = _clause(text, start, stop)
    left, right = text[lo:start].strip(), text[stop:hi].strip()
    for _ in range(2):
        left, right = _EDGE_EN.sub("", left).strip(), _EDGE_EN.sub("", right).strip()
        left, right = _EDGE_ZH.sub("", left), _EDGE_ZH.sub("", right)
    joiner = " " if left and right and (left[-1].isascii() or right[0].isascii()) else ""
    what = " ".join(f"{left}{joiner}{right}".split())
    return what[:MAX_WHAT_CHARS].rstrip()


def is_plan(what: str) -> bool:
    """A plan, not a goodbye, with at least two Chinese characters or two words."""
    if _FAREWELL.match(what):
        return False
    return ideograph_count(what) >= 2 or len(_WORDS.findall(what)) >= 2


def extract(messages: Sequence[Message], offset_minutes: int) -> list[FollowUp]:
    """The follow-ups in the user's messages, in order, without duplicates."""
    out: list[FollowUp] = []
    seen: set[tuple[str, str]] = set()
    for m in messages:
        if m.role != "user" or not m.content:
            continue
        said = local_date(m.timestamp, offset_minutes)
        for span in find_spans(m.content, m.timestamp, offset_minutes):
            first = local_date(span.start_ms, offset_minutes)
            last = local_date(span.end_ms - 1, offset_minutes)
            if (first <= said or (last - first).days + 1 > MAX_DAYS_SPAN
                    or (first - said).days > HORIZON_DAYS):
                continue
            start = m.content.find(span.text)
            if start < 0:  # the text differs (wide digits): not worth guessing
                continue
            what = _what(m.content, start, start + len(span.text))
            when = when_text(first, last)
            if is_plan(what) and (what, when) not in seen:
                seen.add((what, when))
                out.append(FollowUp(what=what, when=when))
    return out
