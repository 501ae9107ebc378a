"""The turn index's tables: their layout (schemas, names) and how their rows
read back as turns (``turns_lancedb.py`` holds the store)."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from ..core.ports import TurnRecord, TurnRef

TURNS, TVEC_PREFIX = "turns", "tvec_"
COLUMNS = ["id", "entry", "role", "ts", "seq", "text"]
REF_COLUMNS = ["id", "entry", "ts"]
META_KIND, META_MODEL, META_DIM = b"dl.kind", b"dl.embed_model", b"dl.dimensions"


def turns_schema() -> pa.Schema:
    text = pa.string()
    fields = [pa.field(n, text, False) for n in ("id", "entry", "role")]
    fields += [pa.field("ts", pa.int64(), False), pa.field("seq", pa.int32(), False)]
    fields += [pa.field("text", text, False), pa.field("fts_text", text, False)]
    return pa.schema(fields, metadata={META_KIND: b"turns", b"dl.schema_version": b"1"})


def vec_schema(model: str, dim: int) -> pa.Schema:
    """A vector carries its turn's entry and time: a vector search then ranks
    entries without a second read."""
    vector = pa.field("vector", pa.list_(pa.float32(), dim), nullable=False)
    meta = {META_KIND: b"turn_vectors", META_MODEL: model.encode(), META_DIM: str(dim).encode()}
    fields = [pa.field(n, pa.string(), False) for n in ("id", "entry")]
    return pa.schema([*fields, pa.field("ts", pa.int64(), False), vector], metadata=meta)


def vec_name(model: str, dim: int) -> str:
    return TVEC_PREFIX + hashlib.sha256(f"{model}\0{dim}".encode()).hexdigest()[:16]


def where_select(clause: str, columns: Sequence[str]) -> Callable[[Any], Any]:
    return lambda table: table.query().where(clause).select(list(columns))


def records(rows: pa.Table) -> builtins.list[TurnRecord]:
    return [TurnRecord(**{c: r[c] for c in COLUMNS}) for r in rows.select(COLUMNS).to_pylist()]


def refs_of(rows: pa.Table) -> builtins.list[TurnRef]:
    cols = [rows[c].to_pylist() for c in REF_COLUMNS]
    return [TurnRef(i, e, t) for i, e, t in zip(*cols, strict=True)]


def unindexed_rows(table: Any) -> int:
    """Rows some index of the table does not cover yet."""
    return max((i.num_unindexed_rows or 0 for i in table.list_indices()), default=0)
