"""Follow-ups the rules cannot tell: the model is asked, and only then.

Rules first (``followups.extract``). A user message the rules found no plan in but
that speaks of the future ("过两天我要去北京出差", "I'm moving at the end of the
month": ``FUTURE``) is the only thing sent, with the local date and time it was said
(prompt ``followups``), within the token budget: lines that do not fit are left out.
Only while check-ins are on (the caller decides: ``EngineConfig.followups_model``).

The answer is checked like every housekeeping output, and what fails is dropped,
nothing else lost: not JSON, or not a list of ``{what, when}`` objects → the whole
answer is ignored (listed among the rejections as ``followups``); an item whose
``when`` is no date, is not after the day it was said, spans more than
``MAX_DAYS_SPAN`` days or lies beyond ``HORIZON_DAYS``, whose ``what`` is no plan, or
uses none of the user's words (made up) → that item is left out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from .cjk import IDEOGRAPHS
from .dates import local_date
from .errors import DLError
from .followups import HORIZON_DAYS, MAX_DAYS_SPAN, MAX_WHAT_CHARS, extract, is_plan, parse_when
from .housekeeping import PLAIN_LINE_TOKENS, Housekeeper
from .models import FollowUp, Message
from .timefmt import format_datetime
from .tokens import truncate

__all__ = ["FUTURE", "MAX_ITEMS", "REPLY_TOKENS", "ask", "check_answer", "unresolved"]

log = logging.getLogger(__name__)

REPLY_TOKENS = 300
MAX_ITEMS = 10
PURPOSE = "followups"

FUTURE = re.compile(
    r"过[一两几些]*(?:天|阵子|礼拜)|[一二两三四五六七八九十几\d]+(?:天|周|个星期)(?:以?后|之后)|"
    r"月底|月初|月中|年底|周末|下(?:个)?(?:周|星期|礼拜|月)|改天|到时候|打算|准备|计划|"
    r"要去|得去|将要|快要|就要|"
    r"\b(?:will|going to|gonna|plan(?:ning)? to|about to|next|tomorrow|upcoming|soon|"
    r"in (?:a|an|two|three|four|five|a few|a couple of|\d+) (?:days?|weeks?)|"
    r"end of (?:the|this|next) (?:week|month)|this (?:weekend|week|month))\b|\w'll\b",
    re.I,
)
_IDEOGRAPH = re.compile(f"[{IDEOGRAPHS}]")
_WORD = re.compile(r"[a-z]{3,}")


def unresolved(messages: Sequence[Message], offset_minutes: int) -> list[Message]:
    """The user's messages that speak of the future and gave the rules nothing."""
    out = []
    for m in messages:
        if m.role != "user" or not m.content or not FUTURE.search(m.content):
            continue
        if not extract([m], offset_minutes):
            out.append(m)
    return out


def _grounded(what: str, said: str) -> bool:
    """``what`` uses the user's words: two Chinese characters in a row, or a word of
    three letters or more, that the user wrote."""
    chars = "".join(_IDEOGRAPH.findall(what))
    if any(chars[i:i + 2] in said for i in range(len(chars) - 1)):
        return True
    lower = said.lower()
    return any(w in lower for w in _WORD.findall(what.lower()))


def check_answer(text: str, asked: Sequence[Message], offset_minutes: int
                 ) -> tuple[list[FollowUp], str | None]:
    """``(follow-ups, problem)``: the items that pass; ``problem`` when the whole
    answer is unusable (then no items)."""
    body = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", text.strip())
    try:
        data = json.loads(body)
    except ValueError:
        return [], "not JSON"
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        return [], "not a list of objects"
    if not asked:
        return [], None
    said = "\n".join(m.content for m in asked)
    earliest = min(local_date(m.timestamp, offset_minutes) for m in asked)
    latest = max(local_date(m.timestamp, offset_minutes) for m in asked)
    out: list[FollowUp] = []
    for item in data[:MAX_ITEMS]:
        what, when = item.get("what"), item.get("when")
        if not isinstance(what, str) or not isinstance(when, str):
            continue
        what = " ".join(what.split())[:MAX_WHAT_CHARS].rstrip()
        days = parse_when(when.strip())
        if days is None or not what:
            continue
        first, last = days
        if (first <= earliest or (last - first).days + 1 > MAX_DAYS_SPAN
                or (first - latest).days > HORIZON_DAYS):
            continue
        if is_plan(what) and _grounded(what, said):
            out.append(FollowUp(what=what, when=when.strip()))
    return out, None


def ask(keeper: Housekeeper, messages: Sequence[Message], known: Sequence[FollowUp],
        offset_minutes: int) -> list[FollowUp]:
    """The model's follow-ups for what the rules could not tell (see the module's text);
    [] when there is nothing to ask, it does not fit, or the model fails."""
    asked = unresolved(messages, offset_minutes)
    if not asked:
        return []
    p = keeper.prompts
    room = keeper._room(PURPOSE, REPLY_TOKENS, lines="")
    lines: list[str] = []
    used = 0
    kept: list[Message] = []
    for m in asked:
        text = truncate(keeper.counter, " ".join(m.content.split()), PLAIN_LINE_TOKENS, "…")
        line = f"- {format_datetime(m.timestamp, offset_minutes, p.lang)}: {text}"
        n = keeper.counter.count(line) + 1
        if used + n > room:
            break
        lines.append(line)
        kept.append(m)
        used += n
    if not lines:
        return []
    try:
        answer = keeper._ask(PURPOSE, p.render(PURPOSE, lines="\n".join(lines)), REPLY_TOKENS)
    except DLError as e:  # optional: the diary entry is written without them
        log.warning("follow-ups were not asked of the model: %s", e)
        return []
    found, problem = check_answer(answer, kept, offset_minutes)
    if problem is not None:
        log.warning("The model's follow-ups were not used (%s).", problem)
        keeper.reject(PURPOSE, "malformed", f"{problem}: {answer[:80]}")
        return []
    seen = {(f.what, f.when) for f in known}
    out = []
    for f in found:
        if (f.what, f.when) not in seen:
            seen.add((f.what, f.when))
            out.append(f)
    return out
