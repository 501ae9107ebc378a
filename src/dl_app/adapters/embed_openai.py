"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint, over httpx.

Inputs go in batches; each answer is checked (status, shape, count, size).
When the host is Jina's, the request also carries Jina's fields (``task``,
``late_chunking``, ``embedding_type``), with different tasks for queries and
passages. 429, 5xx and connection failures are retried with backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import httpx

from dl_app.core.errors import BadResponse, ServiceError, ServiceUnreachable, msg
from dl_app.messages import shown_url

from .service_errors import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    retry_after,
    retryable,
    server_detail,
    status_error,
    unreachable,
)

__all__ = ["OpenAIEmbedder"]

log = logging.getLogger(__name__)

_WHAT = "embedding service"


class OpenAIEmbedder:
    """An ``Embedder`` for an OpenAI-compatible embeddings endpoint.

    ``dimensions``: sent to the service (models that support shortening honour
    it) and checked against every answer; when None it is learned from the
    first answer (reading ``.dimensions`` before any embedding asks the
    service once). ``extra_body`` is merged into every request.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        dimensions: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
        batch_size: int = 32,
        timeout: float = 60.0,
        *,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        http_client: httpx.Client | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._shown = shown_url(self._base_url)  # in messages and logs: no key in it
        self._url = self._base_url + "/embeddings"  # no trailing slash: servers 404 on it
        self._api_key = api_key
        self._model = model
        self._configured = dimensions
        self._learned: int | None = None
        self._extra_body = dict(extra_body or {})
        self._batch_size = batch_size
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = backoff
        self._jina = "jina" in (urlparse(self._base_url).hostname or "").lower()
        self._client = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
        )

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    @property
    def dimensions(self) -> int:
        if self._configured is not None:
            return self._configured
        if self._learned is None:
            self.embed_query("dimension probe")
        assert self._learned is not None
        return self._learned

    def close(self) -> None:
        self._client.close()

    # -- Embedder

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            vectors.extend(self._embed(batch, "retrieval.passage"))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], "retrieval.query")[0]

    # -- internals

    def _body(self, texts: Sequence[str], task: str) -> dict[str, Any]:
        # An empty string is rejected by some services (OpenAI: 400); a space is not.
        body: dict[str, Any] = {"model": self._model, "input": [t or " " for t in texts]}
        if self._configured is not None:
            body["dimensions"] = self._configured
        if self._jina:
            body.update(task=task, late_chunking=False, embedding_type="float")
        body.update(self._extra_body)
        return body

    def _embed(self, texts: Sequence[str], task: str) -> list[list[float]]:
        response = self._post(self._body(texts, task))
        try:
            payload = response.json()
        except ValueError as err:
            raise self._bad("its answer is not JSON") from err
        vectors = self._vectors(payload, len(texts))
        size = len(vectors[0])
        if self._configured is not None and size != self._configured:
            raise BadResponse(msg("embed.dims_mismatch", url=self._shown, size=size,
                                  model=self._model, configured=self._configured))
        if self._learned is not None and size != self._learned:
            raise self._bad(f"its vectors changed size from {self._learned} to {size}")
        self._learned = size
        return vectors

    def _vectors(self, payload: object, count: int) -> list[list[float]]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            detail = server_detail(payload, self._api_key)
            raise self._bad("its answer has no 'data' list" + (f": {detail}" if detail else ""))
        if len(data) != count:
            raise self._bad(f"it returned {len(data)} vectors for {count} texts")
        items = sorted(
            data,
            key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0,
        )
        vectors: list[list[float]] = []
        for item in items:
            embedding = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(embedding, list) or not embedding:
                raise self._bad("an item has no list of numbers under 'embedding'")
            try:
                vectors.append([float(x) for x in embedding])
            except (TypeError, ValueError) as err:
                raise self._bad("an embedding holds something other than numbers") from err
        if len({len(v) for v in vectors}) != 1:
            raise self._bad("its vectors have different sizes")
        return vectors

    def _bad(self, why: str) -> BadResponse:
        return BadResponse(f"The embedding service at {self._shown} answered badly: {why}.")

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        attempt = 0
        while True:
            cause: Exception | None = None
            try:
                response = self._client.post(self._url, json=body, headers=headers)
            except httpx.TimeoutException as err:
                raise ServiceUnreachable(
                    msg("embed.timeout", url=self._shown, seconds=self._timeout)
                ) from err
            except httpx.TransportError as err:
                error: ServiceError = unreachable(self._base_url, err, _WHAT)
                delay, cause = self._retry_delay(attempt, None), err
            else:
                if response.status_code == 200:
                    return response
                error = self._status_error(response)
                delay = self._retry_delay(attempt, response)
            if delay is None:
                raise error from cause
            attempt += 1
            # A log line, not news for the user: the final failure is said.
            log.info(
                "Embedding service %s: %s; retry %d of %d in %.1f s",
                self._shown,
                type(error).__name__,
                attempt,
                self._max_retries,
                delay,
            )
            time.sleep(delay)

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        if attempt >= self._max_retries:
            return None
        if response is not None:
            if not retryable(response.status_code):
                return None
            after = retry_after(response.headers)
            if after is not None:
                return after if after <= MAX_RETRY_AFTER else None
        return float(min(self._backoff * 2**attempt, MAX_BACKOFF))

    def _status_error(self, response: httpx.Response) -> ServiceError:
        try:
            body: object = response.json()
        except ValueError:
            body = response.text
        detail = server_detail(body, self._api_key)
        return status_error(
            response.status_code, detail, what=_WHAT, base_url=self._base_url, model=self._model
        )
