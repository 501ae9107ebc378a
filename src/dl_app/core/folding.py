"""Folding: the oldest unsummarised turns of the conversation merged into its
running summary (``ConversationState.summary``; ``folded_count`` messages are in it).

Two moments fold: before a request, when unsummarised turns would fall out of
the window (``until_fits``), and after a turn, when the unsummarised tail
nearly fills the room for messages (``proactively``), so the next turns need
no folding. Each fold is one housekeeping request; the stored summary and
``folded_count`` change together, after each fold.
"""

from __future__ import annotations

from collections.abc import Callable

from ..prompts import PromptSet
from .context import ContextPlan, to_openai
from .housekeeping import Housekeeper
from .models import ConversationState
from .ports import StateStore, TokenCounter
from .tokens import message_tokens

__all__ = ["Folder"]


class Folder:
    """Folds for one engine. ``high`` and ``low`` are shares of the room for
    messages: after a turn, a tail over ``high`` is folded down to ``low``."""

    def __init__(
        self,
        keeper: Housekeeper,
        state: StateStore,
        counter: TokenCounter,
        prompts: PromptSet,
        offset: Callable[[], int],
        *,
        high: float,
        low: float,
    ) -> None:
        self.keeper = keeper
        self.state = state
        self.counter = counter
        self.prompts = prompts
        self.offset = offset
        self.high = high
        self.low = low

    def until_fits(self, state: ConversationState, target: int) -> ConversationState:
        """Fold unsummarised messages until ``folded_count >= target``."""
        summary, folded = state.summary, state.folded_count
        while folded < target:
            summary, taken = self.keeper.fold(
                summary, state.messages[folded:], state.profile, self.offset()
            )
            folded += max(taken, 1)
        self.state.set_summary(summary, folded)
        return state.model_copy(update={"summary": summary, "folded_count": folded})

    def _tokens(self, state: ConversationState, start: int) -> int:
        rest = to_openai(state.messages[start:], self.prompts)
        return sum(message_tokens(self.counter, m) for m in rest)

    def proactively(self, plan: ContextPlan) -> None:
        """After a turn: if the unsummarised tail nearly fills the room for
        messages, fold its oldest turns (in as few requests as possible) so the
        next turns need no folding."""
        state = self.state.load()
        if not state.messages[state.folded_count :]:
            return
        room = plan.history_tokens + plan.current_tokens + (
            plan.budget.prompt - plan.prompt_tokens
        )
        if self._tokens(state, state.folded_count) <= room * self.high:
            return
        summary, folded = state.summary, state.folded_count
        while True:
            rest = state.messages[folded:]
            if self._tokens(state, folded) <= room * self.low or len(rest) <= 2:
                break
            summary, taken = self.keeper.fold(summary, rest, state.profile, self.offset())
            folded += max(taken, 1)
            self.state.set_summary(summary, folded)
