"""Memory housekeeping requests: fold turns into the summary, write the diary,
its title, and the recursive self-concept and user profile.

Every request is sized before it is sent: prompt + ``max_tokens`` <= budget.
Outputs are cut to their section cap, so memory texts cannot grow unbounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from ..prompts import PromptSet
from .context import Budget, turn_spans
from .errors import BudgetError
from .models import Message, Profile
from .ports import ChatModel, ChatRequest, TokenCounter
from .tokens import request_tokens, truncate, truncate_middle

SUMMARY_SENTENCES = 20
DIARY_SENTENCES = 15
PROFILE_SENTENCES = 20
TITLE_TOKENS = 40


def _clean(text: str) -> str:
    """Model output as plain memory text: no wrapping quotes or fences."""
    text = text.strip()
    text = re.sub(r"^```[a-zA-Z]*\n?|\n?```$", "", text).strip()
    return text


class Housekeeper:
    def __init__(
        self, chat: ChatModel, prompts: PromptSet, counter: TokenCounter, budget: Budget
    ) -> None:
        self.chat = chat
        self.prompts = prompts
        self.counter = counter
        self.budget = budget
        self.requests = 0

    # -- plumbing ---------------------------------------------------------

    def _ask(self, purpose: str, prompt: str, max_tokens: int) -> str:
        messages = [{"role": "user", "content": prompt}]
        need = request_tokens(self.counter, messages) + max_tokens
        if need > self.budget.total:
            raise BudgetError(
                f"The {purpose} request needs {need} tokens, over the budget of "
                f"{self.budget.total}."
            )
        self.requests += 1
        result = self.chat.complete(
            ChatRequest(messages=messages, max_tokens=max_tokens, purpose=purpose)
        )
        return _clean(result.content)

    def _room(self, template: str, max_tokens: int, **values: str) -> int:
        """Tokens left for the one variable part of ``template``."""
        frame = self.prompts.render(template, **values)
        used = request_tokens(self.counter, [{"role": "user", "content": frame}])
        return self.budget.total - max_tokens - used - 8

    def transcript(
        self, messages: Sequence[Message], offset_minutes: int, line_cap: int
    ) -> list[str]:
        """One line per message: ``- speaker (HH:MM): text``; long text cut."""
        p = self.prompts
        tz = timezone(timedelta(minutes=offset_minutes))
        marker = p.label("truncated")
        lines = []
        for m in messages:
            hhmm = datetime.fromtimestamp(m.timestamp / 1000, tz).strftime("%H:%M")
            if m.role == "assistant" and m.tool_calls:
                descs = []
                for call in m.tool_calls:
                    try:
                        desc = str(json.loads(call.arguments).get("memoryDescription", ""))
                    except (ValueError, AttributeError):
                        desc = call.arguments
                    descs.append(p.label("recall_call", desc=desc))
                text = " ".join(descs)
                speaker = p.label("speaker_assistant")
            else:
                text = m.content
                speaker = p.label(f"speaker_{m.role}")
            text = truncate_middle(self.counter, text.replace("\n", " "), line_cap, marker)
            lines.append(f"- {speaker} ({hhmm}): {text}")
        return lines

    # -- the recursive summary ---------------------------------------------

    def fold(
        self,
        summary: str,
        messages: Sequence[Message],
        profile: Profile,
        offset_minutes: int,
    ) -> tuple[str, int]:
        """Merge the oldest whole turns of ``messages`` that fit one request
        into ``summary``. Returns the new summary and how many messages it
        took (always at least one turn)."""
        p, cap = self.prompts, self.budget.summary_cap
        old = truncate(self.counter, summary, cap, p.label("truncated")) or p.label("no_summary")
        names = {"self_name": profile.self_name, "user_name": profile.user_name}
        room = self._room(
            "summary", cap, summary=old, messages="", max_sentences=str(SUMMARY_SENTENCES),
            **names,
        )
        if room < 64:
            raise BudgetError("The token budget is too small to update the summary.")
        lines: list[str] = []
        used = taken = 0
        for start, end in turn_spans(messages):
            turn = self.transcript(messages[start:end], offset_minutes, max(32, room // 3))
            n = sum(self.counter.count(line) + 1 for line in turn)
            if used + n > room:
                if taken == 0:  # a single huge turn: take what fits of it
                    for line in turn:
                        k = self.counter.count(line) + 1
                        if used + k > room:
                            break
                        lines.append(line)
                        used += k
                    taken = end
                break
            lines.extend(turn)
            used += n
            taken = end
        prompt = p.render(
            "summary", summary=old, messages="\n".join(lines),
            max_sentences=str(SUMMARY_SENTENCES), **names,
        )
        new = self._ask("summary", prompt, cap)
        return truncate(self.counter, new, cap, ""), taken

    # -- end of conversation ------------------------------------------------

    def diary(
        self, summary: str, tail: Sequence[Message], profile: Profile, offset_minutes: int
    ) -> str:
        """A first-person diary entry from the summary and the unsummarised
        tail (which the caller made fit: see ``diary_room``)."""
        p, cap = self.prompts, self.budget.diary_cap
        prompt = p.render(
            "diary",
            summary=truncate(self.counter, summary, self.budget.summary_cap, "")
            or p.label("no_summary"),
            messages="\n".join(self.transcript(tail, offset_minutes, 10**9)),
            max_sentences=str(DIARY_SENTENCES),
            self_name=profile.self_name,
            user_name=profile.user_name,
        )
        return truncate(self.counter, self._ask("diary", prompt, cap), cap, "")

    def diary_room(self, summary: str, profile: Profile) -> int:
        """Tokens the unsummarised tail may take in the diary request."""
        p = self.prompts
        return self._room(
            "diary", self.budget.diary_cap,
            summary=truncate(self.counter, summary, self.budget.summary_cap, "")
            or p.label("no_summary"),
            messages="", max_sentences=str(DIARY_SENTENCES),
            self_name=profile.self_name, user_name=profile.user_name,
        )

    def title(self, diary: str) -> str:
        text = self._ask("title", self.prompts.render("title", diary=diary), TITLE_TOKENS)
        text = text.splitlines()[0] if text else ""
        text = text.strip().strip("\"'“”‘’《》「」#*").strip()
        text = re.sub(r"^(标题|title)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
        return truncate(self.counter, text, TITLE_TOKENS, "") or diary[:15]

    def update_memory(self, which: str, old: str, diary: str) -> str:
        """Recursive update of the self-concept (``self``) or profile (``user``)."""
        cap = self.budget.self_cap if which == "self" else self.budget.user_cap
        template = "self_update" if which == "self" else "profile_update"
        p = self.prompts
        prompt = p.render(
            template,
            memory=truncate(self.counter, old, cap, "") or p.label("no_memory"),
            diary=truncate(self.counter, diary, self.budget.diary_cap, ""),
            max_sentences=str(PROFILE_SENTENCES),
        )
        return truncate(self.counter, self._ask(template, prompt, cap), cap, "")
