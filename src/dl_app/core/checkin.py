"""Check-ins: after a follow-up's time (``followups.py``), the companion may start
the conversation with one short message about it ("考试怎么样？").

The rules, so that it never becomes a nuisance (``CheckinRules``):

- off unless the user turned it on; nothing is sent to a model while it is off;
- at most ``per_day`` check-ins shown per local day;
- none in quiet hours (``quiet_start`` to ``quiet_end``, local, across midnight
  when start > end; equal times: no quiet hours);
- never two in a row: not while the last check-in awaits the user's reply
  (``StateStore.awaiting_reply``, kept across restarts and consolidation), nor
  while the conversation ends in a companion's turn without the user's (a greeting);
- each follow-up at most once: due from the midnight after its day, stale
  ``followups.STALE_DAYS`` later; the latest due goes first.

The message is written by the model from the follow-up, the diary entry it was
noted in and what the companion knows of the user, within the token budget,
and checked like a housekeeping output (``output_check``) before it is shown. A
rejected one is listed with the rejections and its follow-up counts as asked
(no retry loop spending tokens); a failed request leaves everything as it was.
The check-in is committed as a turn of its own with the follow-up marked, in one
transaction, so a restart never repeats it. ``greeting.greet`` calls ``pick``
and ``check_in``: a check-in replaces the greeting after an absence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import EmptyReply
from .followups import DAY_MS, STALE_DAYS, due_ms
from .models import ConversationState, DiaryEntry, FollowUp, Message, new_id
from .output_check import HOUSEKEEPING_TEMPLATES, check, forbidden, tidy
from .ports import ChatRequest
from .tokens import request_tokens, truncate

if TYPE_CHECKING:
    from .engine import MemoryEngine

__all__ = ["CHECKIN_TOKENS", "CheckinRules", "build_request", "check_in", "pick", "recent"]

CHECKIN_TOKENS = 120  # one short sentence
MINUTES_PER_DAY = 1440

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckinRules:
    enabled: bool = False
    per_day: int = 2
    quiet_start: int = 23 * 60  # minutes after local midnight
    quiet_end: int = 8 * 60


def _local_minutes(now_ms: int, offset_minutes: int) -> int:
    return (now_ms // 60_000 + offset_minutes) % MINUTES_PER_DAY


def _local_day(ms: int, offset_minutes: int) -> int:
    return (ms + offset_minutes * 60_000) // DAY_MS


def quiet(rules: CheckinRules, now_ms: int, offset_minutes: int) -> bool:
    m, lo, hi = _local_minutes(now_ms, offset_minutes), rules.quiet_start, rules.quiet_end
    if lo == hi:
        return False
    return lo <= m < hi if lo < hi else (m >= lo or m < hi)


def _awaits_reply(state: ConversationState) -> bool:
    """The conversation ends in a turn without the user's message (a greeting)."""
    if not state.messages:
        return False
    last_turn = state.messages[-1].turn_id
    return not any(m.role == "user" and m.turn_id == last_turn for m in state.messages)


def pick(
    engine: MemoryEngine, rules: CheckinRules, state: ConversationState | None = None
) -> FollowUp | None:
    """The follow-up to check in about now, or None (the rules above)."""
    if not rules.enabled:
        return None
    now = engine.clock.now_ms()
    offset = engine.clock.utc_offset_minutes(now)
    if quiet(rules, now, offset) or engine.state.awaiting_reply():
        return None
    if _awaits_reply(state or engine.state.load()):
        return None
    follows = engine.state.follow_ups()
    today = _local_day(now, offset)
    shown = [f for f in follows if f.asked_at is not None and f.message_id
             and _local_day(f.asked_at, offset) == today]
    if len(shown) >= rules.per_day:
        return None
    best: tuple[int, FollowUp] | None = None
    for f in follows:
        due = due_ms(f, offset)
        if f.asked_at is not None or due is None or not due <= now < due + STALE_DAYS * DAY_MS:
            continue
        if best is None or due > best[0]:
            best = (due, f)
    return best[1] if best else None


def build_request(
    engine: MemoryEngine, state: ConversationState, follow: FollowUp, entry: DiaryEntry | None
) -> ChatRequest:
    """The check-in request; the prompt plus the answer fit the budget."""
    p, counter, budget = engine.prompts, engine.counter, engine.config.budget
    marker = p.label("truncated")
    profile = state.profile
    reply = min(budget.reply, CHECKIN_TOKENS)
    values: dict[str, Any] = {
        "self_name": profile.self_name,
        "user_name": profile.user_name,
        "about_user": truncate(
            counter, profile.memory_about_user or p.label("no_memory"), budget.user_cap, marker
        ),
        "world": "\n".join(f"- {line}" for line in engine.world_lines(state, [], now=True)),
        "what": follow.what,
        "when": follow.when,
    }
    memory = f"{entry.title}\n{entry.summary}" if entry else p.label("no_memory")

    def messages(mem_text: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": p.render("checkin", memory=mem_text, **values)}]

    room = budget.total - reply - request_tokens(counter, messages(""))
    out = messages(truncate(counter, memory, room, marker) if room > 0 else "")
    if request_tokens(counter, out) > budget.total - reply:  # the rest alone too long
        text = truncate(counter, messages("")[0]["content"], budget.total - reply - 16, marker)
        out = [{"role": "user", "content": text}]
    return ChatRequest(messages=out, max_tokens=reply, temperature=engine.config.temperature,
                       purpose="checkin")


def check_in(engine: MemoryEngine, state: ConversationState, follow: FollowUp) -> Message | None:
    """Ask the model for the check-in about ``follow``, check it, store it with the
    follow-up marked. None when the output was rejected (the follow-up is then
    marked without a message). Raises a ``DLError`` when the model fails."""
    entry = engine.diary.get(follow.entry) if follow.entry else None
    request = build_request(engine, state, follow, entry)
    try:
        text = tidy("checkin", engine.chat.complete(request).content)
    except EmptyReply:
        text = ""
    now = engine.clock.now_ms()
    templates = (*HOUSEKEEPING_TEMPLATES, "checkin")
    problem = check(text, forbidden(engine.prompts, templates), engine.counter,
                    request.max_tokens)
    if problem is not None:
        reason, detail = problem
        log.warning("The model's check-in was not shown (%s: %s).", reason, detail)
        engine.keeper.reject("checkin", reason, detail)
        engine.state.mark_asked(follow.id, now, None)
        return None
    message = Message(role="assistant", content=text, timestamp=now, turn_id=new_id())
    engine.state.mark_asked(follow.id, now, message)
    return message


def recent(engine: MemoryEngine, n: int = 5) -> list[tuple[FollowUp, DiaryEntry | None]]:
    """The latest check-ins shown (newest first) with the diary entry each came from."""
    asked = [f for f in engine.state.follow_ups() if f.asked_at is not None and f.message_id]
    asked.sort(key=lambda f: f.asked_at or 0, reverse=True)
    if not asked:  # no read of the diary (the window shows the chat before it is open)
        return []
    entries = engine.diary.get_many([f.entry for f in asked[:n]])
    return [(f, entries.get(f.entry)) for f in asked[:n]]

