"""The memory engine: one conversation turn, recall, folding, consolidation.

A turn is all-or-nothing: the user's message, any recall rounds and the reply
are committed to the state store in one transaction after the reply is
complete; a failure anywhere leaves memory exactly as it was. A turn the user
stops (``send(stop=...)``) keeps what the reply had said, marked ``stopped``;
stopped before any of it arrived, nothing is stored (``Stopped``). Folding is
``folding.py``; the end of a conversation, ``consolidation.py``.

Turns are one at a time (a lock); callers on other threads wait.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..prompts import PromptSet
from .consolidation import Consolidator
from .context import Budget, ContextBuilder, ContextPlan, TurnExtra
from .documents import fit_documents
from .errors import BadResponse, DLError, ServerFailed, Stopped, Text, msg
from .folding import Folder
from .housekeeping import Housekeeper
from .indexing import Indexer
from .introductions import learned_name
from .models import (
    Attachment,
    ConversationState,
    DiaryEntry,
    Message,
    SearchHit,
    new_id,
)
from .pictures import Pictures, SaveFn, run_tools
from .ports import (
    ChatDelta,
    ChatModel,
    ChatRequest,
    ChatResult,
    Clock,
    DiaryStore,
    Embedder,
    ImageMaker,
    ProgressFn,
    StateStore,
    TokenCounter,
    TurnIndex,
)
from .recall import Recaller
from .rewind import rewound, snapshot
from .timefmt import format_datetime
from .tokens import IMAGE_TOKENS

HOUR_MS = 3_600_000

DeltaFn = Callable[[ChatDelta], None]
EventFn = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class EngineConfig:
    budget: Budget = field(default_factory=Budget)
    idle_hours: float = 8.0
    recall_mode: str = "tool"  # tool | auto | off
    recall_rounds: int = 2
    recall_k: int = 3
    temperature: float | None = None
    # Proactive folding keeps the unsummarised tail under this share of the
    # room for messages, so the next request rarely has to fold first.
    fold_high: float = 0.85
    fold_low: float = 0.5
    vision: bool = False  # the chat model accepts image_url parts
    followups_model: bool = False  # check-ins on: the model dates what rules cannot
    # The model rewrites the self-concept and the profile when a conversation ends
    # (not the demo model: a 0.5B model copied the conversation into both).
    memory_updates: bool = True
    # The user's names of a first start (setup skipped): a name the user gives in
    # chat replaces them (``introductions.py``).
    placeholder_names: tuple[str, ...] = ()


@dataclass
class TurnResult:
    reply: str
    reasoning: str
    messages: list[Message]
    recalled: list[SearchHit] = field(default_factory=list)
    requests: int = 0
    plan: ContextPlan | None = None
    notices: list[Text] = field(default_factory=list)  # for the user: rendered by the caller
    images_unseen: bool = False  # images were attached but the model cannot see them
    stopped: bool = False  # the user stopped the reply: ``reply`` is what it had said
    named: str = ""  # the user said their name in this message: now their name


class MemoryEngine:
    def __init__(
        self,
        *,
        chat: ChatModel,
        embedder: Embedder | None,
        diary: DiaryStore,
        state: StateStore,
        turns: TurnIndex | None = None,
        clock: Clock,
        counter: TokenCounter,
        prompts: PromptSet,
        config: EngineConfig | None = None,
        world_extra: Callable[[], Sequence[str]] | None = None,
        images: ImageMaker | None = None,
        save_attachment: SaveFn | None = None,
    ) -> None:
        self.chat = chat
        self.embedder = embedder
        self.diary = diary
        self.state = state
        self.clock = clock
        self.counter = counter
        self.prompts = prompts
        self.config = config or EngineConfig()
        self.world_extra = world_extra
        self.builder = ContextBuilder(prompts, counter, self.config.budget,
                                      quotes=turns.get if turns is not None else None)
        self.keeper = Housekeeper(chat, prompts, counter, self.config.budget, clock.now_ms,
                                  notes=state)
        self.folder = Folder(self.keeper, state, counter, prompts, self._offset,
                             high=self.config.fold_high, low=self.config.fold_low)
        self.turns = turns
        self.indexer = Indexer(diary=diary, turns=turns, state=state, embedder=embedder,
                               clock=clock, names=self._names)
        self.recaller = Recaller(
            embedder=embedder, diary=diary, prompts=prompts, counter=counter, clock=clock,
            budget=self.config.budget, k=self.config.recall_k, turns=turns, names=self._names,
        )
        self.ender = Consolidator(
            keeper=self.keeper, folder=self.folder, state=state, diary=diary,
            indexer=self.indexer, embedder=embedder, counter=counter, offset=self._offset,
            model_follow_ups=self.config.followups_model,
            memory_updates=self.config.memory_updates,
        )
        self.pictures = None
        if images is not None and save_attachment is not None:
            self.pictures = Pictures(images, save_attachment, prompts, clock)
        self.lock = threading.RLock()
        self.last_plan: ContextPlan | None = None
        self.last_recall: list[SearchHit] = []

    # -- small helpers ---------------------------------------------------

    def _names(self) -> tuple[str, str]:
        profile = self.state.load().profile
        return profile.user_name, profile.self_name

    def _offset(self) -> int:
        return self.clock.utc_offset_minutes(self.clock.now_ms())

    def _fmt(self, ms: int) -> str:
        return format_datetime(ms, self._offset(), self.prompts.lang, zone=self.clock.tz_name())

    def time_note(self) -> str:
        """The current time, which a chat request carries next to the user's message."""
        return self.prompts.label("world_now", time=self._fmt(self.clock.now_ms()))

    def _timed(self, extra: TurnExtra | None) -> TurnExtra:
        extra = extra or TurnExtra()
        return extra if extra.time_note else replace(extra, time_note=self.time_note())

    def world_lines(
        self, state: ConversationState, current: Sequence[Message], *, now: bool = False
    ) -> list[str]:
        """The system message's real-world lines, the same all conversation long
        (the current time only with ``now``: see ``TurnExtra``)."""
        p, fmt = self.prompts, self._fmt
        lines = [p.label("world_now", time=fmt(self.clock.now_ms()))] if now else []
        first_msg = state.messages[0] if state.messages else (current[0] if current else None)
        if first_msg is not None:
            lines.append(p.label("world_start", time=fmt(first_msg.timestamp)))
        earlier = [self.diary.first_start_time(), self.state.first_archived_time()]
        met = min((t for t in earlier if t is not None), default=None)
        if met is not None:
            lines.append(p.label("world_first_met", time=fmt(met)))
        else:
            lines.append(p.label("world_first_met_today"))
        if self.world_extra is not None:
            with contextlib.suppress(Exception):
                lines.extend(self.world_extra())
        return lines

    def _tools_for(self, rounds_used: int) -> list[dict[str, Any]] | None:
        cfg = self.config
        tools = self.recaller.tools() if cfg.recall_mode == "tool" else []
        tools = tools if rounds_used < cfg.recall_rounds else []
        if self.pictures is not None and rounds_used <= cfg.recall_rounds:  # +1 round
            tools += self.pictures.tools()
        return tools or None

    def plan(
        self,
        state: ConversationState,
        current: Sequence[Message],
        rounds_used: int = 0,
        world: Sequence[str] | None = None,
        extra: TurnExtra | None = None,
    ) -> ContextPlan:
        return self.builder.build(
            state,
            current,
            tools=self._tools_for(rounds_used),
            world_lines=self.world_lines(state, current) if world is None else world,
            offset_minutes=self._offset(),
            extra=self._timed(extra),
        )

    def preview(self, text: str = "") -> ContextPlan:
        """The next request as it would be sent (for the context inspector)."""
        with self.lock:
            state = self.state.load()
            current = [Message(role="user", content=text, timestamp=self.clock.now_ms())]
            return self.plan(state, current)

    # -- a turn -----------------------------------------------------------

    def search(self, query: str, k: int = 5, exclude: Sequence[str] = ()) -> list[SearchHit]:
        return self.recaller.search(query, k, exclude)  # hybrid; full-text without vectors

    def is_idle(self, state: ConversationState | None = None) -> bool:
        state = state or self.state.load()
        if not state.messages:
            return False
        idle_ms = self.config.idle_hours * HOUR_MS
        return self.clock.now_ms() - state.messages[-1].timestamp >= idle_ms

    def _attach(
        self,
        text: str,
        attachments: Sequence[Attachment],
        image_urls: Mapping[str, str],
        documents: Mapping[str, str],
    ) -> tuple[list[Attachment], TurnExtra | None, bool]:
        """The user's attachments as stored (with notes and sizes) and what only
        this request carries: pixels for a vision model (as many as
        ``image_cap`` allows), document text within ``document_cap``."""
        p, budget = self.prompts, self.config.budget
        stored: list[Attachment] = []
        urls: list[str] = []
        docs: list[tuple[str, str]] = []
        unseen = False
        for a in attachments:
            if a.kind == "image":
                if not self.config.vision:
                    a = a.model_copy(update={"description": p.label("image_unseen")})
                    unseen = True
                elif a.id in image_urls and (len(urls) + 1) * IMAGE_TOKENS <= budget.image_cap:
                    urls.append(image_urls[a.id])
                else:
                    a = a.model_copy(update={"description": p.label("image_over_budget")})
            elif a.id in documents:
                doc = documents[a.id]
                docs.append((a.name, doc))
                a = a.model_copy(update={"tokens": self.counter.count(doc)})
            stored.append(a)
        doc_text = fit_documents(
            docs, text, counter=self.counter, prompts=p, cap=budget.document_cap,
            embedder=self.embedder,
        )
        extra = TurnExtra(doc_text, tuple(urls)) if doc_text or urls else None
        return stored, extra, unseen

    def send(
        self,
        text: str,
        on_delta: DeltaFn | None = None,
        on_event: EventFn | None = None,
        *,
        attachments: Sequence[Attachment] = (),
        image_urls: Mapping[str, str] | None = None,
        documents: Mapping[str, str] | None = None,
        stop: threading.Event | None = None,
        replace_last: bool = False,
    ) -> TurnResult:
        """Answer one user message. Memory changes only if the turn succeeds.

        ``attachments`` are stored with the message; ``image_urls`` (attachment
        id to data URL) and ``documents`` (attachment id to text) reach this
        request only: older turns carry the attachments' notes. When ``stop``
        is set the reply's stream is closed (the service stops generating) and
        what it had said is the reply, ``stopped``; if it had said nothing, the
        turn raises ``Stopped`` and nothing is stored. ``replace_last``: this
        turn replaces the last one (regenerate, edit): it starts from the
        conversation as it was before that turn (``rewind.py``)."""
        emit = on_event or (lambda _name, _data: None)
        text = text.strip()
        if not text and not attachments:
            raise DLError(msg("chat.empty_message"))
        with self.lock:
            notices: list[Text] = []
            self.recover()
            last = self.state.last_turn() if replace_last else None
            if not replace_last and self.is_idle():
                try:
                    emit("consolidating", {})
                    self.consolidate()
                except DLError as e:  # keep chatting; the diary is written later
                    notices.append(msg("chat.diary_later", error=e))
                    emit("notice", {"text": notices[-1]})
            state = self.state.load()
            if replace_last:  # the conversation as it was before its last turn
                state = rewound(state, last)
            named = learned_name(text, state.profile.user_name, state.profile.self_name,
                                 self.config.placeholder_names)
            if named:  # this reply already calls them by it
                state = state.model_copy(update={
                    "profile": state.profile.model_copy(update={"user_name": named})})
            kept_before = self.keeper.requests
            turn_id = new_id()
            before = snapshot(state, turn_id)
            stored, extra, unseen = self._attach(
                text, attachments, image_urls or {}, documents or {}
            )
            user = Message(role="user", content=text, timestamp=self.clock.now_ms(),
                           turn_id=turn_id, attachments=stored)
            current: list[Message] = [user]
            exclude = {e.uuid for e in state.recalled}  # and the messages quoted before:
            exclude |= {i for m in state.messages for r in m.recall for i in r.messages}
            new_recalled: list[DiaryEntry] = []
            all_hits: list[SearchHit] = []
            requests = 0
            sent: list[Attachment] = []  # pictures the companion sends with its reply
            if self.config.recall_mode == "auto" and text:
                user, hits = self.recaller.auto_recall(user, exclude)  # quotes on ``user``
                current = [user]
                new_recalled.extend(h.entry for h in hits)
                all_hits.extend(hits)
            rounds = 0
            world = self.world_lines(state, current)  # once per turn: same instant
            extra = self._timed(extra)
            while True:
                view = state.model_copy(update={"recalled": [*state.recalled, *new_recalled]})
                plan = self.plan(view, current, rounds, world, extra)
                if plan.window_start > state.folded_count:
                    # Unsummarised turns would fall out of the window: fold first.
                    state = self.folder.until_fits(state, plan.window_start)
                    continue
                self.last_plan = plan
                emit("request", {"tokens": plan.request_tokens, "budget": plan.budget.total})
                result, stopped = self._stream_or_redo(plan, on_delta, stop, emit)
                requests += 1
                if stopped and not result.content.strip():
                    raise Stopped(msg("chat.stopped"))
                if result.tool_calls and plan.tools and not stopped:
                    rounds += 1
                    call_msg = Message(
                        role="assistant", content=result.content, reasoning=result.reasoning,
                        timestamp=self.clock.now_ms(), turn_id=turn_id,
                        tool_calls=result.tool_calls,
                    )
                    tool_msgs, hits = run_tools(
                        result.tool_calls, self.recaller, self.pictures, exclude, turn_id, sent
                    )
                    current.extend([call_msg, *tool_msgs])
                    new_recalled.extend(h.entry for h in hits)
                    all_hits.extend(hits)
                    emit("recall", {"hits": [h.entry.title for h in hits]})
                    continue
                if not result.content.strip():
                    raise BadResponse(msg("chat.empty_reply"))
                reply = Message(
                    role="assistant", content=result.content.strip(),
                    reasoning=result.reasoning, timestamp=self.clock.now_ms(), turn_id=turn_id,
                    attachments=sent, stopped=stopped,
                    cut_off=result.finish_reason == "length" and not stopped,
                )
                current.append(reply)
                break
            rewind = None if last is None else last.model_copy(  # with this turn's folds
                update={"summary": state.summary, "folded_count": state.folded_count})
            self.state.commit_turn(current, new_recalled, before, rewind=rewind)
            if named:  # the old name goes to the profile's history
                self.state.set_profile(self.state.load().profile.model_copy(
                    update={"user_name": named}))
                notices.append(msg("chat.named", name=named))
            self.last_recall = all_hits
            try:
                self.folder.proactively(plan)
            except DLError as e:  # the turn stands; folding retries next turn
                notices.append(msg("chat.summary_later", error=e))
            requests += self.keeper.requests - kept_before
            return TurnResult(reply.content, reply.reasoning, current, all_hits, requests,
                              plan, notices, images_unseen=unseen, stopped=stopped,
                              named=named or "")

    def _stream_or_redo(
        self, plan: ContextPlan, on_delta: DeltaFn | None, stop: threading.Event | None,
        emit: EventFn,
    ) -> tuple[ChatResult, bool]:
        """``_stream``; a reply that breaks off after part of it was shown is
        withdrawn (``withdraw`` event: the page clears it) and asked for once more.
        Failures before any output were retried by the adapter already."""
        shown = False

        def seen(delta: ChatDelta) -> None:
            nonlocal shown
            shown = True
            if on_delta is not None:
                on_delta(delta)

        try:
            return self._stream(plan, seen, stop)
        except (BadResponse, ServerFailed):  # not a timeout: a slow server, asked again, is slower
            if not shown or (stop is not None and stop.is_set()):
                raise
        emit("withdraw", {})
        return self._stream(plan, on_delta, stop)

    def _stream(
        self, plan: ContextPlan, on_delta: DeltaFn | None, stop: threading.Event | None
    ) -> tuple[ChatResult, bool]:
        """The reply, and whether ``stop`` cut it short (then the result holds
        what had arrived; the stream is closed, which closes its connection)."""
        request = ChatRequest(
            messages=plan.messages, max_tokens=plan.budget.reply, tools=plan.tools,
            temperature=self.config.temperature, purpose="chat",
        )
        said: dict[str, list[str]] = {"content": [], "reasoning": []}
        if stop is not None and stop.is_set():
            return ChatResult(), True
        final: ChatResult | None = None
        stream = self.chat.stream(request)
        try:
            for item in stream:
                if stop is not None and stop.is_set():
                    return ChatResult("".join(said["content"]), "".join(said["reasoning"])), True
                if isinstance(item, ChatResult):
                    final = item
                else:
                    said[item.kind].append(item.text)
                    if on_delta is not None:
                        on_delta(item)
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        if final is None:
            raise BadResponse(msg("chat.stream_ended"))
        return final, False

    # -- end of a conversation -------------------------------------------

    def recover(self) -> bool:
        """Finish a consolidation a crash interrupted. True if one was."""
        return self.ender.recover()

    def consolidate(self, progress: ProgressFn | None = None) -> DiaryEntry | None:
        """End the conversation now: diary entry, title, self-concept, profile
        (``consolidation.Consolidator``)."""
        with self.lock:
            return self.ender.consolidate(progress)

    def clear_conversation(self) -> None:
        with self.lock:
            self.state.clear_conversation()

    # -- indexing (the Indexer keeps diary vectors and the turn index) -----

    def index_status(self) -> tuple[int, int]:
        """(entries with a vector from the current embedder, all entries)."""
        return self.indexer.status()

    def reindex(self, progress: ProgressFn | None = None, everything: bool = False,
                limit: int | None = None) -> int:
        """Build what the indexes lack (turns' full text, missing vectors)."""
        return self.indexer.reindex(progress, everything, limit=limit)
