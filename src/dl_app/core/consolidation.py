"""The end of a conversation: it becomes a diary entry, and the self-concept
and the user profile are updated from it; the follow-ups in it are noted (rules,
then the model for what they could not date while check-ins are on).

Nothing changes unless every model call succeeds. The results are first written
as a pending record (``StateStore.begin_consolidation``), then applied; a crash
after the results exist is finished by ``recover`` on the next start, without
duplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from .context import turn_spans
from .errors import DLError
from .folding import Folder
from .followups import extract as extract_follow_ups
from .followups_model import ask as ask_follow_ups
from .housekeeping import Housekeeper
from .indexing import Indexer
from .models import DiaryEntry, PendingConsolidation
from .ports import DiaryStore, Embedder, ProgressFn, StateStore, TokenCounter

__all__ = ["Consolidator"]


class Consolidator:
    def __init__(
        self,
        *,
        keeper: Housekeeper,
        folder: Folder,
        state: StateStore,
        diary: DiaryStore,
        indexer: Indexer,
        embedder: Embedder | None,
        counter: TokenCounter,
        offset: Callable[[], int],
        model_follow_ups: bool = False,
        memory_updates: bool = True,
    ) -> None:
        self.keeper = keeper
        self.folder = folder
        self.state = state
        self.diary = diary
        self.indexer = indexer
        self.embedder = embedder
        self.counter = counter
        self.offset = offset
        # Check-ins on: the model is asked about plans the rules could not date.
        self.model_follow_ups = model_follow_ups
        # Off: the diary and its title only; the self-concept and profile stay.
        self.memory_updates = memory_updates

    def recover(self) -> bool:
        """Finish a consolidation a crash interrupted. True if one was."""
        pending = self.state.pending_consolidation()
        if pending is None:
            return False
        self._apply(pending)
        return True

    def _apply(self, pending: PendingConsolidation) -> None:
        vectors = [pending.vector] if pending.vector is not None else None
        self.diary.upsert([pending.entry], vectors, pending.embed_model)
        self.state.finish_consolidation()
        with contextlib.suppress(DLError):  # derived data: build_missing/reindex add it later
            self.indexer.index_entry(pending.entry.uuid)

    def consolidate(self, progress: ProgressFn | None = None) -> DiaryEntry | None:
        """End the conversation now: diary entry, title, self-concept, profile."""
        step = progress or (lambda _d, _t: None)
        self.recover()
        state = self.state.load()
        if not state.messages:
            return None
        total = 5
        step(0, total)
        # The unsummarised tail must fit the diary request: fold the rest.
        room = self.keeper.diary_room(state.summary, state.profile)
        spans = [s for s in turn_spans(state.messages) if s[0] >= state.folded_count]
        start = len(state.messages)
        used = 0
        for s, e in reversed(spans):
            n = sum(
                self.counter.count(line) + 1
                for line in self.keeper.transcript(state.messages[s:e], self.offset(), 10**9)
            )
            if used + n > room:
                break
            used += n
            start = s
        if start > state.folded_count:
            state = self.folder.until_fits(state, start)
        tail = state.messages[state.folded_count :]
        texts = self.keeper.conclude(state, tail, self.offset(), step,
                                     memories=self.memory_updates)
        title, diary_text = texts.title, texts.diary
        entry = DiaryEntry(
            title=title,
            summary=diary_text,
            start_time=min(m.timestamp for m in state.messages),
            end_time=max(m.timestamp for m in state.messages),
            source_ids=[m.id for m in state.messages],
        )
        vector, model = None, ""
        if self.embedder is not None:
            try:
                vector = self.embedder.embed_passages([f"{title}\n{diary_text}"])[0]
                model = self.embedder.name
            except DLError:
                vector = None  # indexed later by "rebuild index"
        follow_ups = extract_follow_ups(state.messages, self.offset())
        if self.model_follow_ups:
            follow_ups += ask_follow_ups(self.keeper, state.messages, follow_ups, self.offset())
        pending = PendingConsolidation(
            entry=entry, vector=vector, embed_model=model,
            memory_about_self=texts.memory_about_self,
            memory_about_user=texts.memory_about_user,
            message_ids=[m.id for m in state.messages],
            follow_ups=[f.model_copy(update={"entry": entry.uuid}) for f in follow_ups],
        )
        self.state.begin_consolidation(pending)
        self._apply(pending)
        step(total, total)
        return entry
