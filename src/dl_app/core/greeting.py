"""A proactive greeting when the user comes back after a long absence.

The absence is measured from the last message of the conversation, or, when
there is none, from the end of the latest diary entry. The greeting request
is built from the ``greeting`` prompt (names, memories, the latest diary
entry, the real world) and fits the token budget. The greeting is stored as
an assistant message of its own turn, so the model sees it next time; a
conversation that went idle becomes a diary entry first, which makes the
greeting the first message of the new conversation.

With check-ins on (``checkin.py``), a due follow-up turns the greeting into a
check-in about it: one message, never both. ``checkin_only`` (the app asks
while it runs) leaves the greeting after an absence out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import checkin
from .errors import BadResponse, msg
from .models import ConversationState, DiaryEntry, Message, new_id
from .ports import ChatRequest
from .tokens import request_tokens, truncate

if TYPE_CHECKING:
    from .engine import MemoryEngine

__all__ = ["build_request", "greet", "is_due", "last_seen"]

HOUR_MS = 3_600_000


def last_seen(engine: MemoryEngine, state: ConversationState | None = None) -> int | None:
    """When the user was last here: the last message, else the latest diary entry's end."""
    state = state or engine.state.load()
    if state.messages:
        return max(m.timestamp for m in state.messages)
    latest = engine.diary.list(0, 1)
    return latest[0].end_time if latest else None


def is_due(engine: MemoryEngine, hours: float, state: ConversationState | None = None) -> bool:
    seen = last_seen(engine, state)
    return seen is not None and engine.clock.now_ms() - seen >= hours * HOUR_MS


def build_request(
    engine: MemoryEngine,
    state: ConversationState,
    entry: DiaryEntry | None,
    away_ms: int,
) -> ChatRequest:
    """The greeting request; the prompt plus the answer fit the budget."""
    p, counter, budget = engine.prompts, engine.counter, engine.config.budget
    marker = p.label("truncated")
    profile = state.profile
    values: dict[str, Any] = {
        "self_name": profile.self_name,
        "user_name": profile.user_name,
        "about_self": truncate(
            counter, profile.memory_about_self or p.label("no_memory"), budget.self_cap, marker
        ),
        "about_user": truncate(
            counter, profile.memory_about_user or p.label("no_memory"), budget.user_cap, marker
        ),
        "world": "\n".join(f"- {line}" for line in engine.world_lines(state, [], now=True)),
        "hours": max(1, round(away_ms / HOUR_MS)),
    }
    memory = f"{entry.title}\n{entry.summary}" if entry else p.label("no_memory")

    def messages(mem_text: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": p.render("greeting", memory=mem_text, **values)}]

    fixed = request_tokens(counter, messages(""))
    room = budget.prompt - fixed
    out = messages(truncate(counter, memory, room, marker) if room > 0 else "")
    if request_tokens(counter, out) > budget.prompt:  # names or the world alone too long
        out = messages("")
        text = truncate(counter, out[0]["content"], budget.prompt - 16, marker)
        out = [{"role": "user", "content": text}]
    return ChatRequest(
        messages=out, max_tokens=budget.reply, temperature=engine.config.temperature,
        purpose="greeting",
    )


def greet(
    engine: MemoryEngine,
    hours: float,
    rules: checkin.CheckinRules | None = None,
    *,
    checkin_only: bool = False,
) -> Message | None:
    """Greet the user if they were away at least ``hours``, or check in about a
    due follow-up (``rules``); None otherwise.

    Stores the message as an assistant message of a new turn. Raises a
    ``DLError`` when the model fails (nothing is stored then)."""
    with engine.lock:
        engine.recover()
        state = engine.state.load()
        seen = last_seen(engine, state)
        now = engine.clock.now_ms()
        away = not checkin_only and seen is not None and now - seen >= hours * HOUR_MS
        follow = checkin.pick(engine, rules, state) if rules is not None else None
        if not away and follow is None:
            return None
        if state.messages and engine.is_idle(state):
            engine.consolidate()  # the old conversation becomes a diary entry first
            state = engine.state.load()
        if follow is not None:
            message = checkin.check_in(engine, state, follow)
            if message is not None or not away:
                return message  # a rejected check-in: the greeting after all
        if seen is None:
            return None
        latest = engine.diary.list(0, 1)
        request = build_request(engine, state, latest[0] if latest else None, now - seen)
        text = engine.chat.complete(request).content.strip()
        if not text:
            raise BadResponse(msg("chat.empty_greeting"))
        message = Message(
            role="assistant", content=text, timestamp=engine.clock.now_ms(), turn_id=new_id()
        )
        engine.state.commit_turn([message], [])
        return message
