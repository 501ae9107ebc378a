"""Memory housekeeping requests: fold turns into the summary, write the diary,
its title, and the recursive self-concept and user profile.

Every request is sized before it is sent: prompt + ``max_tokens`` <= budget.
Every output is checked before it is kept (``output_check``: empty, the prompt
echoed, repetition, over its cap); a rejected one is logged and listed in
``rejected`` and the previous version stays. What would be lost is built by
rules instead: a rejected diary becomes the user's own lines, dated; a rejected
summary keeps the old one and adds the user's lines of the folded turns.
Outputs are cut to their section cap, so memory texts cannot grow unbounded.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..prompts import PromptSet
from .context import Budget, turn_spans
from .errors import BudgetError, EmptyReply, msg
from .models import ConversationState, Message, Profile
from .output_check import Rejection, check, dump_rejections, forbidden, load_rejections, tidy
from .ports import ChatModel, ChatRequest, Notes, ProgressFn, TokenCounter
from .timefmt import format_date
from .tokens import request_tokens, truncate, truncate_middle

SUMMARY_SENTENCES = 20
DIARY_SENTENCES = 15
PROFILE_SENTENCES = 20
TITLE_TOKENS = 40
PLAIN_TITLE_TOKENS = 12  # a title built from the first user line
PLAIN_LINE_TOKENS = 60  # each user line quoted in a plain entry
REJECTIONS_KEPT = 20
REJECTIONS_NOTE = "rejected"
# The kind of memory text each housekeeping request writes.
KINDS = {"summary": "summary", "diary": "diary", "title": "title",
         "self_update": "self", "profile_update": "user"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndTexts:
    """What a conversation leaves: its diary entry and the updated memories."""

    diary: str
    title: str
    memory_about_self: str
    memory_about_user: str


class Housekeeper:
    def __init__(
        self,
        chat: ChatModel,
        prompts: PromptSet,
        counter: TokenCounter,
        budget: Budget,
        now: Callable[[], int] = lambda: 0,
        notes: Notes | None = None,
    ) -> None:
        self.chat = chat
        self.prompts = prompts
        self.counter = counter
        self.budget = budget
        self.now = now
        self.requests = 0
        self.notes = notes  # where the rejections are kept across restarts
        self.rejected: deque[Rejection] = deque(
            load_rejections(notes.note(REJECTIONS_NOTE)) if notes else (), maxlen=REJECTIONS_KEPT
        )

    # -- plumbing ---------------------------------------------------------

    def _ask(self, purpose: str, prompt: str, max_tokens: int) -> str:
        messages = [{"role": "user", "content": prompt}]
        need = request_tokens(self.counter, messages) + max_tokens
        if need > self.budget.total:
            raise BudgetError(msg("budget.housekeeping", purpose=purpose, need=need,
                                  budget=self.budget.total))
        self.requests += 1
        try:
            result = self.chat.complete(
                ChatRequest(messages=messages, max_tokens=max_tokens, purpose=purpose)
            )
        except EmptyReply:
            return ""  # an output like any other: rejected as empty
        return tidy(KINDS.get(purpose, purpose), result.content)

    def _accept(
        self, purpose: str, text: str, cap: int, source: Sequence[Message] = ()
    ) -> str | None:
        """``text`` cut to ``cap``, or None (logged and listed) if it is junk;
        ``source``: the messages it was made from (a copy of them is junk)."""
        kind = KINDS[purpose]
        said = [m.content for m in source if m.content]
        problem = check(text, forbidden(self.prompts), self.counter, cap, said)
        if problem is None:
            return truncate(self.counter, text, cap, "")
        reason, detail = problem
        log.warning("The model's %s was not stored (%s: %s); the previous one is kept.",
                    kind, reason, detail)
        self.reject(kind, reason, detail)
        return None

    def reject(self, kind: str, reason: str, detail: str) -> None:
        """List a rejected output (kept across restarts when there are notes)."""
        self.rejected.append(Rejection(kind, reason, detail, self.now()))
        if self.notes is not None:
            self.notes.set_note(REJECTIONS_NOTE, dump_rejections(self.rejected))

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
            raise BudgetError(msg("budget.summary"))
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
        new = self._accept("summary", self._ask("summary", prompt, cap), cap, messages[:taken])
        if new is None:
            new = self.plain_summary(summary, messages[:taken], profile)
        return new, taken

    # -- end of conversation ------------------------------------------------

    def diary(
        self, summary: str, tail: Sequence[Message], profile: Profile, offset_minutes: int
    ) -> str | None:
        """A first-person diary entry from the summary and the unsummarised
        tail (which the caller made fit: see ``diary_room``); None if rejected."""
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
        return self._accept("diary", self._ask("diary", prompt, cap), cap, tail)

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

    def title(self, diary: str) -> str | None:
        text = self._ask("title", self.prompts.render("title", diary=diary), TITLE_TOKENS)
        return self._accept("title", text, TITLE_TOKENS)

    def update_memory(self, which: str, old: str, diary: str) -> str | None:
        """Recursive update of the self-concept (``self``) or profile (``user``);
        None if the output was rejected."""
        cap = self.budget.self_cap if which == "self" else self.budget.user_cap
        template = "self_update" if which == "self" else "profile_update"
        p = self.prompts
        prompt = p.render(
            template,
            memory=truncate(self.counter, old, cap, "") or p.label("no_memory"),
            diary=truncate(self.counter, diary, self.budget.diary_cap, ""),
            max_sentences=str(PROFILE_SENTENCES),
        )
        return self._accept(template, self._ask(template, prompt, cap), cap)

    # -- what a conversation leaves ------------------------------------------

    def conclude(
        self,
        state: ConversationState,
        tail: Sequence[Message],
        offset_minutes: int,
        step: ProgressFn,
        *,
        memories: bool = True,
    ) -> EndTexts:
        """The diary entry, its title and the updated self-concept and profile.
        A rejected diary is replaced by the user's own lines (``plain_diary``)
        and the memories are then left as they were; a rejected title or memory
        keeps the old one. ``memories`` False: the self-concept and profile are
        not asked for (the demo model) and stay as they were."""
        profile, total = state.profile, 5
        diary = self.diary(state.summary, tail, profile, offset_minutes)
        step(1, total)
        if diary is None:
            for done in (2, 3, 4):
                step(done, total)
            return EndTexts(
                self.plain_diary(state.messages, profile, offset_minutes),
                self.plain_title(state.messages, profile),
                profile.memory_about_self, profile.memory_about_user,
            )
        title = self.title(diary) or self.plain_title(state.messages, profile)
        step(2, total)
        about_self = about_user = None
        if memories:
            about_self = self.update_memory("self", profile.memory_about_self, diary)
        step(3, total)
        if memories:
            about_user = self.update_memory("user", profile.memory_about_user, diary)
        step(4, total)
        return EndTexts(diary, title, about_self or profile.memory_about_self,
                        about_user or profile.memory_about_user)

    def _quotes(self, messages: Sequence[Message], room: int) -> str:
        """The user's lines, oldest first, quoted, as many as ``room`` tokens hold."""
        quotes: list[str] = []
        used = 0
        for m in messages:
            text = " ".join(m.content.split()) if m.role == "user" else ""
            if not text:
                continue
            text = truncate(self.counter, text, PLAIN_LINE_TOKENS, "…")
            quote = self.prompts.label("plain_quote", text=text)
            n = self.counter.count(quote) + 1
            if used + n > room:
                break
            quotes.append(quote)
            used += n
        return " ".join(quotes)

    def plain_diary(
        self, messages: Sequence[Message], profile: Profile, offset_minutes: int
    ) -> str:
        """A diary entry built by rules: the date and the first user lines."""
        p, cap = self.prompts, self.budget.diary_cap
        date = format_date(min(m.timestamp for m in messages), offset_minutes, p.lang)
        frame = p.label("plain_diary", date=date, user_name=profile.user_name, lines="")
        lines = self._quotes(messages, cap - self.counter.count(frame))
        text = p.label("plain_diary", date=date, user_name=profile.user_name, lines=lines)
        return truncate(self.counter, text, cap, "")

    def plain_title(self, messages: Sequence[Message], profile: Profile) -> str:
        """The first line the user wrote, cut short (or "a talk with ...")."""
        for m in messages:
            text = m.content.strip() if m.role == "user" else ""
            if text:
                return truncate(self.counter, text.splitlines()[0].strip(),
                                PLAIN_TITLE_TOKENS, "…")
        return self.prompts.label("plain_title", user_name=profile.user_name)

    def plain_summary(
        self, summary: str, messages: Sequence[Message], profile: Profile
    ) -> str:
        """The old summary with the user's lines of ``messages`` added (newest kept)."""
        cap = self.budget.summary_cap
        lines = self._quotes(messages, cap)
        if not lines:
            return truncate(self.counter, summary, cap, "")
        added = self.prompts.label("plain_summary", user_name=profile.user_name, lines=lines)
        text = f"{summary}\n{added}".strip()
        return truncate_middle(self.counter, text, cap, "…")
