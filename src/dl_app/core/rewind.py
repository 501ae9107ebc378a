"""The conversation before its last turn: what regenerating the last reply or
editing the last user message starts from (pure).

Before each turn the engine notes the conversation's summary, folded position,
recalled entries and length (``TurnSnapshot``); the state store keeps it with
the turn. Rewinding is exact: proactive folding after the turn, recalls during
it and its messages are all undone, in the same transaction that stores the
new turn (``StateStore.commit_turn(rewind=...)``).
"""

from __future__ import annotations

from .errors import NotFound, msg
from .models import ConversationState, Message, TurnSnapshot

__all__ = ["last_user_message", "rewound", "snapshot"]


def snapshot(state: ConversationState, turn_id: str) -> TurnSnapshot:
    """``state`` as it is before the turn ``turn_id``."""
    return TurnSnapshot(
        turn_id=turn_id, summary=state.summary, folded_count=state.folded_count,
        message_count=len(state.messages), recalled=[e.uuid for e in state.recalled],
    )


def last_user_message(state: ConversationState, snap: TurnSnapshot | None) -> Message:
    """The user message that began the last turn; ``NotFound`` when ``snap``
    is not the snapshot of the conversation's last turn."""
    tail = state.messages[snap.message_count :] if snap is not None else []
    if (
        snap is None
        or not tail
        or tail[0].role != "user"
        or any(m.turn_id != snap.turn_id for m in tail)
        or snap.folded_count > snap.message_count
    ):
        raise NotFound(msg("chat.no_last_turn"))
    return tail[0]


def rewound(state: ConversationState, snap: TurnSnapshot | None) -> ConversationState:
    """``state`` as it was before its last turn."""
    last_user_message(state, snap)  # checks that snap is the last turn's
    assert snap is not None
    keep = set(snap.recalled)
    return state.model_copy(update={
        "summary": snap.summary,
        "folded_count": snap.folded_count,
        "messages": state.messages[: snap.message_count],
        "recalled": [e for e in state.recalled if e.uuid in keep],
    })
