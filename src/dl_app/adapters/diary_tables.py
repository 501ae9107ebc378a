"""The diary's LanceDB tables: their schemas, opening them, and repairing what
an interrupted write left behind.

Table ``diary`` holds the entries; each embedding space (model name +
dimension) has its own table ``vec_<hash>``, named in its schema metadata.
LanceDB commits a table version by writing its manifest
(``_versions/*.manifest``) last, so a table directory without one holds
nothing committed: it is what a kill while the table was being created leaves
(the directory, perhaps a transaction file). Opening moves such a directory
aside to ``<diary dir>.set-aside/`` (never deletes it), says so in a warning,
and creates the table again. A vector table that cannot be opened for any
other reason is moved aside the same way: its vectors are derived data that
reindexing rebuilds. A committed diary table that cannot be opened is an
error, since its entries are the user's memory; LanceDB's atomic commits mean
no interrupted write leaves one.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
from lancedb.index import FTS, BTree

from ..core.errors import StoreError, msg
from .lance_access import LANCE_ERRORS

__all__ = [
    "DIARY",
    "VEC_PREFIX",
    "create_vectors",
    "diary_schema",
    "open_diary",
    "open_vectors",
    "table_names",
    "vec_table_name",
]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KIND_KEY, VERSION_KEY = b"dl.kind", b"dl.schema_version"
MODEL_KEY, DIM_KEY = b"dl.embed_model", b"dl.dimensions"
DIARY, VEC_PREFIX = "diary", "vec_"
SET_ASIDE = ".set-aside"  # suffix of the folder beside the diary dir


def _meta(kind: bytes, **extra: str) -> dict[bytes, bytes]:
    meta = {KIND_KEY: kind, VERSION_KEY: str(SCHEMA_VERSION).encode()}
    return meta | {f"dl.{k}".encode(): v.encode() for k, v in extra.items()}


def diary_schema() -> pa.Schema:
    text, ms = pa.string(), pa.int64()
    names = [("uuid", text), ("title", text), ("summary", text), ("start_time", ms)]
    fields = [pa.field(n, t, nullable=False) for n, t in [*names, ("end_time", ms)]]
    fields += [pa.field("source_ids", pa.list_(text)), pa.field("fts_text", text, False)]
    return pa.schema(fields, metadata=_meta(b"diary"))


def _vector_schema(model: str, dim: int) -> pa.Schema:
    vector = pa.field("vector", pa.list_(pa.float32(), dim), nullable=False)
    fields = [pa.field("uuid", pa.string(), nullable=False), vector]
    return pa.schema(fields, metadata=_meta(b"vectors", embed_model=model, dimensions=str(dim)))


def vec_table_name(model: str, dim: int) -> str:
    return VEC_PREFIX + hashlib.sha256(f"{model}\0{dim}".encode()).hexdigest()[:16]


def table_names(db: Any) -> builtins.list[str]:
    page = db.list_tables()
    names = list(page.tables)
    while page.page_token:
        page = db.list_tables(page_token=page.page_token)
        names.extend(page.tables)
    return names


def open_diary(db: Any, path: Path) -> Any:
    """The diary table, created if missing (or only half-created), indexed."""
    table = _open(db, path, DIARY) if DIARY in table_names(db) else None
    if table is None:
        db.create_table(DIARY, schema=diary_schema(), exist_ok=True)
        table = db.open_table(DIARY)
    _check(table, path, b"diary", diary_schema().names)
    _ensure_index(table, "uuid", BTree())  # also after a crash right after create
    options: dict[str, Any] = {"lower_case": True, "ascii_folding": True, "stem": True}
    fts = FTS(base_tokenizer="simple", remove_stop_words=True, with_position=False, **options)
    _ensure_index(table, "fts_text", fts)
    return table


def open_vectors(db: Any, path: Path, name: str) -> tuple[tuple[str, int], Any] | None:
    """A vector table and its space (model, dimensions); None when it could not
    be opened and was moved aside (its entries then count as unindexed)."""
    try:
        table = _open(db, path, name)
    except LANCE_ERRORS as exc:
        _set_aside(path, name, f"it cannot be opened ({exc}); reindexing rebuilds its vectors")
        return None
    if table is None:
        return None
    _check(table, path, b"vectors", ["uuid", "vector"])
    meta = table.schema.metadata
    if MODEL_KEY not in meta or not meta.get(DIM_KEY, b"").isdigit():
        raise StoreError(f"Vector table {name!r} in {path} lacks its model")
    _ensure_index(table, "uuid", BTree())
    return (meta[MODEL_KEY].decode(), int(meta[DIM_KEY])), table


def create_vectors(db: Any, path: Path, model: str, dim: int) -> Any:
    name = vec_table_name(model, dim)  # another handle may have made it: exist_ok
    db.create_table(name, schema=_vector_schema(model, dim), exist_ok=True)
    opened = open_vectors(db, path, name)
    if opened is None:  # half-created by another handle that was killed: once more
        db.create_table(name, schema=_vector_schema(model, dim), exist_ok=True)
        opened = open_vectors(db, path, name)
    if opened is None:
        raise StoreError(f"The vector table {name!r} in {path} could not be created")
    return opened[1]


def _open(db: Any, path: Path, name: str) -> Any | None:
    """Open a table; None when its creation was interrupted (then moved aside)."""
    try:
        return db.open_table(name)
    except LANCE_ERRORS:
        if _committed(path / f"{name}.lance"):
            raise
    # Another live process may be creating it right now; moving it is still safe:
    # tables are created empty (schema only), so its manifest names no file moved.
    _set_aside(path, name, "its creation was interrupted, so it held nothing yet")
    return None


def _committed(table_dir: Path) -> bool:
    return any((table_dir / "_versions").glob("*.manifest"))


def _set_aside(path: Path, name: str, why: str) -> None:
    folder = path.with_name(path.name + SET_ASIDE)
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = folder / f"{name}-{stamp}.lance", 1
    while target.exists():
        n += 1
        target = folder / f"{name}-{stamp}-{n}.lance"
    (path / f"{name}.lance").rename(target)
    log.warning("The diary's table %r was moved to %s: %s.", name, target, why)


def _check(table: Any, path: Path, kind: bytes, columns: Iterable[str]) -> None:
    """Refuse foreign tables and newer schema versions."""
    meta, where = table.schema.metadata or {}, f"Table {table.name!r} in {path}"
    if meta.get(KIND_KEY) != kind or not meta.get(VERSION_KEY, b"").isdigit():
        raise StoreError(msg("store.diary_damaged", path=str(path),
                             detail=f"{where} is not a Digital Life {kind.decode()} table"))
    if (version := int(meta[VERSION_KEY])) > SCHEMA_VERSION:
        raise StoreError(msg("store.diary_newer", path=str(path), table=table.name,
                             version=version, max=SCHEMA_VERSION))
    if missing := set(columns) - set(table.schema.names):
        raise StoreError(msg("store.diary_damaged", path=str(path),
                             detail=f"{where} lacks columns {sorted(missing)}"))


def _ensure_index(table: Any, column: str, config: Any) -> None:
    if not any(i.columns == [column] for i in table.list_indices()):
        table.create_index(column, config=config)
