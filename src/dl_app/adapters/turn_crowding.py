"""How crowded a turn's neighbourhood is in an embedding space: the mean cosine
similarity of the turn to its ``NEAREST`` nearest other turns.

Some messages ("Haha, yeah!", "That's great to hear") sit close to almost
everything, so a vector search puts them near any question (hubs). The
evidence search takes each nearest turn's similarity less a share of this
figure (``core/evidence.py``, ``CROWDING_WEIGHT``; the CSLS correction of
cross-lingual word retrieval), measured in ``bench/locomo_rerank.py``.

The figure is taken against the space's vectors held in memory: all of them up
to ``SAMPLE_ROWS``, else a fixed random sample of that many (in runs of
``BLOCK`` rows, which read far faster than single rows). In a sample a
turn's nearest ``NEAREST`` stand where more of its nearest would among all: a
broader neighbourhood, which a fixed count measures with less noise than a
count scaled down to the sample's share (on LoCoMo, sampling half or a quarter
of the turns, neither was better; both lost a little against all turns). They
are read again once the table has grown by ``REFRESH_GROWTH`` or shrunk, and
each turn's figure is kept until then. Nothing is stored on disk: a data
dir of any age gets it, and a deleted turn's vector leaves memory with the
next read.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from .lance_access import vector_matrix

__all__ = ["Crowding"]

NEAREST = 10
SAMPLE_ROWS = 4096
BLOCK = 64  # a sample's rows are read in runs of this many
REFRESH_GROWTH = 0.1


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


class Crowding:
    """The figures of one vector table (``figures``), read lazily."""

    def __init__(self, sample_rows: int | None = None) -> None:
        self._sample_rows = sample_rows  # None: SAMPLE_ROWS
        self._lock = threading.Lock()
        self._rows = -1  # the table's rows when the vectors were read (-1: not read)
        self._ids: dict[str, int] = {}  # id -> row of ``_matrix``
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._k = 0
        self._memo: dict[str, float] = {}

    def forget(self) -> None:
        """Read the vectors again before the next figure (turns were deleted)."""
        with self._lock:
            self._rows, self._ids, self._memo = -1, {}, {}
            self._matrix = np.zeros((0, 0), dtype=np.float32)

    def figures(self, table: Any, ids: Sequence[str], vectors: np.ndarray) -> list[float]:
        """Each turn's figure (``ids[i]`` with vector ``vectors[i]``), 0.0 for all
        while the space holds fewer than two vectors."""
        with self._lock:
            rows = int(table.count_rows())
            if self._rows < 0 or rows < self._rows or rows > self._rows * (1 + REFRESH_GROWTH):
                self._load(table, rows)
            todo = [i for i, tid in enumerate(ids) if tid not in self._memo]
            if todo and self._k:
                sims = _unit(np.asarray(vectors[todo], dtype=np.float32)) @ self._matrix.T
                for row, i in enumerate(todo):  # a turn is not its own neighbour
                    own = self._ids.get(ids[i])
                    if own is not None:
                        sims[row, own] = -np.inf
                top = -np.partition(-sims, self._k - 1, axis=1)[:, : self._k]
                for row, i in enumerate(todo):
                    self._memo[ids[i]] = float(top[row].mean())
            return [self._memo.get(tid, 0.0) for tid in ids]

    def _load(self, table: Any, rows: int) -> None:
        size = SAMPLE_ROWS if self._sample_rows is None else self._sample_rows
        if rows <= size:
            found = table.search().select(["id", "vector"]).limit(max(rows, 1)).to_arrow()
        else:  # the same sample for the same row count, in every process; in runs
            # of up to BLOCK rows, at least 16 runs (at 200k turns, 4096 single rows
            # read cold took 0.5-1.8 s, 64 runs of 64 took 0.12 s)
            run = max(1, min(BLOCK, size // 16))
            runs = np.random.default_rng(rows).choice(rows // run, size // run, replace=False)
            offsets = [int(b) * run + j for b in sorted(runs) for j in range(run)]
            found = table.take_offsets(offsets).select(["id", "vector"]).to_arrow()
        ids = found["id"].to_pylist()
        self._matrix = _unit(vector_matrix(found["vector"]))
        self._ids = {tid: i for i, tid in enumerate(ids)}
        self._rows, self._memo = rows, {}
        n = len(ids)
        self._k = max(0, min(NEAREST, n - 1))
