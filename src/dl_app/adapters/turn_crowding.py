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
are read again once the table has grown by ``REFRESH_GROWTH`` or shrunk.
Nothing is stored on disk: a data dir of any age gets it, and a deleted turn's
vector leaves memory with the next read.

Up to ``EXACT_ROWS`` held vectors a figure is exact. Beyond, the held vectors
are grouped by spherical k-means (``CLUSTER_ROWS`` a cluster on average, done
once per read) and a turn's nearest are looked for in its ``PROBES`` nearest
clusters only, as an IVF index does. On a sample of 4,096 of the 200k-turn
bench corpus (real vectors plus a little noise) that costs 1.5 ms for a
search's 50 turns against 4.2 ms for all, and the figures differ by 0.0003 on
average (their spread 0.02; rank correlation 0.999); on the 1,184 real turns
and summaries that corpus is made of (LoCoMo and the Chinese fixtures),
0.0002.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .lance_access import vector_matrix

__all__ = ["Crowding"]

NEAREST = 10
SAMPLE_ROWS = 4096
BLOCK = 64  # a sample's rows are read in runs of this many
REFRESH_GROWTH = 0.1
RECOUNT_SECONDS = 1.0  # the table's rows are asked at most this often (0.2 ms)
EXACT_ROWS = 2048  # beyond, each figure is taken in its nearest clusters
CLUSTER_ROWS = 64
PROBES = 4
ROUNDS = 8


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


class Crowding:
    """The figures of one vector table (``figures``), read lazily."""

    def __init__(self, sample_rows: int | None = None, exact_rows: int | None = None) -> None:
        self._sample_rows = sample_rows  # None: SAMPLE_ROWS
        self._exact_rows = exact_rows  # None: EXACT_ROWS
        self._lock = threading.Lock()
        self._rows = -1  # the table's rows when the vectors were read (-1: not read)
        self._counted = 0.0  # when the table's rows were last asked (time.monotonic)
        self._ids: dict[str, int] = {}  # id -> row of ``_matrix``
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._centroids: np.ndarray | None = None  # with more than EXACT_ROWS vectors
        self._labels = np.zeros(0, dtype=np.int64)  # each row's cluster
        self._k = 0

    def forget(self) -> None:
        """Read the vectors again before the next figure (turns were deleted)."""
        with self._lock:
            self._rows, self._ids, self._centroids = -1, {}, None
            self._matrix = np.zeros((0, 0), dtype=np.float32)

    def figures(self, table: Any, ids: Sequence[str], vectors: np.ndarray) -> list[float]:
        """Each turn's figure (``ids[i]`` with vector ``vectors[i]``), 0.0 for all
        while the space holds fewer than two vectors."""
        with self._lock:
            now = time.monotonic()
            if self._rows < 0 or now - self._counted >= RECOUNT_SECONDS:
                rows, self._counted = int(table.count_rows()), now
                grown = rows > self._rows * (1 + REFRESH_GROWTH)
                if self._rows < 0 or rows < self._rows or grown:
                    self._load(table, rows)
            if not self._k or not len(ids):
                return [0.0] * len(ids)
            turns = _unit(np.asarray(vectors, dtype=np.float32))
            matrix, own = self._matrix, np.array([self._ids.get(t, -1) for t in ids])
            allowed = None
            if self._centroids is not None:  # each turn's PROBES nearest clusters
                probes = min(PROBES, len(self._centroids))
                near = np.argpartition(-(turns @ self._centroids.T), probes - 1, axis=1)
                near = near[:, :probes]
                cols = np.flatnonzero(np.isin(self._labels, near))
                where = np.full(len(matrix), -1)
                where[cols] = np.arange(len(cols))
                matrix, own = matrix[cols], np.where(own >= 0, where[np.maximum(own, 0)], -1)
                probed = np.zeros((len(turns), len(self._centroids)), dtype=bool)
                probed[np.arange(len(turns))[:, None], near] = True
                allowed = probed[:, self._labels[cols]]
            sims = turns @ matrix.T
            if allowed is not None:
                np.putmask(sims, ~allowed, -np.inf)
            mine = np.flatnonzero(own >= 0)
            sims[mine, own[mine]] = -np.inf  # a turn is not its own neighbour
            k = min(self._k, sims.shape[1])
            top = -np.partition(-sims, k - 1, axis=1)[:, :k]
            found = np.isfinite(top)
            sums = np.where(found, top, 0.0).sum(axis=1)
            return (sums / np.maximum(found.sum(axis=1), 1)).tolist()

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
        self._rows = rows
        n = len(ids)
        self._k = max(0, min(NEAREST, n - 1))
        exact = EXACT_ROWS if self._exact_rows is None else self._exact_rows
        self._centroids = None
        if n > exact:
            count = max(1, n // CLUSTER_ROWS)
            self._labels, self._centroids = _clusters(self._matrix, count, rows)


def _clusters(m: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means: each row's cluster and the clusters' unit centroids
    (``ROUNDS`` rounds from ``count`` rows chosen by ``seed``)."""
    centroids = m[np.random.default_rng(seed).choice(len(m), count, replace=False)]
    for _ in range(ROUNDS):
        labels = np.argmax(m @ centroids.T, axis=1)
        members = np.zeros((count, len(m)), dtype=np.float32)
        members[labels, np.arange(len(m))] = 1.0
        sums = members @ m
        kept = np.linalg.norm(sums, axis=1) > 0  # an empty cluster keeps its centroid
        centroids = np.where(kept[:, None], _unit(sums), centroids)
    return np.argmax(m @ centroids.T, axis=1), centroids
