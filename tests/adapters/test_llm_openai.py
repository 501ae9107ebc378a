"""OpenAIChatModel against the real scripted server (and the think-tag splitter)."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from dl_app.adapters.llm_openai import OpenAIChatModel, ThinkSplitter
from dl_app.core.errors import (
    AuthFailed,
    BadResponse,
    ContextOverflow,
    ModelNotFound,
    RateLimited,
    ServerFailed,
    ServiceError,
    ServiceUnreachable,
)
from dl_app.core.ports import ChatDelta, ChatRequest, ChatResult
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply

REQUEST = ChatRequest(messages=[{"role": "user", "content": "Hello"}], max_tokens=256)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "recall",
            "description": "Search the diary",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]


def _model(url: str, key: str = "", **options: Any) -> OpenAIChatModel:
    options = {"timeout": 2.0, "backoff": 0.01, **options}
    return OpenAIChatModel(url, key, "test-model", **options)


@pytest.fixture
def model(openai_server: OpenAICompatServer) -> OpenAIChatModel:
    return _model(openai_server.base_url)


def _run(
    model: OpenAIChatModel, request: ChatRequest = REQUEST
) -> tuple[list[ChatDelta], ChatResult]:
    items = list(model.stream(request))
    *deltas, result = items
    assert isinstance(result, ChatResult)
    assert all(isinstance(d, ChatDelta) for d in deltas)
    return [d for d in deltas if isinstance(d, ChatDelta)], result


def _text(deltas: list[ChatDelta], kind: str) -> str:
    return "".join(d.text for d in deltas if d.kind == kind)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- the think splitter

THOUGHT = "<think>plan a reply</think>\n\nHi <b>there</b>!"


@pytest.mark.parametrize("cut", range(len(THOUGHT) + 1))
def test_think_splitter_any_split_point(cut: int) -> None:
    splitter = ThinkSplitter()
    deltas = splitter.feed(THOUGHT[:cut]) + splitter.feed(THOUGHT[cut:]) + splitter.flush()
    assert _text(deltas, "reasoning") == "plan a reply"
    assert _text(deltas, "content") == "\n\nHi <b>there</b>!"


def test_think_splitter_one_character_at_a_time_and_multiple_blocks() -> None:
    text = "a<think>b</think>c<think>d</think>e<"
    splitter = ThinkSplitter()
    deltas = [d for ch in text for d in splitter.feed(ch)] + splitter.flush()
    assert (_text(deltas, "content"), _text(deltas, "reasoning")) == ("ace<", "bd")


def test_think_splitter_unclosed_think_is_reasoning() -> None:
    splitter = ThinkSplitter()
    deltas = splitter.feed("<think>still thinking</thi") + splitter.flush()
    assert _text(deltas, "reasoning") == "still thinking</thi"
    assert _text(deltas, "content") == ""


def test_think_splitter_emits_plain_text_without_waiting() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello ") == [ChatDelta("content", "Hello ")]
    assert splitter.feed("a <thin") == [ChatDelta("content", "a ")]  # held: maybe a tag
    assert splitter.feed("g>") == [ChatDelta("content", "<thing>")]


# ---------------------------------------------------------------- streaming


def test_content_streams_in_pieces(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(content="Hello there, how are you today?", chunk_size=4))
    deltas, result = _run(model)
    assert len(deltas) >= 7
    assert {d.kind for d in deltas} == {"content"}
    assert _text(deltas, "content") == result.content == "Hello there, how are you today?"
    assert result.finish_reason == "stop" and result.tool_calls == []


def test_deltas_arrive_before_the_stream_ends(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    held = threading.Event()  # the server sends the first delta, then waits for it
    openai_server.enqueue(ChatReply(content="one two", chunk_size=4, held=held))
    stream = model.stream(REQUEST)
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(next(stream)), daemon=True)
    reader.start()
    reader.join(30)  # a bound against a hang: the delta comes while the rest is held
    try:
        assert got and isinstance(got[0], ChatDelta) and got[0].text == "one "
    finally:
        held.set()
    assert isinstance(list(stream)[-1], ChatResult)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_field_is_separated(
    openai_server: OpenAICompatServer, model: OpenAIChatModel, field: str
) -> None:
    openai_server.enqueue(
        ChatReply(content="Answer.", reasoning="Let me think.", reasoning_field=field)
    )
    deltas, result = _run(model)
    assert _text(deltas, "reasoning") == "Let me think."
    assert (result.reasoning, result.content) == ("Let me think.", "Answer.")
    assert deltas[0].kind == "reasoning"


def test_inline_think_split_across_chunks(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    chunks = ["<thi", "nk>The user", " greets me.</th", "ink>", "\n\n", "Hi", " there!"]
    openai_server.enqueue(ChatReply(chunks=chunks))
    deltas, result = _run(model)
    assert result.reasoning == "The user greets me."
    assert result.content == "Hi there!"
    assert _text(deltas, "content") == "Hi there!"  # blank lines after </think> dropped
    assert "<" not in _text(deltas, "reasoning") + _text(deltas, "content")


def test_unclosed_think_at_end_is_reasoning_and_empty_reply_fails(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(content="<think>I ran out of budget", finish_reason="length"))
    with pytest.raises(BadResponse, match="answer budget on reasoning"):
        _run(model)


def test_empty_reply_is_bad_response(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(content=""))
    with pytest.raises(BadResponse, match="empty reply"):
        model.complete(REQUEST)


def test_tool_calls_are_assembled(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    calls = [
        ToolCallReply("recall", {"query": "our trip to the sea"}, id="call_a"),
        ToolCallReply("recall", {"query": "birthday"}, id="call_b"),
    ]
    openai_server.enqueue(ChatReply(content="Let me check.", tool_calls=calls, chunk_size=3))
    _, result = _run(model, ChatRequest(REQUEST.messages, 256, tools=TOOLS))
    assert result.finish_reason == "tool_calls"
    assert [(c.id, c.name) for c in result.tool_calls] == [
        ("call_a", "recall"),
        ("call_b", "recall"),
    ]
    assert result.tool_calls[0].arguments == '{"query": "our trip to the sea"}'
    assert result.tool_calls[1].arguments == '{"query": "birthday"}'
    assert result.content == "Let me check."


def test_tool_call_ids_are_generated_when_missing(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    calls = [ToolCallReply("recall", {"query": "a"}), ToolCallReply("recall", {"query": "b"})]
    openai_server.enqueue(ChatReply(tool_calls=calls, omit_tool_call_ids=True))
    _, result = _run(model)
    ids = [c.id for c in result.tool_calls]
    assert len(set(ids)) == 2 and all(ids)


def test_invalid_tool_arguments_pass_through_verbatim(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(tool_calls=[ToolCallReply("recall", '{"query": "cats",')]))
    result = model.complete(REQUEST)
    assert result.tool_calls[0].arguments == '{"query": "cats",'
    assert result.content == ""


def test_request_carries_budget_tools_and_temperature(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    model.complete(ChatRequest(REQUEST.messages, 321, tools=TOOLS, temperature=0.3))
    model.complete(REQUEST)
    first, second = (r.body for r in openai_server.chat_requests)
    assert first["max_tokens"] == 321 and first["tools"] == TOOLS
    assert first["temperature"] == 0.3 and first["stream"] is True
    assert first["model"] == "test-model" and first["messages"] == REQUEST.messages
    assert "temperature" not in second and "tools" not in second


def test_extra_body_is_merged(openai_server: OpenAICompatServer) -> None:
    model = _model(openai_server.base_url, extra_body={"chat_template_kwargs": {"x": 1}})
    model.complete(REQUEST)
    assert openai_server.chat_requests[0].body["chat_template_kwargs"] == {"x": 1}


def test_empty_api_key_works_and_env_org_is_not_sent(
    openai_server: OpenAICompatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    result = _model(openai_server.base_url).complete(REQUEST)
    assert result.content
    headers = openai_server.chat_requests[0].headers
    assert "sk-from-env" not in headers["authorization"]
    assert "openai-organization" not in headers


def test_usage_omitted_and_plain_json_answer_to_a_stream_request(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    calls = [ToolCallReply("recall", {"query": "x"})]
    reply = ChatReply(
        content="<think>hm</think>Sure.", usage=False, force_json=True, tool_calls=calls
    )
    openai_server.enqueue(reply)
    deltas, result = _run(model)
    assert (result.reasoning, result.content) == ("hm", "Sure.")
    assert [c.name for c in result.tool_calls] == ["recall"] and result.tool_calls[0].id
    assert _text(deltas, "content") == "Sure."


def test_max_completion_tokens_fallback(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    openai_server.route(lambda r: "max_tokens" in r.body, ChatReply.error(400, message))
    assert model.complete(REQUEST).content
    assert model.complete(REQUEST).content
    bodies = [r.body for r in openai_server.chat_requests]
    assert [("max_tokens" in b, b.get("max_completion_tokens")) for b in bodies] == [
        (True, None),
        (False, 256),
        (False, 256),
    ]


# ---------------------------------------------------------------- failures


def test_500_then_success_is_retried(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply.error(500), ChatReply.error(503), "Recovered.")
    assert model.complete(REQUEST).content == "Recovered."
    assert len(openai_server.chat_requests) == 3


def test_persistent_500_is_server_failed(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.route(lambda r: True, ChatReply.error(500, "CUDA out of memory"))
    with pytest.raises(ServerFailed, match=r"internal error \(500\).*CUDA out of memory"):
        model.complete(REQUEST)
    assert len(openai_server.chat_requests) == 3  # one try and two retries


def test_429_honours_retry_after_then_gives_up(openai_server: OpenAICompatServer) -> None:
    limited = ChatReply.error(429, "slow down", headers={"Retry-After": "0.05"})
    openai_server.route(lambda r: True, limited)
    model = _model(openai_server.base_url, max_retries=1)
    with pytest.raises(RateLimited, match=r"\(429\)"):
        model.complete(REQUEST)
    assert len(openai_server.chat_requests) == 2


def test_401_is_auth_failed_and_the_key_never_shows(openai_server: OpenAICompatServer) -> None:
    secret = "sk-test-very-secret-123"
    openai_server.enqueue(ChatReply.error(401, f"Incorrect API key provided: {secret}"))
    model = _model(openai_server.base_url, key=secret)
    with pytest.raises(AuthFailed, match=r"rejected the API key \(401\)") as caught:
        model.complete(REQUEST)
    assert secret not in str(caught.value) and "provided: ***" in str(caught.value)
    assert len(openai_server.chat_requests) == 1  # 401 is not retried
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"


def test_a_key_given_as_a_function_is_read_once_at_the_first_request(
    openai_server: OpenAICompatServer,
) -> None:
    """``wiring`` passes the stored key so: building the model (every ``dl-app
    memory`` command builds one) opens no keyring."""
    secret = "sk-read-late-456"
    reads: list[str] = []

    def key() -> str:
        reads.append(secret)
        return secret

    openai_server.enqueue(ChatReply.error(401, f"Incorrect API key provided: {secret}"), "Hi.")
    model = OpenAIChatModel(openai_server.base_url, key, "test-model", timeout=2.0)
    assert reads == []
    with pytest.raises(AuthFailed) as caught:
        model.complete(REQUEST)
    assert secret not in str(caught.value)  # a key read late is kept out of messages too
    assert model.complete(REQUEST).content == "Hi."
    assert reads == [secret]
    sent = {r.headers["authorization"] for r in openai_server.chat_requests}
    assert sent == {f"Bearer {secret}"}


def test_a_real_key_check() -> None:
    with OpenAICompatServer(api_key="sk-the-right-one") as server:
        with pytest.raises(AuthFailed):
            _model(server.base_url, key="sk-wrong-key").list_models()
        with pytest.raises(AuthFailed):
            _model(server.base_url).complete(REQUEST)
        assert _model(server.base_url, key="sk-the-right-one").complete(REQUEST).content


def test_404_is_model_not_found() -> None:
    server = OpenAICompatServer(check_models=True, models=["other"])
    not_found = r"Model 'test-model' not found at .*\(404\)"
    with server, pytest.raises(ModelNotFound, match=not_found):
        _model(server.base_url).complete(REQUEST)


def test_wrong_path_404(openai_server: OpenAICompatServer) -> None:
    root = openai_server.base_url.removesuffix("/v1")
    with pytest.raises(ModelNotFound, match="usually ends in /v1"):
        _model(root).complete(REQUEST)
    with pytest.raises(ModelNotFound, match="Nothing found"):
        _model(root).list_models()


def test_400_is_a_plain_service_error(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    # Twice: the second try is without stream_options (which some servers refuse).
    openai_server.enqueue(*[ChatReply.error(400, "Invalid image URL")] * 2)
    with pytest.raises(ServiceError, match="Invalid image URL") as caught:
        model.complete(REQUEST)
    assert type(caught.value) is ServiceError
    assert [("stream_options" in r.body) for r in openai_server.chat_requests] == [True, False]
    model.complete(REQUEST)  # the option was not what it refused: still sent
    assert "stream_options" in openai_server.chat_requests[-1].body
    openai_server.enqueue(ChatReply.error(400, "Invalid image URL"))
    with pytest.raises(ServiceError, match="Invalid image URL"):
        model.complete(REQUEST)  # the option is known to work: not tried without
    assert len(openai_server.chat_requests) == 4


def test_400_context_overflow_names_the_numbers(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply.error(
        400, "This model's maximum context length is 4096 tokens. However, you requested "
        "4500 tokens (4100 in the messages, 400 in the completion).",
    ))
    with pytest.raises(ContextOverflow, match="context: 4096 tokens") as caught:
        model.complete(REQUEST)
    assert (caught.value.limit, caught.value.prompt, caught.value.requested) == (4096, 4100, 4500)
    assert len(openai_server.chat_requests) == 1  # not retried: it would fail again


def test_connection_refused_is_unreachable() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    model = _model(url, max_retries=1)
    with pytest.raises(ServiceUnreachable, match=r"Cannot reach .*connection refused") as caught:
        model.complete(REQUEST)
    assert url in str(caught.value)
    with pytest.raises(ServiceUnreachable):
        model.list_models()


def test_ollama_hint() -> None:
    from dl_app.adapters.service_errors import unreachable

    error = unreachable("http://127.0.0.1:11434/v1", ConnectionRefusedError("refused"), "x")
    assert str(error) == (
        "Cannot reach the x at http://127.0.0.1:11434/v1 (connection refused). Is ollama running?"
    )


def test_address_without_scheme() -> None:
    with pytest.raises(ServiceUnreachable, match="must start with http://"):
        _model("localhost:11434/v1", max_retries=0).complete(REQUEST)


def test_timeout_is_unreachable_quickly(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(ChatReply(content="too late", delay=10.0))
    model = _model(openai_server.base_url, timeout=0.2)
    start = time.monotonic()
    with pytest.raises(ServiceUnreachable, match="timed out"):
        model.complete(REQUEST)
    assert time.monotonic() - start < 10.0  # not waiting for the reply (a bound, not a speed)
    assert len(openai_server.chat_requests) == 1  # timeouts are not retried


def test_stall_mid_stream_is_unreachable(openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue(ChatReply(content="abcdef", chunk_size=2, chunk_delay=1.0))
    with pytest.raises(ServiceUnreachable, match="stopped sending"):
        _run(_model(openai_server.base_url, timeout=0.2))


def test_broken_stream_is_bad_response_after_partial_deltas(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(content="The beginning of a long reply", break_after=4))
    received: list[ChatDelta | ChatResult] = []
    with pytest.raises(BadResponse, match="broke off"):
        for item in model.stream(REQUEST):
            received.append(item)
    assert received and all(isinstance(d, ChatDelta) for d in received)
    assert len(openai_server.chat_requests) == 1


def test_broken_plain_json_answer_is_bad_response(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(content="Hello", force_json=True, break_after=0))
    with pytest.raises(BadResponse, match="broke off"):
        model.complete(REQUEST)


def test_error_event_mid_stream_is_bad_response(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    body = b'data: {"error": {"message": "model crashed"}}\n\n'
    openai_server.enqueue(ChatReply(raw=body, content_type="text/event-stream"))
    with pytest.raises(BadResponse, match="model crashed"):
        model.complete(REQUEST)


def _sse(*deltas: dict[str, Any], finish: str | None = None, done: bool = False) -> ChatReply:
    """A raw event stream of these deltas, then (maybe) a finish reason and [DONE];
    the server then closes the connection cleanly."""
    events = [{"choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    if finish:
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    body += "data: [DONE]\n\n" if done else ""
    return ChatReply(raw=body.encode(), content_type="text/event-stream")


def test_a_stream_that_just_stops_is_a_failed_reply(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(_sse({"content": "The beginning of"}, {"content": " a reply"}))
    received: list[ChatDelta | ChatResult] = []
    with pytest.raises(BadResponse, match="broke off"):
        for item in model.stream(REQUEST):
            received.append(item)
    assert [type(i) for i in received] == [ChatDelta, ChatDelta]  # never a ChatResult


CALL = {"index": 0, "id": "c1", "function": {"name": "recall", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("reply", "content", "finish"),
    [
        (_sse({"content": "Hi"}, done=True), "Hi", None),  # [DONE] without a finish reason
        (_sse({"content": "Hi"}, finish="stop"), "Hi", "stop"),  # a finish reason, no [DONE]
        (_sse({"content": "A long"}, finish="length", done=True), "A long", "length"),
        (_sse({"content": ""}, {"tool_calls": [CALL]}, finish="tool_calls"), "", "tool_calls"),
    ],
    ids=["done", "finish", "length", "tool-calls"],
)
def test_a_stream_that_says_it_is_finished_is_a_reply(
    openai_server: OpenAICompatServer,
    model: OpenAIChatModel,
    reply: ChatReply,
    content: str,
    finish: str | None,
) -> None:
    openai_server.enqueue(reply)
    result = model.complete(REQUEST)
    assert (result.content, result.finish_reason) == (content, finish)
    assert [c.name for c in result.tool_calls] == (["recall"] if finish == "tool_calls" else [])


def test_malformed_chunk_is_bad_response(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    openai_server.enqueue(ChatReply(raw=b"data: {not json\n\n", content_type="text/event-stream"))
    with pytest.raises(BadResponse, match="malformed"):
        model.complete(REQUEST)


def test_web_page_is_bad_response(
    openai_server: OpenAICompatServer, model: OpenAIChatModel
) -> None:
    page = b"<!doctype html><html><body>Open WebUI</body></html>"
    openai_server.enqueue(ChatReply(raw=page, content_type="text/html; charset=utf-8"))
    with pytest.raises(BadResponse, match="web page"):
        model.complete(REQUEST)


def test_list_models(openai_server: OpenAICompatServer, model: OpenAIChatModel) -> None:
    assert model.list_models() == ["test-model", "test-embed"]
    assert openai_server.requests[-1].path == "/v1/models"
