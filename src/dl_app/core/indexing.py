"""Keeping the search indexes whole: diary vectors and the turn index.

The turn index holds every archived user and assistant message with an index
key that adds the speaker, the date and the absolute dates its relative
expressions meant ("昨天" said on 8 May indexes 7 May too); the stored text
stays verbatim. It is derived from the archive: entries whose turns are
missing (an older data dir, a crash between two writes) are added again by
``build_missing`` (full text, at once) and ``reindex`` (vectors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .dates import date_terms
from .errors import DLError
from .models import ArchivedMessage, DiaryEntry, Message
from .ports import (
    Clock,
    DiaryStore,
    Embedder,
    ProgressFn,
    StateStore,
    TurnIndex,
    TurnRecord,
)
from .timefmt import format_date

INDEXED_ROLES = ("user", "assistant")
Names = Callable[[], tuple[str, str]]  # (user's name, companion's name)


def turn_records(entry: str, messages: Sequence[Message]) -> list[TurnRecord]:
    """The indexable messages of one archived conversation (in its order)."""
    return [
        TurnRecord(id=m.id, entry=entry, role=m.role, ts=m.timestamp, seq=i, text=m.content)
        for i, m in enumerate(messages)
        if m.role in INDEXED_ROLES and m.content.strip()
    ]


def index_key(rec: TurnRecord, speaker: str, offset_minutes: int) -> str:
    """What full-text search sees of a turn: speaker, text, its dates."""
    dates = " ".join(format_date(rec.ts, offset_minutes, lang) for lang in ("zh", "en"))
    extra = date_terms(rec.text, rec.ts, offset_minutes)
    return f"{speaker}: {rec.text}\n{dates} {extra}".rstrip()


@dataclass
class Fill:
    """One round of filling in missing vectors, in three steps so that the slow
    one holds no lock: ``Indexer.plan_fill`` reads what lacks a vector (under the
    memory's lock), ``embed_fill`` asks the embedder (without it), ``write_fill``
    writes what still fits (under it again: an entry edited or deleted meanwhile,
    or a turn gone or already embedded, is left alone)."""

    model: str
    dimensions: int
    entries: list[DiaryEntry]
    turns: list[TurnRecord]
    total: int  # all that lacked a vector when planned (this round and later ones)

    @property
    def size(self) -> int:
        return len(self.entries) + len(self.turns)

    def texts(self) -> list[str]:
        return [entry_text(e) for e in self.entries] + [r.text for r in self.turns]


def entry_text(e: DiaryEntry) -> str:
    """What an entry's vector is made of."""
    return f"{e.title}\n{e.summary}"


class Indexer:
    def __init__(
        self,
        *,
        diary: DiaryStore,
        turns: TurnIndex | None,
        state: StateStore,
        embedder: Embedder | None,
        clock: Clock,
        names: Names,
    ) -> None:
        self.diary = diary
        self.turns = turns
        self.state = state
        self.embedder = embedder
        self.clock = clock
        self.names = names

    def _keys(self, records: Sequence[TurnRecord]) -> list[str]:
        user, companion = self.names()
        return [
            index_key(r, user if r.role == "user" else companion,
                      self.clock.utc_offset_minutes(r.ts))
            for r in records
        ]

    def add_turns(self, records: Sequence[TurnRecord], *, embed: bool = True) -> None:
        """Index these turns (full text; vectors too when ``embed`` and the
        embedder answers, else ``reindex`` adds them later)."""
        if self.turns is None or not records:
            return
        self.turns.add(records, self._keys(records))
        if embed and self.embedder is not None:
            try:
                vectors = self.embedder.embed_passages([r.text for r in records])
            except DLError:
                return
            self.turns.set_vectors([r.id for r in records], vectors, self.embedder.name)

    def index_entry(self, uuid: str) -> None:
        """Index the archived conversation of a new diary entry."""
        self.add_turns(turn_records(uuid, self.state.archive_of(uuid)))

    def build_missing(self, progress: ProgressFn | None = None, batch: int = 2000) -> int:
        """Add the full text of every archived conversation the turn index lacks
        (no vectors: ``reindex`` adds them). Returns how many turns were added."""
        if self.turns is None:
            return 0
        # A bulk write: the indexes catch up at its end, also what an
        # interrupted one left unfolded (a search would scan those rows).
        with self.turns.bulk():
            have = self.turns.entries()
            missing = [e for e in self.state.archive_counts() if e not in have]
            if not missing:
                return 0
            records = _records_of(self.state.archive(), set(missing))
            step = progress or (lambda _d, _t: None)
            step(0, len(records))
            for i in range(0, len(records), batch):
                self.add_turns(records[i : i + batch], embed=False)
                step(min(i + batch, len(records)), len(records))
            return len(records)

    def space(self) -> tuple[str, int] | None:
        """The current embedder's space (name, dimensions); None without one, or
        when a service that must be asked for its dimensions does not answer (why:
        ``Health``, which the wired embedder reports to)."""
        if self.embedder is None:
            return None
        try:
            return self.embedder.name, self.embedder.dimensions
        except DLError:
            return None

    def status(self) -> tuple[int, int]:
        """(entries with a vector from the current embedder, all entries); none
        count as indexed while the embedding service cannot be reached."""
        total = self.diary.count()
        if (space := self.space()) is None:
            return 0, total
        return total - len(self.diary.unindexed(*space)), total

    def turn_status(self) -> tuple[int, int]:
        """(turns with a vector from the current embedder, turns indexed)."""
        if self.turns is None:
            return 0, 0
        total = self.turns.count()
        if (space := self.space()) is None:
            return 0, total
        return self.turns.embedded_count(*space), total

    def _unembedded_turns(self, model: str, dim: int) -> list[TurnRecord]:
        """The turns without a vector in this space (counted first: reading them
        all is skipped when every turn has one, as at most starts)."""
        assert self.turns is not None
        if self.turns.embedded_count(model, dim) >= self.turns.count():
            return []
        return self.turns.unembedded(model, dim)

    def reindex(
        self, progress: ProgressFn | None = None, everything: bool = False, batch: int = 32,
        *, limit: int | None = None,
    ) -> int:
        """Build what the indexes lack: the turns' full text, then the vectors of
        entries and turns missing one from the current embedder (``everything``:
        all entries again). ``limit``: embed at most that many now, entries first
        (progress still counts all that lack one; call again for the rest).
        Returns how many entries and turns were embedded."""
        self.build_missing()
        if self.embedder is None:
            return 0
        emb = self.embedder
        entries = self.diary.list() if everything else self.diary.unindexed(emb.name,
                                                                           emb.dimensions)
        turns = [] if self.turns is None else self._unembedded_turns(emb.name, emb.dimensions)
        total = len(entries) + len(turns)
        if limit is not None and not everything:
            entries = entries[:limit]
            turns = turns[: max(limit - len(entries), 0)]
        step = progress or (lambda _d, _t: None)
        step(0, total)
        for i in range(0, len(entries), batch):
            chunk = entries[i : i + batch]
            vectors = emb.embed_passages([entry_text(e) for e in chunk])
            self.diary.upsert(chunk, vectors, emb.name)
            step(min(i + batch, len(entries)), total)
        if entries:
            self.diary.optimize()  # its indexes whole now, not at its next writes
        if self.turns is not None and turns:
            with self.turns.bulk():
                for i in range(0, len(turns), batch * 2):
                    part = turns[i : i + batch * 2]
                    vectors = emb.embed_passages([r.text for r in part])
                    self.turns.set_vectors([r.id for r in part], vectors, emb.name)
                    step(len(entries) + min(i + batch * 2, len(turns)), total)
        return len(entries) + len(turns)

    def plan_fill(self, limit: int) -> Fill | None:
        """What lacks a vector from the current embedder, at most ``limit`` of it
        (entries first); None without an embedder. Call under the memory's lock."""
        self.build_missing()
        if self.embedder is None:
            return None
        name, dim = self.embedder.name, self.embedder.dimensions
        entries = self.diary.unindexed(name, dim)
        turns = [] if self.turns is None else self._unembedded_turns(name, dim)
        total = len(entries) + len(turns)
        entries = entries[:limit]
        turns = turns[: max(limit - len(entries), 0)]
        return Fill(name, dim, entries, turns, total)

    def embed_fill(self, fill: Fill, progress: ProgressFn | None = None,
                   batch: int = 64) -> list[list[float]]:
        """The vectors of ``fill``'s texts (no lock needed: only the embedder is asked)."""
        assert self.embedder is not None
        texts = fill.texts()
        vectors: list[list[float]] = []
        for i in range(0, len(texts), batch):
            vectors += self.embedder.embed_passages(texts[i : i + batch])
            if progress is not None:
                progress(len(vectors), len(texts))
        return vectors

    def write_fill(self, fill: Fill, vectors: Sequence[Sequence[float]]) -> int:
        """Write the vectors of ``fill`` that still fit; returns how many. Call under
        the memory's lock."""
        emb = self.embedder
        if emb is None or (emb.name, emb.dimensions) != (fill.model, fill.dimensions):
            return 0  # another embedder now: its own round will come
        n = len(fill.entries)
        fresh = self.diary.get_many([e.uuid for e in fill.entries])
        keep = [(fresh[e.uuid], v) for e, v in zip(fill.entries, vectors[:n], strict=True)
                if e.uuid in fresh and entry_text(fresh[e.uuid]) == entry_text(e)]
        if keep:
            self.diary.upsert([e for e, _ in keep], [v for _, v in keep], fill.model)
            self.diary.optimize()
        written = len(keep)
        if self.turns is not None and fill.turns:
            ids = [r.id for r in fill.turns]
            now = self.turns.get(ids)
            lacking = self.turns.lacking_vectors(ids, fill.model, fill.dimensions)
            fits = [(r.id, v) for r, v in zip(fill.turns, vectors[n:], strict=True)
                    if r.id in lacking and r.id in now and now[r.id].text == r.text]
            if fits:
                with self.turns.bulk():
                    self.turns.set_vectors([i for i, _ in fits], [v for _, v in fits],
                                           fill.model)
            written += len(fits)
        return written


def _records_of(archive: Sequence[ArchivedMessage], wanted: set[str]) -> list[TurnRecord]:
    groups: dict[str, list[Message]] = {}
    for m in archive:
        if m.belong_to in wanted:
            groups.setdefault(m.belong_to, []).append(m)
    return [r for entry, msgs in groups.items() for r in turn_records(entry, msgs)]
