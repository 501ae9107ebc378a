"""OpenAIEmbedder against the real scripted server."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from dl_app.adapters.embed_openai import OpenAIEmbedder
from dl_app.core.errors import (
    AuthFailed,
    BadResponse,
    ModelNotFound,
    ServerFailed,
    ServiceUnreachable,
)
from servers.openai_compat import EmbeddingReply, OpenAICompatServer, hash_embedding


def _embedder(url: str, **options: Any) -> OpenAIEmbedder:
    options = {"timeout": 2.0, "backoff": 0.01, **options}
    return OpenAIEmbedder(url, options.pop("api_key", ""), "test-embed", **options)


class _ToLocal(httpx.BaseTransport):
    """Sends every request to the local server, whatever host the URL names."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def test_batches_in_order_with_exact_path(openai_server: OpenAICompatServer) -> None:
    texts = [f"memory number {i}" for i in range(5)]
    embedder = _embedder(openai_server.base_url + "/", batch_size=2)
    vectors = embedder.embed_passages(texts)
    assert vectors == [hash_embedding(t, 64) for t in texts]
    requests = openai_server.embedding_requests
    assert [r.body["input"] for r in requests] == [texts[0:2], texts[2:4], texts[4:]]
    assert {r.path for r in openai_server.requests} == {"/v1/embeddings"}  # no trailing slash
    assert "dimensions" not in requests[0].body and "task" not in requests[0].body
    assert "authorization" not in requests[0].headers  # no key, no header
    assert embedder.name == "openai:test-embed" and embedder.dimensions == 64


def test_query_and_configured_dimensions(openai_server: OpenAICompatServer) -> None:
    embedder = _embedder(openai_server.base_url, dimensions=32, api_key="sk-k")
    assert embedder.dimensions == 32 and openai_server.requests == []  # no probe needed
    assert embedder.embed_query("a cat") == hash_embedding("a cat", 32)
    (request,) = openai_server.embedding_requests
    assert request.body == {"model": "test-embed", "input": ["a cat"], "dimensions": 32}
    assert request.headers["authorization"] == "Bearer sk-k"


def test_dimensions_are_learned_with_a_probe(openai_server: OpenAICompatServer) -> None:
    embedder = _embedder(openai_server.base_url)
    assert embedder.dimensions == 64
    assert embedder.dimensions == 64
    assert len(openai_server.embedding_requests) == 1


def test_empty_inputs(openai_server: OpenAICompatServer) -> None:
    embedder = _embedder(openai_server.base_url)
    assert embedder.embed_passages([]) == []
    assert openai_server.requests == []
    assert len(embedder.embed_passages(["", "x"])) == 2
    assert openai_server.embedding_requests[0].body["input"] == [" ", "x"]


def test_jina_fields_only_for_jina_hosts(openai_server: OpenAICompatServer) -> None:
    client = httpx.Client(transport=_ToLocal(openai_server.port))
    jina = OpenAIEmbedder(
        "https://api.jina.ai/v1",
        "jina_key",
        "jina-embeddings-v3",
        dimensions=64,
        http_client=client,
    )
    jina.embed_query("where did we go")
    jina.embed_passages(["we went to the sea"])
    query, passage = (r.body for r in openai_server.embedding_requests)
    assert query["task"] == "retrieval.query" and passage["task"] == "retrieval.passage"
    for body in (query, passage):
        assert body["late_chunking"] is False and body["embedding_type"] == "float"
    assert openai_server.embedding_requests[0].headers["host"] == "api.jina.ai"
    jina.close()


def test_extra_body_is_merged(openai_server: OpenAICompatServer) -> None:
    _embedder(openai_server.base_url, extra_body={"truncate": True}).embed_query("x")
    assert openai_server.embedding_requests[0].body["truncate"] is True


def test_dimension_mismatch_is_bad_response(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue_embedding(EmbeddingReply(dimensions=16))
    with pytest.raises(BadResponse, match=r"16-dimensional .* but 32 are configured"):
        _embedder(openai_server.base_url, dimensions=32).embed_query("x")


def test_size_change_after_learning_is_bad_response(openai_server: OpenAICompatServer) -> None:
    embedder = _embedder(openai_server.base_url)
    embedder.embed_query("x")
    openai_server.enqueue_embedding(EmbeddingReply(dimensions=8))
    with pytest.raises(BadResponse, match="changed size from 64 to 8"):
        embedder.embed_query("y")


def test_wrong_count_is_bad_response(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue_embedding(EmbeddingReply(drop=1))
    with pytest.raises(BadResponse, match="1 vectors for 2 texts"):
        _embedder(openai_server.base_url).embed_passages(["a", "b"])


def test_500_then_success_is_retried(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue_embedding(EmbeddingReply.error(500), EmbeddingReply.error(502))
    assert len(_embedder(openai_server.base_url).embed_query("x")) == 64
    assert len(openai_server.embedding_requests) == 3


def test_persistent_failure_is_server_failed(openai_server: OpenAICompatServer) -> None:
    openai_server.embedding_error = 503
    with pytest.raises(ServerFailed, match=r"embedding service .*\(503\)"):
        _embedder(openai_server.base_url, max_retries=1).embed_query("x")
    assert len(openai_server.embedding_requests) == 2


def test_auth_and_model_errors() -> None:
    with OpenAICompatServer(api_key="sk-right", check_models=True, models=["m"]) as server:
        with pytest.raises(AuthFailed, match=r"\(401\)") as caught:
            _embedder(server.base_url, api_key="sk-wrong-key").embed_query("x")
        assert "sk-wrong-key" not in str(caught.value)
        with pytest.raises(ModelNotFound, match=r"'test-embed' not found"):
            _embedder(server.base_url, api_key="sk-right").embed_query("x")
        assert len(server.requests) == 2  # neither is retried


def test_unreachable_and_timeout(openai_server: OpenAICompatServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServiceUnreachable, match="connection refused"):
        _embedder(f"http://127.0.0.1:{port}/v1", max_retries=1).embed_query("x")
    openai_server.enqueue_embedding(EmbeddingReply(delay=10.0))
    start = time.monotonic()
    with pytest.raises(ServiceUnreachable, match="timed out"):
        _embedder(openai_server.base_url, timeout=0.2).embed_query("x")
    assert time.monotonic() - start < 10.0  # not waiting for the reply (a bound, not a speed)
