"""Digital Life's memory as a library: open, talk, consolidate, recall, move.

    from dl_app.memory import Memory

    with Memory.open("/path/to/data") as mem:       # or Memory.open() for the default
        reply = mem.send("我今天去爬山了")             # one turn, streamed if on_delta given
        hits = mem.search("爬山", k=3)                # the recall search
        mem.consolidate()                             # end the conversation: a diary entry
        mem.export("backup.json")

``Memory`` is the library's whole public surface (the bridge, the command line and
the desktop use nothing else): talking, the diary (pages, timeline, search, edits),
the index (status, reindex), names and profile, export and import (also encrypted),
and the facts the app shows (language, settings, model, data dir). Errors are
``dl_app.core.errors`` (``DLError`` and its subclasses).

It pulls in no window or voice code. Import never replaces memory before the
new file is fully validated and embedded; what it replaces is saved first as
a backup file in ``<data dir>/backups/``, and an import a crash interrupted is
finished the next time the memory is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from .adapters.llm_local import LocalChatModel
from .closing import close_quietly
from .core.engine import TurnResult
from .core.errors import DLError, NotFound, Text, msg
from .core.evidence import EvidenceHit
from .core.health import EMBEDDINGS, Health
from .core.indexing import Fill
from .core.models import (
    ConversationState,
    DiaryEntry,
    MemorySnapshot,
    Message,
    Profile,
    SearchHit,
)
from .core.ports import ChatModel, Clock, Embedder, ProgressFn
from .core.tokens import tools_tokens
from .memory_import import StagedImport
from .memory_moving import MovingPart
from .memory_presence import PresencePart
from .memory_talk import Talking
from .memory_types import (
    ContextPreview,
    DiaryPage,
    ImportReport,
    IndexStatus,
    ModelInfo,
)
from .prompts import Lang
from .settings import Settings
from .wiring import App, build

__all__ = [
    "ContextPreview",
    "DiaryPage",
    "EvidenceHit",
    "ImportReport",
    "IndexStatus",
    "Memory",
    "MemorySnapshot",
    "ModelInfo",
    "SearchHit",
    "TurnResult",
]

log = logging.getLogger(__name__)

StoresOpened = Callable[[BaseException | None], None]


class Memory(Talking, PresencePart, MovingPart):
    """One companion's memory in a data dir (talking: ``memory_talk.Talking``;
    greetings, check-ins and follow-ups: ``memory_presence.PresencePart``; export,
    import and backups: ``memory_moving.MovingPart``)."""

    def __init__(self, app: App, *, stores_later: bool = False) -> None:
        self._app = app
        self._engine = app.engine
        self._staged = StagedImport(app.data_dir, self._replace, self._defaults)
        app.stores.after_open = self._recover
        if not stores_later or self._recovery_pending():
            app.stores.open()  # a recovery rewrites the conversation: before it is read

    @classmethod
    def open(
        cls,
        data_dir: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        chat: ChatModel | None = None,
        embedder: Embedder | None = None,
        clock: Clock | None = None,
        stores_later: bool = False,
        lang: Lang | None = None,
    ) -> Memory:
        """The memory of ``data_dir``, its diary and turn index open (their error raised
        here). ``stores_later``: not open yet (opening them imports LanceDB); they open on
        first use, or on a thread after ``open_stores_in_background``; their users wait.
        ``lang``: the language the companion speaks (default: the setting, or the system's)."""
        root = Path(data_dir) if data_dir is not None else None
        return cls(build(root, env, chat=chat, embedder=embedder, clock=clock,
                         lang=lang), stores_later=stores_later)

    def open_stores(self) -> None:
        """Open the diary and the turn index here, or wait for the opening under way;
        raises its error (for work that must not wait for them under a lock)."""
        self._app.stores.open()

    def open_stores_in_background(self, then: StoresOpened | None = None) -> None:
        """Open the diary and the turn index on a thread (if nobody has begun to); then
        ``then(None)``, or ``then(error)`` (also raised to every use of them)."""
        self._app.stores.open_in_background(then)

    def _recovery_pending(self) -> bool:
        """An import or a consolidation a crash interrupted waits to be finished."""
        return self._staged.path.exists() or self._app.state.pending_consolidation() is not None

    def _recover(self) -> None:
        """What runs once the stores are open, before anyone else uses them."""
        self._staged.recover()
        self._engine.recover()
        try:  # an older data dir, or a crash between two writes: add the turns' text
            self._engine.indexer.build_missing()
        except DLError as e:
            log.warning("The turn index could not be completed now: %s", e)

    def stores_opened(self, timeout: float) -> bool:
        """Whether the diary's stores have opened (or failed to) within ``timeout`` s."""
        return self._app.stores.wait(timeout)

    def stores_error(self) -> BaseException | None:
        """Why the diary and the turn index could not be opened (None: they are open,
        or still opening)."""
        return self._app.stores.error()

    def close(self, *, clients: bool = False, wait: bool = False) -> None:
        """Close the stores; ``clients``: also the chat and embedding clients (the app
        does, before it reopens the memory with new settings or keys); ``wait``: also
        for an opening of the diary's stores under way (``lance_stores.py``)."""
        if clients:
            close_quietly(self._engine.chat, self._engine.embedder, what="an adapter")
        self._app.close(wait=wait)

    def __enter__(self) -> Memory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- talking (send, regenerate, edit_last, attachment: memory_talk.py) -----

    def consolidate(self, progress: ProgressFn | None = None) -> DiaryEntry | None:
        return self._engine.consolidate(progress)

    def is_idle(self) -> bool:
        """The conversation has been idle long enough to become a diary entry."""
        return self._engine.is_idle()

    def clear_conversation(self) -> None:
        """Discard the current conversation (no diary entry)."""
        self._engine.clear_conversation()

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        return self._engine.search(query, k)

    def search_evidence(self, query: str, k: int = 5, budget: int | None = None, *,
                        text_only: bool = False) -> list[EvidenceHit]:
        """The evidence search: the ``k`` best diary entries, each with the
        archived messages that match ``query`` (and their neighbours), whose
        tokens total at most ``budget`` (default: the recall cap of the budget).
        ``text_only``: only entries whose words (said, title or summary) match;
        the vector ranking still orders them."""
        cap = self._engine.config.budget.tool_result_cap if budget is None else budget
        return self._engine.recaller.evidence(query, k, max(cap, 0), text_only=text_only)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the app's counter for the configured model."""
        return self._engine.counter.count(text)

    # -- the diary's index -------------------------------------------------------

    def index_status(self) -> IndexStatus:
        indexed, total = self._engine.index_status()
        emb = self._engine.embedder
        return IndexStatus(indexed, total, emb.name if emb is not None else "")

    def embedding_problem(self) -> DLError | None:
        """Why the embedding service did not answer when the index was last
        looked at (``index_status``, search) or last used; None when it did."""
        return self._app.health.limited().get(EMBEDDINGS)

    def health(self) -> Health:
        """The optional services that are down now, with why; probed again with
        backoff and heard of by listeners (``core/health.py``, ``service_watch.py``)."""
        return self._app.health

    def reindex(self, progress: ProgressFn | None = None, *, everything: bool = False,
                limit: int | None = None) -> int:
        """Embed the entries and turns the current embedder has no vector for
        (``everything``: all entries; ``limit``: at most that many now, the rest
        in later calls); returns how many were embedded."""
        with self._engine.lock:
            return self._engine.reindex(progress, everything=everything, limit=limit)

    def plan_fill(self, limit: int) -> Fill | None:
        """What lacks a vector now, at most ``limit`` of it; then ``embed_fill``
        (no lock held while the embedder works) and ``write_fill``."""
        with self._engine.lock:
            return self._engine.indexer.plan_fill(limit)

    def embed_fill(self, fill: Fill, progress: ProgressFn | None = None) -> list[list[float]]:
        return self._engine.indexer.embed_fill(fill, progress)

    def write_fill(self, fill: Fill, vectors: list[list[float]]) -> int:
        """Write what still fits (an entry edited meanwhile is left for the next round)."""
        with self._engine.lock:
            return self._engine.indexer.write_fill(fill, vectors)

    # -- looking ---------------------------------------------------------------

    def snapshot(self) -> MemorySnapshot:
        state = self._app.state.load()
        return MemorySnapshot(
            profile=state.profile,
            current_summary=state.summary,
            conversation=state.messages,
            archive=self._app.state.archive(),
            diary=self._engine.diary.list(),
            follow_ups=self._app.state.follow_ups(),
        )

    @property
    def data_dir(self) -> Path:
        return self._app.data_dir

    @property
    def settings(self) -> Settings:
        """The settings in force (the file plus ``DL_*`` overrides) when it was opened."""
        return self._app.settings

    @property
    def lang(self) -> str:
        """The language the companion speaks and the app shows (``zh`` or ``en``)."""
        return self._app.lang

    def model(self) -> ModelInfo:
        chat = self._engine.chat
        return ModelInfo(str(chat.model_name), isinstance(chat, LocalChatModel))

    def utc_offset_minutes(self) -> int:
        """The clock's offset from UTC now (dates are shown in it)."""
        clock = self._engine.clock
        return clock.utc_offset_minutes(clock.now_ms())

    def conversation(self) -> ConversationState:
        """The current conversation: messages, summary, profile, recalled entries."""
        return self._app.state.load()

    def profile(self) -> Profile:
        return self._app.state.load().profile

    def profile_history(self) -> list[tuple[int, Profile]]:
        """Earlier versions of the names and profile: ``(saved at ms, profile)``."""
        return list(self._app.state.profile_history())

    def context_preview(self, text: str = "") -> ContextPreview:
        """The request the next message ``text`` would send, and its accounting."""
        plan = self._engine.preview(text)
        return ContextPreview(plan, tools_tokens(self._engine.counter, plan.tools),
                              list(self._engine.last_recall), list(self._engine.keeper.rejected),
                              self.recent_checkins())

    def weather_status(self) -> dict[str, Any] | None:
        """The weather plugin's status, or None when it is not set up."""
        weather = self._app.weather
        return None if weather is None else weather.status()

    def show(self) -> dict[str, Any]:
        """Names, self-concept, profile, diary count, summary (``memory show``)."""
        state = self._app.state.load()
        indexed, total = self._engine.index_status()
        return {
            "selfName": state.profile.self_name,
            "userName": state.profile.user_name,
            "memoryAboutSelf": state.profile.memory_about_self,
            "memoryAboutUser": state.profile.memory_about_user,
            "diaryCount": total,
            "indexedCount": indexed,
            "currentSummary": state.summary,
            "conversationMessages": len(state.messages),
            "dataDir": str(self._app.data_dir),
            "model": self._app.settings.llm.model,
        }

    # -- editing -----------------------------------------------------------------

    def set_profile(self, **changes: str) -> Profile:
        """Change some of the names, self-concept and profile (the old one goes to history)."""
        with self._engine.lock:
            profile = self._app.state.load().profile.model_copy(update=changes)
            self._app.state.set_profile(profile)
        return profile

    def restore_profile(self, at: int) -> Profile:
        """Bring back the version of the profile saved in history at ``at``."""
        for when, profile in self._app.state.profile_history():
            if when == at:
                with self._engine.lock:
                    self._app.state.set_profile(profile)
                return profile
        raise NotFound(msg("memory.no_snapshot"))

    def diary_entry(self, uuid: str) -> DiaryEntry:
        entry = self.find_diary_entry(uuid)
        if entry is None:
            raise NotFound(msg("memory.no_entry"))
        return entry

    def find_diary_entry(self, uuid: str) -> DiaryEntry | None:
        return self._engine.diary.get(uuid)

    def diary_page(self, offset: int = 0, limit: int = 50) -> DiaryPage:
        diary, space = self._engine.diary, self._engine.indexer.space()
        entries = diary.list(offset, limit)
        missing = ({e.uuid for e in diary.unindexed(*space)}
                   if space is not None else {e.uuid for e in entries})
        return DiaryPage(entries, missing, diary.count())

    def timeline(self) -> list[tuple[DiaryEntry, int]]:
        """Every diary entry, oldest first, with how many messages its conversation had."""
        counts = self._app.state.archive_counts()
        entries = sorted(self._engine.diary.list(), key=lambda e: (e.start_time, e.end_time))
        return [(e, counts.get(e.uuid, 0)) for e in entries]

    def archived_messages(self, uuid: str) -> list[Message]:
        return self._app.state.archive_of(uuid)

    def update_diary_entry(
        self, uuid: str, title: str, summary: str
    ) -> tuple[DiaryEntry, Text | None]:
        """Change an entry's title and summary and re-embed it. Returns the entry
        and a warning (None when the entry was embedded again)."""
        with self._engine.lock:
            entry = self.diary_entry(uuid).model_copy(update={"title": title, "summary": summary})
            emb, warning = self._engine.embedder, None
            vectors = None
            if emb is not None:
                try:
                    vectors = emb.embed_passages([f"{title}\n{summary}"])
                except DLError as e:
                    warning = msg("diary.warn.not_indexed", error=e.text or str(e))
            if vectors is not None and emb is not None:
                self._engine.diary.upsert([entry], vectors, emb.name)
            else:
                self._engine.diary.upsert([entry])
        return entry, warning

    def delete_diary_entry(self, uuid: str) -> None:
        """Remove an entry, its vectors and the archived conversation it came from."""
        with self._engine.lock:
            if not self._engine.diary.delete(uuid):
                raise NotFound(msg("memory.no_entry"))
            if self._engine.turns is not None:
                self._engine.turns.delete_entries([uuid])
            self._app.state.delete_archived(uuid)

    def delete_all(self) -> Path | None:
        """Forget everything (a backup file is written first); returns the backup."""
        with self._engine.lock:
            backup = self._backup("before-delete")
            if self._engine.turns is not None:
                self._engine.turns.clear()
            self._engine.diary.clear()
            self._app.state.replace_all(MemorySnapshot(profile=self._defaults()))
            self._engine.keeper.rejected.clear()  # they quote the old memory
            self._app.state.clear_profile_history()
        return backup

    # -- internals -------------------------------------------------------------

    def _replace(self, snap: MemorySnapshot) -> None:
        """Put ``snap`` in place of the whole memory (``StagedImport`` makes it safe)."""
        diary = self._engine.diary
        if self._engine.turns is not None:
            self._engine.turns.clear()
        diary.clear()
        if snap.diary:
            diary.upsert(snap.diary)
            diary.optimize()  # a search right after scans no unindexed entries
        self._app.state.replace_all(snap)
        self._engine.keeper.rejected.clear()
        self._engine.indexer.build_missing()
