"""The small interfaces the domain talks through. Adapters implement them.

Chat requests and replies use the OpenAI chat message shape (plain dicts), so
an adapter can pass them straight to any OpenAI-compatible service.
"""

from __future__ import annotations

import builtins  # DiaryStore.list hides list in its class body
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .models import (
    ArchivedMessage,
    ConversationState,
    DiaryEntry,
    FollowUp,
    MemorySnapshot,
    Message,
    PendingConsolidation,
    Profile,
    SearchHit,
    ToolCall,
    TurnSnapshot,
)


@dataclass(frozen=True)
class ChatRequest:
    """One request to a chat model."""

    messages: list[dict[str, Any]]
    max_tokens: int
    tools: list[dict[str, Any]] | None = None
    temperature: float | None = None
    purpose: str = "chat"  # chat, summary, diary, title, self, profile: for logs and tests


@dataclass(frozen=True)
class Usage:
    """The service's own token count of one request (its ``usage``)."""

    prompt_tokens: int
    completion_tokens: int = 0


@dataclass
class ChatResult:
    """A finished reply: text, separated reasoning, tool calls, and the
    service's token count when it reported one."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class ChatDelta:
    """A piece of a streamed reply."""

    kind: Literal["content", "reasoning"]
    text: str


class ChatModel(Protocol):
    """An OpenAI-compatible chat service."""

    @property
    def model_name(self) -> str: ...

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        """Yield deltas as they arrive, then exactly one final ``ChatResult``.

        Raises a ``ServiceError`` subclass on failure, including a stream that
        breaks before its end.
        """
        ...

    def complete(self, request: ChatRequest) -> ChatResult:
        """A whole reply at once (used for memory housekeeping)."""
        ...


class Embedder(Protocol):
    """Turns text into vectors. ``name`` and ``dimensions`` identify the space."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


ProgressFn = Callable[[int, int], None]
"""``progress(done, total)`` for long tasks."""


class DiaryStore(Protocol):
    """The diary and its vectors (LanceDB in the app)."""

    def upsert(
        self,
        entries: Sequence[DiaryEntry],
        vectors: Sequence[Sequence[float]] | None = None,
        embed_model: str = "",
    ) -> None:
        """Insert or replace entries by uuid (idempotent). With ``vectors``
        (one per entry, all from ``embed_model``), index them too."""
        ...

    def get(self, uuid: str) -> DiaryEntry | None: ...

    def optimize(self) -> None:
        """Fold every entry written so far into the indexes."""
        ...

    def search_text(self, text: str, k: int) -> builtins.list[str]:
        """Uuids of the ``k`` best full-text matches of title and summary, best first."""
        ...

    def get_many(self, uuids: Sequence[str]) -> dict[str, DiaryEntry]:
        """The entries of these uuids that exist, by uuid (one read)."""
        ...

    def delete(self, uuid: str) -> bool: ...

    def list(self, offset: int = 0, limit: int | None = None) -> list[DiaryEntry]:
        """Newest first (by end time)."""
        ...

    def count(self) -> int: ...

    def first_start_time(self) -> int | None:
        """The earliest ``start_time`` in the diary (when they first met)."""
        ...

    def unindexed(self, embed_model: str, dimensions: int) -> builtins.list[DiaryEntry]:
        """Entries with no vector from this model and dimension."""
        ...

    def search(
        self,
        text: str,
        vector: Sequence[float] | None,
        embed_model: str,
        k: int = 5,
        exclude: Sequence[str] = (),
    ) -> builtins.list[SearchHit]:
        """Hybrid search: full-text on title+summary fused with vector search
        in ``embed_model``'s space (vector part skipped when ``vector`` is None).
        Best first; uuids in ``exclude`` never returned."""
        ...

    def clear(self) -> None:
        """Remove every entry and vector."""
        ...


@dataclass(frozen=True)
class TurnRecord:
    """One archived message in the turn index: ``entry`` is the diary entry its
    conversation became, ``seq`` its position there, ``text`` the verbatim content."""

    id: str
    entry: str
    role: str
    ts: int
    seq: int
    text: str


@dataclass(frozen=True)
class TurnRef:
    """Where an archived message is (what a search ranks by), without its text."""

    id: str
    entry: str
    ts: int


class TurnIndex(Protocol):
    """Every archived user and assistant message, searchable (LanceDB in the app).
    Derived from the archive: anything missing is rebuilt by reindexing."""

    def add(self, turns: Sequence[TurnRecord], keys: Sequence[str]) -> None:
        """Insert or replace turns by id; ``keys`` are their index texts."""
        ...

    def set_vectors(
        self, ids: Sequence[str], vectors: Sequence[Sequence[float]], model: str
    ) -> None: ...

    def delete_entries(self, entries: Sequence[str]) -> int:
        """Remove the turns (and vectors) of these diary entries; returns how many."""
        ...

    def clear(self) -> None: ...

    def count(self) -> int: ...

    def entries(self) -> set[str]:
        """The diary entries that have turns in the index."""
        ...

    def unembedded(self, model: str, dim: int) -> list[TurnRecord]: ...

    def embedded_count(self, model: str, dim: int) -> int: ...

    def lacking_vectors(self, ids: Sequence[str], model: str, dim: int) -> set[str]:
        """Which of these turns have no vector in this space (not embedded yet)."""
        ...

    def of_entries(self, entries: Sequence[str]) -> list[TurnRecord]:
        """Every turn of these entries, in conversation order."""
        ...

    def search_text(
        self, text: str, depth: int, exclude: Sequence[str] = ()
    ) -> list[tuple[TurnRef, float]]:
        """Full-text (BM25) matches with their scores, best first."""
        ...

    def search_vector(
        self, vector: Sequence[float], model: str, depth: int, exclude: Sequence[str] = ()
    ) -> list[tuple[TurnRef, float]]:
        """Nearest turns in ``model``'s space with their cosine similarity, nearest first."""
        ...

    def nearest(
        self, vector: Sequence[float], model: str, depth: int, exclude: Sequence[str] = ()
    ) -> list[tuple[TurnRef, float, float]]:
        """``search_vector``'s turns, each also with its crowding: its mean cosine
        similarity to its nearest other turns (how close it sits to everything)."""
        ...

    def get(self, ids: Sequence[str]) -> dict[str, TurnRecord]: ...

    def refs(self, ids: Sequence[str]) -> dict[str, TurnRef]:
        """Where these turns are, without their text (cheaper than ``get``)."""
        ...

    def bulk(self) -> AbstractContextManager[None]:
        """A block of many writes: the indexes catch up at its end (and now and
        then within it), not after every write."""
        ...

    def optimize(self) -> None:
        """Fold every row written so far into the indexes."""
        ...


class TokenCounter(Protocol):
    """Counts tokens of text the way the model's tokenizer does."""

    def count(self, text: str) -> int: ...


@dataclass(frozen=True)
class CalibrationRecord:
    """What was learned about one model's token count (``core/calibration.py``):
    recent ratios of the service's count to the local estimate, and a floor
    set when the service refused a request as too long."""

    ratios: tuple[float, ...] = ()
    floor: float = 0.0


class CalibrationStore(Protocol):
    """Per (service address, model) token-count calibration, kept across restarts."""

    def load_calibration(self, address: str, model: str) -> CalibrationRecord | None: ...

    def save_calibration(self, address: str, model: str, record: CalibrationRecord) -> None: ...


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def tz_name(self) -> str:
        """An IANA zone name or UTC offset label for display."""
        ...

    def utc_offset_minutes(self, at_ms: int) -> int:
        """Local offset from UTC at that instant."""
        ...


class Notes(Protocol):
    """Small values kept with the state (the housekeeping outputs lately rejected)."""

    def note(self, key: str) -> str | None: ...

    def set_note(self, key: str, value: str) -> None: ...


class FollowUpStore(Protocol):
    """Follow-ups (``core/followups.py``) and the check-ins made about them. The
    state store's ``finish_consolidation`` adds the pending record's follow-ups,
    ``delete_archived`` drops an entry's with its messages, ``replace_all`` puts a
    snapshot's in place."""

    def follow_ups(self, entry: str | None = None) -> list[FollowUp]:
        """All follow-ups (or one entry's), in the order they were noted."""
        ...

    def delete_follow_up(self, follow_id: str) -> bool: ...

    def mark_asked(self, follow_id: str, at_ms: int, message: Message | None) -> None:
        """Record a check-in about a follow-up; ``message``, when one was shown, is
        committed in the same transaction as a turn of its own."""
        ...

    def awaiting_reply(self) -> bool:
        """A check-in was shown and the user has not written since."""
        ...


class StateStore(Notes, FollowUpStore, Protocol):
    """Names, self-concept, profile, current conversation, archive, notes, follow-ups.

    Each method is one atomic transaction: a crash leaves the state before or
    after it, never in between.
    """

    def load(self) -> ConversationState: ...

    def commit_turn(
        self,
        messages: Sequence[Message],
        recalled: Sequence[DiaryEntry],
        before: TurnSnapshot | None = None,
        *,
        rewind: TurnSnapshot | None = None,
    ) -> None:
        """Append one finished turn's messages and its newly recalled entries.
        ``before``: the conversation before this turn, kept as ``last_turn``
        (None forgets it). ``rewind``: first put the conversation back to that
        point (the last turn's messages and recalled entries go; summary and
        folded position as it says), in the same transaction."""
        ...

    def last_turn(self) -> TurnSnapshot | None:
        """The conversation before its last turn (None after a greeting, a
        clear, a consolidation or an import)."""
        ...

    def set_summary(self, summary: str, folded_count: int) -> None: ...

    def set_profile(self, profile: Profile) -> None:
        """Replace names and texts, keeping the old version in the history."""
        ...

    def begin_consolidation(self, pending: PendingConsolidation) -> None: ...

    def pending_consolidation(self) -> PendingConsolidation | None: ...

    def finish_consolidation(self) -> None:
        """Archive the pending entry's messages, clear the conversation, apply
        the new self-concept and profile, drop the pending record."""
        ...

    def clear_conversation(self) -> None:
        """Discard the current conversation without writing a diary entry."""
        ...

    def archive(self) -> list[ArchivedMessage]:
        """Archived messages, newest conversation first, chronological within."""
        ...

    def archive_of(self, belong_to: str) -> list[Message]:
        """The archived conversation a diary entry came from, in order."""
        ...

    def archive_counts(self) -> dict[str, int]:
        """Archived messages per diary entry."""
        ...

    def first_archived_time(self) -> int | None: ...

    def delete_archived(self, belong_to: str) -> int: ...

    def replace_all(self, snapshot: MemorySnapshot) -> None:
        """Replace everything but the diary with the snapshot's content."""
        ...


class ImageMaker(Protocol):
    """An image generator (e.g. an OpenAI-compatible ``/images/generations``)."""

    def make(self, prompt: str) -> tuple[bytes, str]:
        """The picture's bytes and MIME type, or a ``ServiceError``."""
        ...


class SpeechSynth(Protocol):
    """Text to speech (F5-TTS, Fish Speech, an OpenAI-compatible ``/audio/speech``)."""

    def synthesize(self, text: str) -> tuple[bytes, str]:
        """The audio's bytes and MIME type, or a ``ServiceError``."""
        ...


class Transcriber(Protocol):
    """Speech to text (an OpenAI-compatible ``/audio/transcriptions``)."""

    def transcribe(self, audio: bytes, mime: str, language: str) -> str:
        """The text said in ``audio`` (``language``: ISO 639-1, e.g. "zh")."""
        ...
