"""Context assembly: what one chat request holds, section by section, in budget.

A request is the system message (persona, self-concept, user profile,
conversation summary, recalled memories, real-world info) followed by as many
of the most recent whole turns as fit, and the current turn. Each section has a
cap (a share of the prompt budget) so no section can starve the recent
messages; unused room goes to the messages. The prompt plus the answer's
``max_tokens`` never exceeds the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..prompts import PromptSet
from .errors import BudgetError, DLError, msg
from .models import Attachment, ConversationState, DiaryEntry, Message, Profile
from .ports import TokenCounter, TurnRecord
from .recalled import QuoteLookup, RecalledItem, RecalledWriter, quoted_ids, recalled_items
from .timefmt import format_date
from .tokens import (
    IMAGE_TOKENS,
    REPLY_PRIMING,
    message_tokens,
    tools_tokens,
    truncate,
    truncate_middle,
)


@dataclass(frozen=True)
class Budget:
    """Token budget of every request: prompt + answer <= ``total``."""

    total: int = 3000
    reply: int = 400

    @property
    def prompt(self) -> int:
        return self.total - self.reply

    def share(self, fraction: float, floor: int = 48) -> int:
        return max(floor, int(self.prompt * fraction))

    # Section caps, as shares of the prompt budget.
    @property
    def self_cap(self) -> int:
        return self.share(0.11)

    @property
    def user_cap(self) -> int:
        return self.share(0.11)

    @property
    def summary_cap(self) -> int:
        return self.share(0.14)

    @property
    def recalled_cap(self) -> int:
        # Automatic recall quotes what was said here, as the tool does in its
        # result: the words of the gold turns in the section on LoCoMo conv-26 /
        # conv-30 / the zh fixture were 0.63 / 0.66 / 0.61 at 12 % (312 tokens),
        # 0.73 / 0.71 / 0.72 at 16 % (bench/locomo_autorecall.py); the
        # conversation window gives way.
        return self.share(0.16)

    @property
    def world_cap(self) -> int:
        return self.share(0.05)

    @property
    def diary_cap(self) -> int:
        return self.share(0.14)

    @property
    def tool_result_cap(self) -> int:
        # Quoted messages need room: evidence recall on LoCoMo at 220/330/450
        # tokens was 0.63/0.75/0.79 (bench/locomo_evidence.py); the recalled
        # section and the conversation window give way.
        return self.share(0.16)

    @property
    def document_cap(self) -> int:
        """Text of attached documents in the current message."""
        return self.share(0.25)

    @property
    def image_cap(self) -> int:
        """Pictures in the current message (``IMAGE_TOKENS`` each)."""
        return self.share(0.45, floor=0)


@dataclass(frozen=True)
class TurnExtra:
    """What only the current request carries, added to the user's message:
    document text (already within ``document_cap``), image data URLs, and the
    current time, sent as a short system message right before the user's
    message. The time sits there, at the end of the request, not in the first
    system message: what comes before it stays byte-identical from one minute
    to the next, so a local server's prompt cache (llama.cpp, ollama) keeps the
    whole conversation. A system message of its own, not words added to the
    user's: tiny models repeat the user's message, and repeated the time with it
    (bench/prompt_cache.py)."""

    documents: str = ""
    image_urls: tuple[str, ...] = ()
    time_note: str = ""


@dataclass
class Section:
    name: str
    text: str
    tokens: int
    cap: int | None = None


@dataclass
class ContextPlan:
    """One assembled request, with the accounting the inspector shows."""

    messages: list[dict[str, Any]]
    sections: list[Section]
    tools: list[dict[str, Any]] | None
    budget: Budget
    window_start: int  # index in the conversation of the first message sent
    history_tokens: int  # tokens of earlier turns sent
    current_tokens: int  # tokens of the current turn
    prompt_tokens: int  # everything but the answer
    current_truncated: bool = False
    dropped_turns: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def request_tokens(self) -> int:
        """Prompt plus the answer's reserve: what the budget limits."""
        return self.prompt_tokens + self.budget.reply


def turn_spans(messages: Sequence[Message]) -> list[tuple[int, int]]:
    """``[start, end)`` index spans of whole turns. A turn starts at each user
    message (or where ``turn_id`` changes) and holds what answered it."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(messages) + 1):
        if i == len(messages):
            if messages:
                spans.append((start, i))
            break
        m, prev = messages[i], messages[i - 1]
        if m.role == "user" or (m.turn_id and prev.turn_id and m.turn_id != prev.turn_id):
            spans.append((start, i))
            start = i
    return spans


def attachment_note(a: Attachment, prompts: PromptSet) -> str:
    """The text a message carries for one attachment (never the file itself)."""
    if a.kind == "file":
        return prompts.label("attachment_file", file=a.name)
    if a.description:
        return prompts.label("attachment_image_note", file=a.name, note=a.description)
    return prompts.label("attachment_image", file=a.name)


def message_text(m: Message, prompts: PromptSet) -> str:
    """A message's content followed by its attachments' notes (and, for a
    stopped reply, a note saying the user stopped it)."""
    notes = [attachment_note(a, prompts) for a in m.attachments]
    if m.stopped:
        notes.append(prompts.label("reply_stopped"))
    return "\n".join([m.content, *notes]) if notes else m.content


def to_openai(messages: Sequence[Message], prompts: PromptSet) -> list[dict[str, Any]]:
    """Our messages in OpenAI shape, keeping tool calls paired with results.

    A tool call with no result, or a result with no call (possible in imported
    files), would make the request invalid: unpaired calls are dropped and
    unpaired results are sent as plain assistant text.
    """
    result_ids = {m.tool_call_id for m in messages if m.role == "tool" and m.tool_call_id}
    call_ids: set[str] = set()
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant" and m.tool_calls:
            calls = [c for c in m.tool_calls if c.id in result_ids]
            call_ids.update(c.id for c in calls)
            if calls:
                out.append(
                    {
                        "role": "assistant",
                        "content": m.content or "",
                        "tool_calls": [
                            {
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": c.arguments},
                            }
                            for c in calls
                        ],
                    }
                )
            elif m.content:
                out.append({"role": "assistant", "content": m.content})
        elif m.role == "tool":
            if m.tool_call_id and m.tool_call_id in call_ids:
                out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
            else:
                speaker = prompts.label("speaker_tool")
                out.append({"role": "assistant", "content": f"({speaker}) {m.content}"})
        else:
            out.append({"role": m.role, "content": message_text(m, prompts)})
    return out


def memory_lines(
    entries: Sequence[DiaryEntry], prompts: PromptSet, offset_minutes: int
) -> list[str]:
    lang = prompts.lang
    return [
        prompts.label(
            "memory_line",
            title=e.title,
            start=format_date(e.start_time, offset_minutes, lang),
            end=format_date(e.end_time, offset_minutes, lang),
            summary=e.summary,
        )
        for e in entries
    ]


class ContextBuilder:
    """Builds chat requests within the budget (pure; counts with ``counter``)."""

    def __init__(self, prompts: PromptSet, counter: TokenCounter, budget: Budget,
                 quotes: QuoteLookup | None = None) -> None:
        self.prompts = prompts
        self.counter = counter
        self.budget = budget
        self.quotes = quotes  # the words of archived messages that recall quoted

    # -- sections ---------------------------------------------------------

    def _capped(self, name: str, template: str, cap: int, body_key: str, body: str,
                **values: str) -> Section:
        marker = self.prompts.label("truncated")
        frame = self.prompts.render(template, **{body_key: ""}, **values)
        room = cap - self.counter.count(frame) - 1
        text = self.prompts.render(
            template, **{body_key: truncate(self.counter, body, max(room, 0), marker)}, **values
        )
        return Section(name, text, self.counter.count(text), cap)

    def persona(self, profile: Profile, with_tools: bool) -> Section:
        names = {"self_name": profile.self_name, "user_name": profile.user_name}
        text = self.prompts.render("persona", **names)
        if with_tools:
            text += "\n\n" + self.prompts.render("recall_tool", **names)
        return Section("persona", text, self.counter.count(text))

    def sections(
        self,
        state: ConversationState,
        *,
        with_tools: bool,
        world_lines: Sequence[str],
        recalled: Sequence[RecalledItem],
        offset_minutes: int,
    ) -> list[Section]:
        b, p, profile = self.budget, self.prompts, state.profile
        out = [self.persona(profile, with_tools)]
        out.append(self._capped(
            "self", "section_self", b.self_cap, "memory_about_self",
            profile.memory_about_self, self_name=profile.self_name,
        ))
        out.append(self._capped(
            "user", "section_user", b.user_cap, "memory_about_user",
            profile.memory_about_user or p.label("no_memory"), user_name=profile.user_name,
        ))
        if state.summary.strip():
            out.append(self._capped(
                "summary", "section_summary", b.summary_cap, "summary", state.summary,
            ))
        if recalled:
            out.append(self._recalled(recalled, offset_minutes, profile))
        if world_lines:
            out.append(self._capped(
                "world", "section_world", b.world_cap, "world", "\n".join(world_lines),
            ))
        return out

    def _recalled(self, recalled: Sequence[RecalledItem], offset_minutes: int,
                  profile: Profile) -> Section:
        """Newest recall first, quotes and whole lines while they fit the cap
        (``recalled.py``)."""
        cap = self.budget.recalled_cap
        frame = self.counter.count(self.prompts.render("section_recalled", memories=""))
        writer = RecalledWriter(self.prompts, self.counter, offset_minutes,
                                (profile.user_name, profile.self_name))
        lines, _ = writer.pack(recalled, cap - frame, max(32, (cap - frame) // 2))
        text = self.prompts.render("section_recalled", memories="\n".join(lines)) if lines else ""
        return Section("recalled", text, self.counter.count(text), cap)

    def _quoted(self, messages: Sequence[Message]) -> Mapping[str, TurnRecord] | None:
        """The archived messages automatic recall quoted (None if unreadable)."""
        ids = quoted_ids(messages)
        if not ids or self.quotes is None:
            return {}
        try:
            return self.quotes(ids)
        except DLError:  # the entries' summaries stand in for their words
            return None

    # -- the request ------------------------------------------------------

    def build(
        self,
        state: ConversationState,
        current: Sequence[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        world_lines: Sequence[str] = (),
        offset_minutes: int = 0,
        extra: TurnExtra | None = None,
    ) -> ContextPlan:
        """Assemble the request for ``current`` (this turn's messages so far)
        after the stored conversation ``state.messages``."""
        history = state.messages
        spans = turn_spans(history)
        # Recalled entries not visible as tool results in what we send are
        # listed in their own section. First guess: assume the whole history
        # fits; recompute once if it does not.
        sent_start = 0
        quoted = self._quoted([*history, *current])
        for _ in range(4):  # converges in one or two passes
            visible = {
                r.uuid for m in [*history[sent_start:], *current] if m.role == "tool"
                for r in m.recall
            }
            recalled = recalled_items(state.recalled, [*history, *current], quoted, visible)
            sections = self.sections(
                state, with_tools=bool(tools), world_lines=world_lines,
                recalled=recalled, offset_minutes=offset_minutes,
            )
            system = "\n\n".join(s.text for s in sections if s.text)
            system_msg = {"role": "system", "content": system}
            fixed = (
                message_tokens(self.counter, system_msg)
                + tools_tokens(self.counter, tools)
                + REPLY_PRIMING
            )
            room = self.budget.prompt - fixed
            cur_msgs, cur_tokens, truncated = self._fit_current(current, room, extra)
            room -= cur_tokens
            chosen_start, hist_tokens, dropped = len(history), 0, 0
            for start, end in reversed(spans):
                seg = to_openai(history[start:end], self.prompts)
                n = sum(message_tokens(self.counter, m) for m in seg)
                if hist_tokens + n > room:
                    dropped = sum(1 for s in spans if s[0] < start + 1)
                    break
                hist_tokens += n
                chosen_start = start
            if chosen_start == sent_start or not history:
                break
            sent_start = chosen_start
        hist_msgs = to_openai(history[chosen_start:], self.prompts)
        messages = [system_msg, *hist_msgs, *cur_msgs]
        prompt_tokens = fixed + hist_tokens + cur_tokens
        plan = ContextPlan(
            messages=messages, sections=sections, tools=tools, budget=self.budget,
            window_start=chosen_start, history_tokens=hist_tokens, current_tokens=cur_tokens,
            prompt_tokens=prompt_tokens, current_truncated=truncated, dropped_turns=dropped,
        )
        if plan.request_tokens > self.budget.total:
            raise BudgetError(msg("budget.request", need=plan.request_tokens,
                                  budget=self.budget.total))
        return plan

    def _fit_current(
        self, current: Sequence[Message], room: int, extra: TurnExtra | None = None
    ) -> tuple[list[dict[str, Any]], int, bool]:
        msgs = to_openai(current, self.prompts)
        user = bool(msgs) and msgs[0]["role"] == "user"
        extra = extra if extra is not None and user else TurnExtra()
        if extra.documents:
            msgs[0] = {**msgs[0], "content": f"{msgs[0]['content']}\n\n{extra.documents}"}
        images = list(extra.image_urls)
        # The time: a short system message right before the user's message.
        note = [{"role": "system", "content": extra.time_note}] if extra.time_note else []
        fixed = IMAGE_TOKENS * len(images) + sum(message_tokens(self.counter, m) for m in note)
        total = sum(message_tokens(self.counter, m) for m in msgs) + fixed
        if total <= room:
            return [*note, *self._with_images(msgs, images)], total, False
        # Too long: shorten the user's text (keeping its head and tail).
        others = total - message_tokens(self.counter, msgs[0])
        limit = room - others - 4
        if not user or limit < 16:
            raise BudgetError(msg("budget.message", budget=self.budget.total))
        marker = self.prompts.label("truncated")
        msgs[0] = {
            **msgs[0],
            "content": truncate_middle(self.counter, msgs[0]["content"], limit, marker),
        }
        total = sum(message_tokens(self.counter, m) for m in msgs) + fixed
        return [*note, *self._with_images(msgs, images)], total, True

    @staticmethod
    def _with_images(msgs: list[dict[str, Any]], images: list[str]) -> list[dict[str, Any]]:
        """The user's message as text and ``image_url`` parts (OpenAI vision shape)."""
        if not images:
            return msgs
        parts: list[dict[str, Any]] = [{"type": "text", "text": msgs[0]["content"]}]
        parts += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        return [{**msgs[0], "content": parts}, *msgs[1:]]
