"""The scripted OpenAI-compatible server itself, driven with plain httpx."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import httpx
import pytest

from servers.openai_compat import (
    ChatReply,
    EmbeddingReply,
    OpenAICompatServer,
    RecordedRequest,
    ToolCallReply,
    hash_embedding,
    system_contains,
)


def _chat(server: OpenAICompatServer, text: str = "hi", /, **body: Any) -> httpx.Response:
    payload = {"model": "test-model", "messages": [{"role": "user", "content": text}], **body}
    return httpx.post(f"{server.base_url}/chat/completions", json=payload, timeout=5)


def _sse(response: httpx.Response) -> list[Any]:
    """The ``data:`` payloads of an SSE body, JSON-decoded except ``[DONE]``."""
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    return [e if e == "[DONE]" else json.loads(e) for e in events]


def _content(events: list[Any]) -> str:
    return "".join(
        e["choices"][0]["delta"].get("content") or ""
        for e in events
        if e != "[DONE]" and e["choices"]
    )


def test_models_and_recorded_headers(openai_server: OpenAICompatServer) -> None:
    response = httpx.get(f"{openai_server.base_url}/models", headers={"Authorization": "Bearer k"})
    assert [m["id"] for m in response.json()["data"]] == ["test-model", "test-embed"]
    (request,) = openai_server.requests
    assert (request.method, request.path, request.body) == ("GET", "/v1/models", None)
    assert request.headers["authorization"] == "Bearer k"


def test_default_responder_answers_json_from_last_user_message(
    openai_server: OpenAICompatServer,
) -> None:
    body = _chat(openai_server, "Tell me about cats").json()
    message = body["choices"][0]["message"]
    assert "Tell me about cats" in message["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] > 0
    assert openai_server.chat_requests[0].last_user_text == "Tell me about cats"


def test_default_responder_can_be_replaced(openai_server: OpenAICompatServer) -> None:
    openai_server.default_responder = lambda request: f"#{len(request.messages)}"
    assert _chat(openai_server).json()["choices"][0]["message"]["content"] == "#1"


def test_stream_sends_pieces_then_done(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(ChatReply(content="Hello there, friend", chunk_size=5))
    response = _chat(openai_server, stream=True)
    assert response.headers["content-type"] == "text/event-stream"
    events = _sse(response)
    assert events[-1] == "[DONE]"
    assert _content(events) == "Hello there, friend"
    pieces = [e for e in events[:-1] if e["choices"][0]["delta"].get("content")]
    assert len(pieces) == 4
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in e for e in events[:-1])


def test_stream_usage_chunk_only_when_asked_and_not_omitted(
    openai_server: OpenAICompatServer,
) -> None:
    openai_server.enqueue("one", ChatReply(content="two", usage=False))
    options = {"stream": True, "stream_options": {"include_usage": True}}
    with_usage = _sse(_chat(openai_server, **options))
    assert with_usage[-2]["choices"] == [] and with_usage[-2]["usage"]["total_tokens"] > 0
    without = _sse(_chat(openai_server, **options))
    assert all("usage" not in e for e in without[:-1])


def test_reasoning_and_tool_calls_on_the_wire(openai_server: OpenAICompatServer) -> None:
    calls = [ToolCallReply("recall", {"query": "cats"}), ToolCallReply("note", "{bad json")]
    reply = ChatReply(reasoning="hmm", reasoning_field="reasoning", tool_calls=calls)
    openai_server.enqueue(reply, reply)
    events = _sse(_chat(openai_server, stream=True))[:-1]
    deltas = [e["choices"][0]["delta"] for e in events]
    assert "".join(d.get("reasoning", "") for d in deltas) == "hmm"
    parts = [p for d in deltas for p in d.get("tool_calls", [])]
    assert [p["function"].get("name") for p in parts if "id" in p] == ["recall", "note"]
    args = {0: "", 1: ""}
    for part in parts:
        args[part["index"]] += part["function"].get("arguments", "")
    assert json.loads(args[0]) == {"query": "cats"} and args[1] == "{bad json"
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"
    message = _chat(openai_server).json()["choices"][0]["message"]
    assert message["reasoning"] == "hmm" and message["content"] is None
    assert [c["function"]["arguments"] for c in message["tool_calls"]][1] == "{bad json"


def test_queue_is_fifo_and_match_skips(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue("first", "second")
    openai_server.enqueue("for summaries", match=system_contains("summary"))
    summary = {"messages": [{"role": "system", "content": "Write a SUMMARY"}]}

    def text(response: httpx.Response) -> str:
        return str(response.json()["choices"][0]["message"]["content"])

    assert text(_chat(openai_server)) == "first"
    assert text(_chat(openai_server, **summary)) == "second"  # unmatched items go to anyone
    assert text(_chat(openai_server, **summary)) == "for summaries"
    assert openai_server.pending == 0
    assert "hi" in text(_chat(openai_server))  # back to the default responder


def test_routes_answer_matching_requests_every_time(openai_server: OpenAICompatServer) -> None:
    openai_server.route(system_contains("diary"), ChatReply(content="a diary entry"))
    openai_server.route(lambda r: r.last_user_text == "x", lambda r: f"{r.body['model']}!")
    diary = {"messages": [{"role": "system", "content": "Write the diary"}]}
    for _ in range(2):
        assert _chat(openai_server, **diary).json()["choices"][0]["message"]["content"] == (
            "a diary entry"
        )
    assert _chat(openai_server, "x").json()["choices"][0]["message"]["content"] == "test-model!"


@pytest.mark.parametrize("status", [500, 429, 401, 404])
def test_error_replies_have_openai_bodies(openai_server: OpenAICompatServer, status: int) -> None:
    openai_server.enqueue(ChatReply.error(status, "nope", headers={"Retry-After": "1"}))
    response = _chat(openai_server, stream=True)
    assert response.status_code == status
    assert response.json()["error"]["message"] == "nope"
    assert response.headers["retry-after"] == "1"


def test_broken_stream_closes_without_done(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(ChatReply(content="abcdefghijklmnop", chunk_size=2, break_after=3))
    received = b""
    body = {"model": "m", "messages": [], "stream": True}
    url = f"{openai_server.base_url}/chat/completions"
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("POST", url, json=body) as response:
        for data in response.iter_bytes():
            received += data
    assert received.count(b"data: ") == 3 and b"[DONE]" not in received


def test_delay_holds_the_answer(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(ChatReply(content="late", delay=1.0))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{openai_server.base_url}/chat/completions",
            json={"model": "m", "messages": []},
            timeout=0.2,
        )
    assert openai_server.errors == []


def test_embeddings_are_deterministic_and_sized(openai_server: OpenAICompatServer) -> None:
    url = f"{openai_server.base_url}/embeddings"
    body = {
        "model": "e",
        "input": ["red apple", "green apple"],
        "dimensions": 16,
        "task": "retrieval.passage",
        "late_chunking": False,
        "embedding_type": "float",
    }
    data = httpx.post(url, json=body).json()["data"]
    assert [d["index"] for d in data] == [0, 1]
    assert data[0]["embedding"] == hash_embedding("red apple", 16)
    assert len(data[1]["embedding"]) == 16
    single = httpx.post(url, json={"model": "e", "input": "red apple"}).json()["data"]
    assert len(single) == 1 and len(single[0]["embedding"]) == openai_server.embed_dimensions
    assert openai_server.embedding_requests[0].body["task"] == "retrieval.passage"


def test_hash_embedding_similarity_follows_shared_words() -> None:
    def cos(a: str, b: str) -> float:
        return sum(
            x * y for x, y in zip(hash_embedding(a, 256), hash_embedding(b, 256), strict=True)
        )

    assert cos("I love my cat", "my cat is lovely") > cos("I love my cat", "stock prices fell")
    assert cos("我喜欢猫", "猫很可爱") > 0


def test_embedding_failures(openai_server: OpenAICompatServer) -> None:
    url = f"{openai_server.base_url}/embeddings"
    openai_server.enqueue_embedding(EmbeddingReply.error(503), EmbeddingReply(dimensions=3, drop=1))
    assert httpx.post(url, json={"model": "e", "input": ["a"]}).status_code == 503
    data = httpx.post(url, json={"model": "e", "input": ["a", "b"]}).json()["data"]
    assert len(data) == 1 and len(data[0]["embedding"]) == 3
    openai_server.embedding_error = 500
    assert httpx.post(url, json={"model": "e", "input": ["a"]}).status_code == 500
    openai_server.embedding_error = None
    assert httpx.post(url, json={"model": "e", "input": ["a"]}).status_code == 200


def test_unknown_paths_404_and_api_key_and_model_checks() -> None:
    with OpenAICompatServer(api_key="sk-right", check_models=True) as server:
        good = {"Authorization": "Bearer sk-right"}
        assert httpx.get(f"{server.base_url}/models").status_code == 401
        assert httpx.get(f"{server.base_url}/models", headers=good).status_code == 200
        trailing = httpx.post(f"{server.base_url}/embeddings/", json={}, headers=good)
        assert trailing.status_code == 404
        body = {"model": "missing", "messages": []}
        missing = httpx.post(f"{server.base_url}/chat/completions", json=body, headers=good)
        assert missing.status_code == 404 and "missing" in missing.json()["error"]["message"]


def test_records_concurrent_requests(openai_server: OpenAICompatServer) -> None:
    url = f"{openai_server.base_url}/chat/completions"
    with httpx.Client() as client:

        def send(i: int) -> None:
            client.post(
                url, json={"model": "m", "messages": [{"role": "user", "content": f"m{i}"}]}
            )

        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    texts = sorted(r.last_user_text for r in openai_server.chat_requests)
    assert texts == sorted(f"m{i}" for i in range(20))
    openai_server.clear_requests()
    assert openai_server.requests == []


def test_stop_is_clean_with_idle_keepalive_connections() -> None:
    server = OpenAICompatServer().start()
    port = server.port
    client = httpx.Client()  # keeps its connection open
    client.get(f"{server.base_url}/models")
    server.stop()
    server.stop()  # idempotent
    client.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_recorded_request_helpers() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "A"},
            {"role": "user", "content": [{"type": "text", "text": "multi"}]},
            {"role": "assistant", "content": "ok"},
        ],
        "stream": True,
    }
    request = RecordedRequest("POST", "/v1/chat/completions", {}, body)
    assert (request.system_text, request.last_user_text, request.streamed) == ("A", "multi", True)
