"""The turn index in embedded LanceDB: every archived message, searchable.

It lives in the diary's LanceDB directory. Table ``turns`` holds one row per
archived user or assistant message: its id, the diary entry it belongs to, its
role, time, position in the conversation, the verbatim text, and ``fts_text``
(the index key the domain builds: speaker, date, the text, resolved dates;
CJK spelled as characters and bigrams as in the diary). Each embedding space
has its own table ``tvec_<hash>`` of ``id`` and ``vector``.

Everything here is derived from the state store's archive: a table that cannot
be opened is moved aside and rebuilt by reindexing; deletions compact the
tables at once, so a deleted message's words leave the directory (old table
versions included).

Folding. A row that no index covers yet is searched by brute force: at 200k
turns each 500 such rows cost a full-text query about 10 ms more, while
folding them in (``optimize``: index update, compaction) costs about a second.
So a single write (a conversation's turns) is folded at once, and a bulk write
(``with store.bulk():``, which import and reindexing use) folds only when the
rows added since the last fold reach the rows already folded (the table has
doubled: folding stays linear in the rows written), and once more at its end.
The vector index is trained again (not only extended) each time its table has
doubled since it was trained, so its partitions grow with it.
"""

from __future__ import annotations

import asyncio
import builtins
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import FTS, BTree, IvfSq

from ..core.errors import StoreError
from ..core.ports import TurnRecord, TurnRef
from .diary_tables import _committed, _set_aside, table_names
from .fts_text import fts_query, fts_terms
from .lance_access import KEEP_VERSIONS, Gate, in_chunks, sql_in, translated, vector_matrix
from .turn_crowding import Crowding
from .turn_tables import (
    COLUMNS,
    META_DIM,
    META_KIND,
    META_MODEL,
    REF_COLUMNS,
    TURNS,
    TVEC_PREFIX,
    records,
    refs_of,
    turns_schema,
    unindexed_rows,
    vec_name,
    vec_schema,
    where_select,
)

__all__ = ["LanceTurnStore"]

# The vector index has a partition per PARTITION_ROWS vectors (LanceDB's default,
# 8192, made 24 at 200k turns, so a search with 20 probes read nearly all; set as
# the target size, since ``optimize`` merges partitions back towards it); a
# search reads one partition in PROBE_SHARE, at least NPROBES.
PARTITION_ROWS, PROBE_SHARE, NPROBES = 2048, 5, 20


class LanceTurnStore:
    """``TurnIndex`` on the diary's LanceDB directory. Writes are serialized by
    one lock, reads run concurrently (a fold waits for them before it deletes
    old files). The searches and ``of_entries`` go through LanceDB's async API
    on a thread of their own: one round trip each (the sync API makes six),
    each on the table's latest version."""

    def __init__(self, path: str | Path, *, ann_min_rows: int = 8192,
                 partition_rows: int = PARTITION_ROWS, min_probes: int = NPROBES,
                 crowd_sample: int | None = None) -> None:
        self.path = Path(path)
        self._ann_min_rows = ann_min_rows
        self._partition_rows, self._min_probes = partition_rows, min_probes
        self._crowd_sample = crowd_sample
        self._lock = threading.RLock()
        self._gate = Gate()
        self._bulk = 0  # depth of nested bulk() blocks
        self._pending: dict[str, int] = {}  # table name -> rows written since its last fold
        self._trained: dict[str, int] = {}  # vector table name -> rows when its index was trained
        self._probes: dict[str, int] = {}  # vector table name -> partitions a search reads
        self._vecs: dict[tuple[str, int], Any] = {}
        self._crowds: dict[tuple[str, int], Crowding] = {}  # by space, read when first asked
        self._added = 0  # turns added so far; ``_complete`` holds since the count it names
        self._complete: dict[tuple[str, int], int] = {}  # spaces with every turn's vector
        self._readers: dict[str, Any] = {}  # async handles by table name, for the searches
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="turns-read", daemon=True).start()
        with translated(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.path))
            fresh = lancedb.connect_async(str(self.path), read_consistency_interval=timedelta(0))
            self._adb = asyncio.run_coroutine_threadsafe(fresh, self._loop).result()
            names = table_names(self._db)
            self._turns = self._open_turns(TURNS in names)
            for name in names:
                if name.startswith(TVEC_PREFIX):
                    self._open_vectors(name)

    # -- opening -------------------------------------------------------------

    def _open_turns(self, exists: bool) -> Any:
        table = None
        if exists:
            try:
                table = self._db.open_table(TURNS)
                if (table.schema.metadata or {}).get(META_KIND) != b"turns":
                    raise StoreError(f"Table 'turns' in {self.path} is not a turn index")
            except (OSError, RuntimeError, ValueError, pa.ArrowException) as exc:
                why = "it cannot be opened" if _committed(self.path / "turns.lance") else None
                _set_aside(self.path, TURNS, f"{why or 'its creation was interrupted'} "
                           f"({exc}); reindexing rebuilds it")
                table = None
        if table is None:
            self._db.create_table(TURNS, schema=turns_schema(), exist_ok=True)
            table = self._db.open_table(TURNS)
        indexed = {tuple(i.columns) for i in table.list_indices()}
        for column in ("id", "entry"):
            if (column,) not in indexed:
                table.create_index(column, config=BTree())
        if ("fts_text",) not in indexed:
            fts = FTS(base_tokenizer="simple", remove_stop_words=True, with_position=False,
                      lower_case=True, ascii_folding=True, stem=True)
            table.create_index("fts_text", config=fts)
        return table

    def _open_vectors(self, name: str) -> None:
        try:
            table = self._db.open_table(name)
            meta = table.schema.metadata or {}
            space = (meta[META_MODEL].decode(), int(meta[META_DIM]))
            if "entry" not in table.schema.names:
                table = self._upgrade_vectors(name, table, *space)
        except (OSError, RuntimeError, ValueError, KeyError, pa.ArrowException) as exc:
            _set_aside(self.path, name, f"it cannot be opened ({exc}); reindexing rebuilds it")
            return
        self._vecs[space] = table

    def _upgrade_vectors(self, name: str, table: Any, model: str, dim: int) -> Any:
        """A table of an older version (id and vector only) rewritten with each
        turn's entry and time (vectors of turns no longer indexed are dropped).
        Killed halfway, the table is gone and reindexing embeds its turns again."""
        old = table.search().select(["id", "vector"]).to_arrow()
        refs = self._turns.search().select(REF_COLUMNS).to_arrow()
        at = pc.index_in(old["id"], value_set=refs["id"])  # each vector's turn, or null
        old, at = old.filter(pc.is_valid(at)), at.drop_null()
        columns = [old["id"], refs["entry"].take(at), refs["ts"].take(at), old["vector"]]
        rows = pa.Table.from_arrays(columns, schema=vec_schema(model, dim))
        self._db.drop_table(name)
        self._db.create_table(name, rows)
        return self._db.open_table(name)

    def _vectors(self, model: str, dim: int) -> Any:
        if (model, dim) not in self._vecs:
            name = vec_name(model, dim)
            self._db.create_table(name, schema=vec_schema(model, dim), exist_ok=True)
            self._vecs[(model, dim)] = self._db.open_table(name)
        return self._vecs[(model, dim)]

    # -- writing -------------------------------------------------------------

    def add(self, turns: Sequence[TurnRecord], keys: Sequence[str]) -> None:
        """Insert or replace turns by id, with their index keys (one per turn)."""
        if len(turns) != len(keys):
            raise ValueError("one index key per turn")
        if not turns:
            return
        rows = [{**t.__dict__, "fts_text": fts_terms(k)} for t, k in zip(turns, keys, strict=True)]
        with self._lock, translated(self.path):
            self._added += 1
            old = self.refs([t.id for t in turns])
            moved = [t.id for t in turns
                     if t.id in old and old[t.id] != TurnRef(t.id, t.entry, t.ts)]
            for chunk in in_chunks(moved):  # their vectors name the old entry: embedded anew
                for table in self._vecs.values():
                    table.delete(sql_in("id", chunk))
            builder = self._turns.merge_insert("id").when_matched_update_all()
            builder.when_not_matched_insert_all().execute(
                pa.Table.from_pylist(rows, schema=turns_schema()))
            self._wrote(self._turns, len(rows))

    def set_vectors(self, ids: Sequence[str], vectors: Sequence[Sequence[float]],
                    model: str) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        if len(ids) != len(matrix) or matrix.ndim != 2 or not np.isfinite(matrix).all():
            raise ValueError("one finite vector per turn id")
        if not ids:
            return
        with self._lock, translated(self.path):
            table = self._vectors(model, matrix.shape[1])
            refs = self.refs(ids)  # a turn no longer indexed gets no vector
            keep = [i for i, tid in enumerate(ids) if tid in refs]
            if not keep:
                return
            flat = pa.array(matrix[keep].ravel(), type=pa.float32())
            columns = [
                pa.array([ids[i] for i in keep]),
                pa.array([refs[ids[i]].entry for i in keep]),
                pa.array([refs[ids[i]].ts for i in keep], type=pa.int64()),
                pa.FixedSizeListArray.from_arrays(flat, matrix.shape[1]),
            ]
            builder = table.merge_insert("id").when_matched_update_all()
            builder.when_not_matched_insert_all().execute(
                pa.Table.from_arrays(columns, schema=table.schema))
            self._wrote(table, len(keep))

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes: fold only when a table has doubled, and at the end."""
        with self._lock:
            self._bulk += 1
        try:
            yield
        finally:
            with self._lock:
                self._bulk -= 1
                if not self._bulk:
                    self.optimize()

    def optimize(self) -> None:
        """Fold every row written since the last fold into the indexes (a no-op
        when there are none)."""
        with self._lock, translated(self.path):
            for table in (self._turns, *self._vecs.values()):
                if self._pending_rows(table):
                    self._fold(table)

    def _pending_rows(self, table: Any) -> int:
        if table.name not in self._pending:  # first look since opening: ask the indexes
            pending = unindexed_rows(table)
            if table is not self._turns and not list(table.list_indices()):
                rows = table.count_rows()  # no vector index yet: due once large enough
                pending = rows if rows >= self._ann_min_rows else 0
            self._pending[table.name] = pending
        return self._pending[table.name]

    def _wrote(self, table: Any, rows: int) -> None:
        pending = self._pending_rows(table) + rows
        self._pending[table.name] = pending
        if not self._bulk or 2 * pending >= table.count_rows():  # single write, or doubled
            self._fold(table)

    def _fold(self, table: Any) -> None:
        rows = table.count_rows()
        if table is not self._turns and rows >= self._ann_min_rows:
            trained = self._trained.get(table.name)
            if trained is None:
                ann = [i for i in table.list_indices() if i.columns == ["vector"]]
                trained = self._trained[table.name] = ann[0].num_indexed_rows if ann else 0
            if rows >= 2 * trained:  # none yet, or the table has doubled: train again
                ivf = IvfSq(distance_type="cosine", target_partition_size=self._partition_rows)
                table.create_index("vector", config=ivf, replace=True)
                self._trained[table.name] = rows
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "optimize.cleanup_older_than", UserWarning)
            table.optimize()
            with self._gate.exclusive():  # no read may use the files deleted now
                table.optimize(cleanup_older_than=KEEP_VERSIONS)
        self._pending[table.name] = 0
        self._probes.pop(table.name, None)  # its index holds other rows now

    def delete_entries(self, entries: Sequence[str]) -> int:
        """Remove the turns of these diary entries and their vectors, and the
        old table versions that still held them."""
        with self._lock, translated(self.path):
            ids: list[str] = []
            for chunk in in_chunks(list(entries)):
                rows = self._turns.search().where(sql_in("entry", chunk)).select(["id"])
                ids += rows.to_arrow()["id"].to_pylist()
            for chunk in in_chunks(ids):
                for table in self._vecs.values():
                    table.delete(sql_in("id", chunk))
                self._turns.delete(sql_in("id", chunk))
            self._compact()
            for crowding in self._crowds.values():
                crowding.forget()
            return len(ids)

    def clear(self) -> None:
        with self._lock, translated(self.path):
            self._added += 1
            self._turns.delete("true")
            with self._gate.exclusive():
                self._readers.clear()
                for key in list(self._vecs):
                    table = self._vecs.pop(key)
                    self._pending.pop(table.name, None)
                    self._trained.pop(table.name, None)
                    self._probes.pop(table.name, None)
                    self._db.drop_table(vec_name(*key))
                self._crowds.clear()
            self._compact()

    def _compact(self) -> None:
        # Every old version goes, so deleted words leave the disk; a reader in
        # another process on an old version would fail once (and retry).
        with warnings.catch_warnings(), self._gate.exclusive():
            warnings.filterwarnings("ignore", "optimize.cleanup_older_than", UserWarning)
            for table in (self._turns, *self._vecs.values()):
                table.optimize(cleanup_older_than=timedelta(0))
                self._pending[table.name] = 0

    # -- reading -------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with translated(self.path), self._gate.shared():
            yield

    def _read(self, table: str, query: Callable[[Any], Any]) -> pa.Table:
        """``query(async handle of table)``, run to an Arrow table in one round trip."""
        async def run() -> pa.Table:
            if table not in self._readers:
                self._readers[table] = await self._adb.open_table(table)
            return await query(self._readers[table]).to_arrow()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def count(self) -> int:
        with self._reading():
            return int(self._turns.count_rows())

    def entries(self) -> set[str]:
        """The diary entries that have turns in the index."""
        with self._reading():
            rows = self._turns.search().select(["entry"]).to_arrow()
            return set(rows["entry"].to_pylist())

    def unembedded(self, model: str, dim: int) -> builtins.list[TurnRecord]:
        """Turns lacking a vector in this space, oldest first."""
        with self._reading():
            table = self._vecs.get((model, dim))
            have = set() if table is None else set(
                table.search().select(["id"]).to_arrow()["id"].to_pylist())
            rows = records(self._turns.search().select(COLUMNS).to_arrow())
            return sorted((r for r in rows if r.id not in have), key=lambda r: (r.ts, r.seq))

    def embedded_count(self, model: str, dim: int) -> int:
        with self._reading():
            table = self._vecs.get((model, dim))
            return 0 if table is None else int(table.count_rows())

    def lacking_vectors(self, ids: Sequence[str], model: str, dim: int) -> set[str]:
        """Which of these turns have no vector in this space (none asked for
        while the space has as many vectors as there are turns)."""
        wanted, have, added = list(ids), set(), self._added
        if not wanted or self._complete.get((model, dim)) == added:
            return set()
        with self._reading():
            table = self._vecs.get((model, dim))
            if table is None:
                return set(wanted)
            if table.count_rows() >= self._turns.count_rows():  # counted once after adding
                self._complete[(model, dim)] = added
                return set()
            for chunk in in_chunks(wanted):
                rows = table.search().where(sql_in("id", chunk)).select(["id"]).to_arrow()
                have.update(rows["id"].to_pylist())
        return set(wanted) - have

    def of_entries(self, entries: Sequence[str]) -> builtins.list[TurnRecord]:
        """Every turn of these entries, in conversation order."""
        out: list[TurnRecord] = []
        with self._reading():
            for chunk in in_chunks(list(entries)):
                out += records(self._read(TURNS, where_select(sql_in("entry", chunk), COLUMNS)))
        return sorted(out, key=lambda r: (r.entry, r.seq))

    def search_text(self, text: str, depth: int, exclude: Sequence[str] = ()
                    ) -> builtins.list[tuple[TurnRef, float]]:
        """Full-text (BM25) matches, best first (where they are, not their text)."""
        terms = fts_query(text)
        if not terms or depth <= 0:
            return []
        # A few excluded ids are dropped afterwards (a filter makes the query
        # about twice as slow); many are filtered in the query.
        after = len(exclude) <= depth
        limit = depth + len(exclude) if after else depth

        def query(table: Any) -> Any:
            found = table.query().nearest_to_text(terms, columns="fts_text")
            if exclude and not after:  # prefiltered, as LanceDB does by default
                found = found.where(f"NOT ({sql_in('id', exclude)})")
            return found.select([*REF_COLUMNS, "_score"]).limit(limit)

        with self._reading():
            rows = self._read(TURNS, query)
        scores = rows["_score"].to_pylist() if rows.num_rows else []
        skip = set(exclude) if after else set()
        found = [(r, s) for r, s in zip(refs_of(rows), scores, strict=True) if r.id not in skip]
        return found[:depth]

    def search_vector(self, vector: Sequence[float], model: str, depth: int,
                      exclude: Sequence[str] = ()) -> builtins.list[tuple[TurnRef, float]]:
        """The nearest turns in this space with their cosine similarity, nearest first."""
        return [(r, s) for r, s, _ in self._nearest(vector, model, depth, exclude, False)]

    def nearest(self, vector: Sequence[float], model: str, depth: int,
                exclude: Sequence[str] = ()) -> builtins.list[tuple[TurnRef, float, float]]:
        """``search_vector``'s turns, each also with its crowding (``turn_crowding.py``)."""
        return self._nearest(vector, model, depth, exclude, True)

    def _nearest(self, vector: Sequence[float], model: str, depth: int,
                 exclude: Sequence[str], crowding: bool
                 ) -> builtins.list[tuple[TurnRef, float, float]]:
        query = np.asarray(vector, dtype=np.float32).ravel()
        with self._reading():
            table = self._vecs.get((model, query.size))
            if table is None or depth <= 0:
                return []
            # Excluded ids are dropped afterwards: a filter on a table without an
            # id index would read every id (it doubles the query's time).
            probes = self._nprobes(table)
            columns = [*REF_COLUMNS, "_distance", *(["vector"] if crowding else [])]
            rows = self._read(table.name, lambda t: t.query().nearest_to(query).column("vector")
                              .distance_type("cosine").nprobes(probes).select(columns)
                              .limit(depth + len(exclude)))
            skip = set(exclude)
            keep = [i for i, tid in enumerate(rows["id"].to_pylist()) if tid not in skip][:depth]
            rows = rows.take(pa.array(keep, type=pa.int64()))
            refs = refs_of(rows)
            crowd = [0.0] * len(refs)
            if crowding and refs:
                crowd = self._crowding(model, query.size).figures(
                    table, [r.id for r in refs], vector_matrix(rows["vector"]))
        sims = (1.0 - rows["_distance"].to_numpy()).tolist()
        return list(zip(refs, sims, crowd, strict=True))

    def _crowding(self, model: str, dim: int) -> Crowding:
        return self._crowds.setdefault((model, dim), Crowding(self._crowd_sample))  # atomic

    def _nprobes(self, table: Any) -> int:
        """Partitions a vector search reads: a share of the rows its index holds
        now (asked once per table and fold), so the process that built the
        index and one that reopened it read alike."""
        if table.name not in self._probes:
            ann = [i for i in table.list_indices() if i.columns == ["vector"]]
            indexed = ann[0].num_indexed_rows if ann else 0
            share = indexed // (self._partition_rows * PROBE_SHARE)
            self._probes[table.name] = max(self._min_probes, share)
        return self._probes[table.name]

    def refs(self, ids: Sequence[str]) -> dict[str, TurnRef]:
        """Where these turns are (entry, time), without their text."""
        out: dict[str, TurnRef] = {}
        with self._reading():
            for chunk in in_chunks(list(ids)):
                query = self._turns.search().where(sql_in("id", chunk)).select(REF_COLUMNS)
                out.update((r.id, r) for r in refs_of(query.to_arrow()))
        return out

    def get(self, ids: Sequence[str]) -> dict[str, TurnRecord]:
        out: dict[str, TurnRecord] = {}
        with self._reading():
            for chunk in in_chunks(list(ids)):
                query = self._turns.search().where(sql_in("id", chunk)).select(COLUMNS)
                out.update((r.id, r) for r in records(query.to_arrow()))
        return out

    def close(self) -> None:
        """Stop the read thread (the store must not be used afterwards)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
