"""The diary in embedded LanceDB: entries, full-text index and vectors.

Table ``diary`` holds the entries plus ``fts_text`` (BTree on ``uuid``, native
FTS on ``fts_text``). Each embedding space (model name + dimension) has its own
table ``vec_<hash>`` of ``uuid`` and ``vector``, named in its schema metadata,
so spaces never mix; it gets an IVF_SQ (cosine) index once it is large. The
tables' schemas, and opening them after an interrupted write, are in
``diary_tables``; the column ``fts_text`` (CJK runs spelled as characters and
bigrams) is written by the module ``fts_text``; the read/write gate and the
errors are ``lance_access``'s. No transactions: writes are ordered so a crash
leaves at worst unindexed entries.
"""

from __future__ import annotations

import asyncio
import builtins  # the store's list() method hides list in its class body
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import IvfSq
from lancedb.query import ColumnOrdering

from ..core.models import DiaryEntry, SearchHit
from .diary_cache import ENTRY_COLUMNS, EntryCache, Row, Rows, changed, entry_of, rows_of
from .diary_tables import (
    DIARY,
    VEC_PREFIX,
    create_vectors,
    diary_schema,
    open_diary,
    open_vectors,
    table_names,
    vec_table_name,
)
from .fts_text import fts_document, fts_query, fts_terms
from .lance_access import (
    KEEP_VERSIONS,
    BadArgument,
    Gate,
    in_chunks,
    sql_in,
    translated,
    vector_matrix,
)

__all__ = ["LanceDiaryStore", "fts_document", "fts_query", "fts_terms", "translated"]

NEWEST_FIRST = [
    ColumnOrdering(column_name="end_time", ascending=False),
    ColumnOrdering(column_name="uuid", ascending=True),
]
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
Method = Callable[Concatenate["LanceDiaryStore", P], R]
Sims = dict[str, float]  # uuid -> cosine similarity


def _entries(table: pa.Table) -> list[DiaryEntry]:
    rows = table.select(ENTRY_COLUMNS).to_pylist()
    return [DiaryEntry(**{**row, "source_ids": row["source_ids"] or []}) for row in rows]


def _access(write: bool) -> Callable[[Method[P, R]], Method[P, R]]:
    """Decorator: writes one at a time, reads shared; errors translated."""

    def decorate(method: Method[P, R]) -> Method[P, R]:
        @wraps(method)
        def wrapper(self: LanceDiaryStore, *args: P.args, **kwargs: P.kwargs) -> R:
            with translated(self.path), self._lock if write else self._gate.shared():
                if write:
                    self._written += 1  # what was known complete may not be now
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools' _Wrapped is that callable

    return decorate


class LanceDiaryStore:
    """``DiaryStore`` on an embedded LanceDB directory (created if missing).

    Writes are serialized, reads run concurrently. A vector space gets an ANN
    index at ``ann_min_rows`` vectors; indexes are refreshed once
    ``optimize_unindexed`` rows miss from one, or every ``optimize_writes`` writes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        ann_min_rows: int = 4096,
        optimize_unindexed: int = 2048,
        optimize_writes: int = 32,
    ) -> None:
        self.path = Path(path)
        self._ann_min_rows = ann_min_rows
        self._optimize_unindexed = optimize_unindexed
        self._optimize_writes = optimize_writes
        self._lock = threading.RLock()
        self._gate = Gate()
        self._writes: dict[str, int] = {}
        self._vec_tables: dict[tuple[str, int], Any] = {}  # for writes
        self._written = 0  # writes so far; ``_complete`` holds since the count it names
        self._complete: dict[str, int] = {}  # vector tables with a vector for every entry
        self._readers: dict[str, Any] = {}  # async handles by table name, for reads
        self._cache = EntryCache()  # every entry's fields, for the reads (diary_cache)
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="diary-read", daemon=True).start()
        with translated(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.path))
            # Reads use the async API (fewer round trips, concurrent), fresh each time.
            fresh = lancedb.connect_async(str(self.path), read_consistency_interval=timedelta(0))
            self._adb = self._run(fresh)
            self._diary = open_diary(self._db, self.path)
            for name in table_names(self._db):
                if name.startswith(VEC_PREFIX) and (got := open_vectors(self._db, self.path, name)):
                    self._vec_tables[got[0]] = got[1]

    @_access(write=True)
    def upsert(
        self,
        entries: Sequence[DiaryEntry],
        vectors: Sequence[Sequence[float]] | None = None,
        embed_model: str = "",
    ) -> None:
        """Insert or replace entries by uuid; with ``vectors``, index them too."""
        matrix = None if vectors is None else _check_vectors(entries, vectors, embed_model)
        order = sorted({e.uuid: i for i, e in enumerate(entries)}.values())  # last one wins
        if not order:
            return
        batch = [entries[i] for i in order]
        space = None if matrix is None else (embed_model, matrix.shape[1])
        new_text = self._changed_text(batch)
        for key, table in list(self._vec_tables.items()):
            if new_text and key != space:
                self._delete_uuids(table, new_text)
        rows = [{**e.model_dump(), "fts_text": fts_document(e.title, e.summary)} for e in batch]
        with self._rewriting() as cached:
            self._merge(self._diary, pa.Table.from_pylist(rows, schema=diary_schema()))
            self._maintain(self._diary)
            if cached is not None:
                changed(cached, upserted=batch)
        if matrix is not None and space is not None:
            table = self._vec_tables.get(space) or self._new_vec_table(space)
            flat = pa.array(matrix[order].ravel(), type=pa.float32())
            uuids = pa.array([e.uuid for e in batch])
            columns = [uuids, pa.FixedSizeListArray.from_arrays(flat, space[1])]
            self._merge(table, pa.Table.from_arrays(columns, schema=table.schema))
            self._maintain(table, vector=True)

    @_access(write=True)
    def delete(self, uuid: str) -> bool:
        if self._diary.count_rows(sql_in("uuid", [uuid])) == 0:
            return False
        for table in self._vec_tables.values():
            self._delete_uuids(table, [uuid])
        with self._rewriting() as cached:
            self._diary.delete(sql_in("uuid", [uuid]))
            self._maintain(self._diary)
            if cached is not None:
                changed(cached, deleted=[uuid])
        return True

    @_access(write=True)
    def clear(self) -> None:
        """Remove every entry and every vector space."""
        with self._gate.exclusive():
            self._readers.clear()
            for key in list(self._vec_tables):
                del self._vec_tables[key]
                self._db.drop_table(vec_table_name(*key))
        with self._rewriting() as cached:
            self._diary.delete("true")
            self._maintain(self._diary, force=True)
            if cached is not None:
                cached.clear()

    @_access(write=True)
    def optimize(self) -> None:
        """Fold new rows into every index and compact now (writes do it too)."""
        with self._rewriting():  # the entries stay as they are, at a new version
            self._maintain(self._diary, force=True)
        for table in self._vec_tables.values():
            self._maintain(table, vector=True, force=True)

    def close(self) -> None:
        """Stop the read thread (the store must not be used afterwards)."""
        self._loop.call_soon_threadsafe(self._loop.stop)

    @_access(write=False)
    def get(self, uuid: str) -> DiaryEntry | None:
        return self._fetch([uuid]).get(uuid)

    @_access(write=False)
    def get_many(self, uuids: Sequence[str]) -> dict[str, DiaryEntry]:
        return self._fetch(uuids) if uuids else {}

    @_access(write=False)
    def list(self, offset: int = 0, limit: int | None = None) -> builtins.list[DiaryEntry]:
        """Newest first (by end time, then uuid for a stable order)."""
        return [] if limit is not None and limit <= 0 else self._page(offset, limit)

    @_access(write=False)
    def count(self) -> int:
        """As of the last read or write (this store's LanceDB handle for writes
        does not look for other processes' writes either)."""
        cached = self._cache.count()
        return int(self._diary.count_rows()) if cached is None else cached

    @_access(write=False)
    def first_start_time(self) -> int | None:
        query = self._diary.search().select(["start_time"])
        rows = query.order_by([ColumnOrdering(column_name="start_time")]).limit(1).to_list()
        return int(rows[0]["start_time"]) if rows else None

    @_access(write=False)
    def unindexed(self, embed_model: str, dimensions: int) -> builtins.list[DiaryEntry]:
        """Entries lacking a vector in this space, newest first (re-indexed first)."""
        table = self._vec_tables.get((embed_model, dimensions))
        if table is None:
            return self._page()
        have = set(table.search().select(["uuid"]).to_arrow()["uuid"].to_pylist())
        ids = self._diary.search().select(["uuid"]).to_arrow()["uuid"].to_pylist()
        found = self._fetch([u for u in ids if u not in have])
        return sorted(found.values(), key=lambda e: (-e.end_time, e.uuid))

    @_access(write=False)
    def search(
        self,
        text: str,
        vector: Sequence[float] | None,
        embed_model: str,
        k: int = 5,
        exclude: Sequence[str] = (),
    ) -> builtins.list[SearchHit]:
        """Full-text and vector search (at once, excluded uuids filtered in each
        query) fused by reciprocal rank, best first."""
        query = np.asarray([] if vector is None else vector, dtype=np.float32).ravel()
        space = (embed_model, query.size)
        name = vec_table_name(*space) if space in self._vec_tables else None
        return self._run(self._search(fts_query(text), query, name, k, exclude)) if k > 0 else []

    async def _search(
        self, terms: str, query: np.ndarray, space: str | None, k: int, exclude: Sequence[str]
    ) -> builtins.list[SearchHit]:
        depth = max(4 * k, 20)
        where = f"NOT ({sql_in('uuid', exclude)})" if exclude else None
        vectors = await self._reader(space) if space else None
        text_rows, similar = await asyncio.gather(
            self._fts(terms, depth, where), self._nearest(vectors, query, depth, where)
        )
        # An entry without a vector yet (the embedder was down) is not ranked
        # down for it: its full-text rank stands in for the vector rank.
        lacking = await self._lacking(vectors, space, [u for u in text_rows if u not in similar])
        scores: dict[str, float] = {}
        for ranking in (text_rows, similar):
            for rank, uuid in enumerate(ranking, start=1):
                twice = 2 if ranking is text_rows and uuid in lacking else 1
                scores[uuid] = scores.get(uuid, 0.0) + twice / (RRF_K + rank)
        best = sorted(scores, key=lambda u: (-scores[u], -similar.get(u, -2.0), u))[:k]
        fetched, sims = await asyncio.gather(
            self._afetch([u for u in best if u not in text_rows]),
            self._similarity(vectors, query, [u for u in best if u not in similar]),
        )
        entries, similar = text_rows | fetched, similar | sims
        hits = [(u, u in text_rows) for u in best if u in entries]
        return [
            SearchHit(entry=entries[u], score=scores[u], similarity=similar.get(u), text_match=t)
            for u, t in hits
        ]

    @_access(write=False)
    def search_text(self, text: str, k: int) -> builtins.list[str]:
        """Uuids of the best full-text matches, best first (no entry is read)."""
        terms = fts_query(text)
        return self._run(self._fts_uuids(terms, k)) if terms and k > 0 else []

    async def _fts_uuids(self, terms: str, k: int) -> builtins.list[str]:
        query = (await self._reader(DIARY)).query().nearest_to_text(terms, columns="fts_text")
        rows = await query.select(["uuid", "_score"]).limit(k).to_arrow()
        return [str(u) for u in rows["uuid"].to_pylist()]

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _reader(self, name: str) -> Any:
        if name not in self._readers:
            self._readers[name] = await self._adb.open_table(name)
        return self._readers[name]

    def _page(self, offset: int = 0, limit: int | None = None) -> builtins.list[DiaryEntry]:
        """Sort the two narrow columns, then read the page's rows only."""
        query = self._diary.search().select(["uuid", "end_time"]).order_by(NEWEST_FIRST)
        page = query.offset(max(offset, 0)).limit(limit).to_arrow()["uuid"].to_pylist()
        found = self._fetch(page)
        return [found[u] for u in page if u in found]

    async def _fts(self, terms: str, depth: int, where: str | None) -> dict[str, DiaryEntry]:
        if not terms:
            return {}
        query = (await self._reader(DIARY)).query().nearest_to_text(terms, columns="fts_text")
        query = query.where(where) if where else query
        rows = await query.select([*ENTRY_COLUMNS, "_score"]).limit(depth).to_arrow()
        return {e.uuid: e for e in _entries(rows)}

    async def _nearest(self, table: Any, query: np.ndarray, depth: int, where: str | None) -> Sims:
        if table is None:
            return {}
        search = table.query().nearest_to(query).column("vector").distance_type("cosine")
        search = search.where(where) if where else search
        rows = await search.select(["uuid", "_distance"]).limit(depth).to_arrow()
        sims = (1.0 - rows["_distance"].to_numpy()).tolist()
        return dict(zip(rows["uuid"].to_pylist(), sims, strict=True))

    async def _lacking(self, table: Any, name: str | None, uuids: Sequence[str]) -> set[str]:
        """Which of these entries have no vector in ``table`` (none asked for
        when it has a vector for every entry: counted once after each write)."""
        if table is None or name is None or not uuids:
            return set()
        written = self._written
        if self._complete.get(name) == written:
            return set()
        if await table.count_rows() >= await (await self._reader(DIARY)).count_rows():
            self._complete[name] = written
            return set()
        rows = await table.query().where(sql_in("uuid", uuids)).select(["uuid"]).to_arrow()
        return set(uuids) - set(rows["uuid"].to_pylist())

    async def _similarity(self, table: Any, query: np.ndarray, uuids: Sequence[str]) -> Sims:
        if table is None or not uuids:
            return {}
        found = table.query().where(sql_in("uuid", uuids)).select(["uuid", "vector"])
        rows = await found.to_arrow()
        matrix = vector_matrix(rows["vector"])
        norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(query)
        sims = (matrix @ query / np.maximum(norms, 1e-12)).tolist()
        return dict(zip(rows["uuid"].to_pylist(), sims, strict=True))

    def _fetch(self, uuids: Sequence[str]) -> dict[str, DiaryEntry]:
        return self._run(self._afetch(uuids))

    async def _afetch(self, uuids: Sequence[str]) -> dict[str, DiaryEntry]:
        if not uuids:
            return {}
        rows = await self._rows()
        return {u: entry_of(rows[u]) for u in uuids if u in rows}

    async def _rows(self) -> Rows:
        """Every entry's fields at the table's latest version: the copy in
        memory if it is of that version, else the whole table read again."""
        reader = await self._reader(DIARY)
        version = await reader.version()
        rows = self._cache.rows(version)
        if rows is None:
            loaded: dict[str, Row] = rows_of(await reader.query().select(ENTRY_COLUMNS).to_arrow())
            if await reader.version() == version:  # nobody wrote meanwhile
                self._cache.offer(version, loaded)
            rows = loaded
        return rows

    def _latest(self) -> int:
        async def latest() -> int:
            return int(await (await self._reader(DIARY)).version())

        return self._run(latest())

    @contextmanager
    def _rewriting(self) -> Iterator[dict[str, Row] | None]:
        """Around a write of the diary table: the cached rows to change as the
        table changes (None when the copy is not of the latest version), kept
        as the copy at the version the write made; dropped if the write fails."""
        cached = self._cache.begin(self._latest())
        try:
            yield cached
        except BaseException:
            self._cache.drop()
            raise
        if cached is not None:
            self._cache.commit(self._diary.version, cached)

    def _changed_text(self, batch: Sequence[DiaryEntry]) -> builtins.list[str]:
        """Uuids of stored entries whose title or summary the batch changes."""
        old = self._fetch([e.uuid for e in batch])
        text = {u: (e.title, e.summary) for u, e in old.items()}
        return [
            e.uuid for e in batch if text.get(e.uuid, (e.title, e.summary)) != (e.title, e.summary)
        ]

    def _merge(self, table: Any, rows: pa.Table) -> None:
        builder = table.merge_insert("uuid").when_matched_update_all()
        builder.when_not_matched_insert_all().execute(rows)

    def _delete_uuids(self, table: Any, uuids: Sequence[str]) -> None:
        for chunk in in_chunks(uuids):
            table.delete(sql_in("uuid", chunk))
        self._maintain(table, vector=True)

    def _maintain(self, table: Any, *, vector: bool = False, force: bool = False) -> None:
        """Now and then fold new rows into the indexes, compact and drop old
        versions. Vector indexes are retrained: LanceDB 0.40 makes each optimize
        a delta segment, slowing with each, on the first, small partitioning."""
        name = table.name
        self._writes[name] = self._writes.get(name, 0) + 1
        indices = list(table.list_indices())
        ann = next((i for i in indices if i.columns == ["vector"]), None)
        unindexed = max((i.num_unindexed_rows or 0 for i in indices), default=0)
        due = force or unindexed >= self._optimize_unindexed
        due = due or self._writes[name] >= self._optimize_writes
        stale = ann is None or (due and (ann.num_unindexed_rows or 0) > 0)
        if vector and stale and table.count_rows() >= self._ann_min_rows:
            table.create_index("vector", config=IvfSq(distance_type="cosine"), replace=True)
        if due:
            table.optimize()
            with self._gate.exclusive():  # no read may use the files deleted now
                table.optimize(cleanup_older_than=KEEP_VERSIONS)
            self._writes[name] = 0

    def _new_vec_table(self, space: tuple[str, int]) -> Any:
        table = self._vec_tables[space] = create_vectors(self._db, self.path, *space)
        return table


def _check_vectors(
    entries: Sequence[DiaryEntry], vectors: Sequence[Sequence[float]], model: str
) -> np.ndarray:
    """The vectors as a (len(entries), dim) float32 matrix, or ValueError."""
    if not model or len(vectors) != len(entries):
        raise BadArgument(f"upsert needs embed_model and one vector per entry: {model!r}")
    try:
        matrix = np.asarray(vectors, dtype=np.float32)
    except ValueError as exc:
        raise BadArgument("vectors must all have one dimension") from exc
    if entries and (matrix.ndim != 2 or not matrix.shape[1] or not np.isfinite(matrix).all()):
        raise BadArgument("vectors must be non-empty lists of finite numbers")
    return matrix
