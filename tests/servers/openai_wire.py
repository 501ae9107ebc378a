"""The data side of the scripted OpenAI-compatible server: recorded requests,
scripted replies, and how replies look on the wire (JSON and SSE events).

Import these from ``openai_compat``, which re-exports them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None when the body was empty or not JSON

    @property
    def messages(self) -> list[dict[str, Any]]:
        body = self.body if isinstance(self.body, dict) else {}
        messages = body.get("messages")
        return messages if isinstance(messages, list) else []

    @property
    def system_text(self) -> str:
        """All system messages' text, joined by newlines."""
        return "\n".join(_text(m) for m in self.messages if m.get("role") == "system")

    @property
    def last_user_text(self) -> str:
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text(message)
        return ""

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # multi-part content
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


Matcher = Callable[[RecordedRequest], bool]


def system_contains(keyword: str) -> Matcher:
    """A matcher for requests whose system prompt contains ``keyword`` (case-insensitive)."""
    needle = keyword.lower()
    return lambda request: needle in request.system_text.lower()


def last_user_contains(keyword: str) -> Matcher:
    needle = keyword.lower()
    return lambda request: needle in request.last_user_text.lower()


# ---------------------------------------------------------------- replies


@dataclass(frozen=True)
class ToolCallReply:
    """A function call in a scripted reply. ``arguments`` is sent verbatim when a
    string (so it may be invalid JSON), or JSON-encoded when a dict."""

    name: str
    arguments: str | Mapping[str, Any] = ""
    id: str | None = None  # None: generated


@dataclass(frozen=True)
class ChatReply:
    """A scripted chat reply.

    Streaming splits ``content`` into ``chunk_size``-character deltas, or uses
    ``chunks`` verbatim; ``reasoning`` goes in the ``reasoning_field`` of each
    delta (``reasoning_content`` as DeepSeek, or ``reasoning``). Inline
    ``<think>`` blocks are just part of ``content``.
    """

    content: str = ""
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    tool_calls: Sequence[ToolCallReply] = ()
    omit_tool_call_ids: bool = False
    finish_reason: str | None = None  # None: "tool_calls" when there are some, else "stop"
    chunks: Sequence[str] | None = None
    chunk_size: int = 8
    usage: bool = True  # False: no usage anywhere in the reply
    status: int = 200
    error_body: Any = None  # the JSON body of an error status
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (to trigger client timeouts)
    chunk_delay: float = 0.0  # seconds between streamed events
    held: Any = None  # a threading.Event: the events after the first content wait for it
    break_after: int | None = None  # close the connection after this many events
    force_json: bool = False  # answer a stream request with a plain JSON body
    raw: bytes | None = None  # send exactly this body (with ``content_type``)
    content_type: str = "application/json"

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ChatReply:
        """An HTTP error with an OpenAI-style body."""
        return cls(
            status=status,
            error_body=error_body(status, message, code),
            headers=dict(headers or {}),
        )


def error_body(status: int, message: str | None, code: str | None) -> dict[str, Any]:
    kinds = {401: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_error"}
    return {
        "error": {
            "message": message or f"Scripted error {status}",
            "type": kinds.get(status, "server_error" if status >= 500 else "invalid_request_error"),
            "param": None,
            "code": code,
        }
    }


@dataclass(frozen=True)
class EmbeddingReply:
    """A scripted embeddings answer: an error, a delay, or malformed vectors."""

    status: int = 200
    error_body: Any = None
    dimensions: int | None = None  # force this vector size (simulates a mismatch)
    drop: int = 0  # return this many fewer vectors than inputs
    delay: float = 0.0

    @classmethod
    def error(cls, status: int, message: str | None = None) -> EmbeddingReply:
        return cls(status=status, error_body=error_body(status, message, None))


Responder = Callable[[RecordedRequest], "ChatReply | str"]


def echo_responder(request: RecordedRequest) -> ChatReply:
    """The default reply: short and derived from the last user message."""
    said = " ".join(request.last_user_text.split())[:120]
    return ChatReply(content=f"I hear you: {said}" if said else "I am here.")


_TOKENS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|[^\W\u3040-\u30ff\u3400-\u9fff_]+")


def hash_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: hashed words (and single CJK characters).

    Texts sharing words get a positive cosine similarity, which keeps recall
    benchmarks meaningful without a model.
    """
    vector = [0.0] * dimensions
    for token in _TOKENS.findall(text.lower()) or [text]:
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


# ---------------------------------------------------------------- wire format


def _finish_reason(reply: ChatReply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _call_id(index: int, call: ToolCallReply) -> str:
    return call.id or f"call_{index}_{hashlib.md5(call.name.encode()).hexdigest()[:8]}"


def _arguments(call: ToolCallReply) -> str:
    args = call.arguments
    return args if isinstance(args, str) else json.dumps(dict(args), ensure_ascii=False)


def _usage(reply: ChatReply, prompt: int) -> dict[str, int]:
    completion = len((reply.reasoning + " " + reply.content).split()) + len(reply.tool_calls)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def prompt_tokens(body: Mapping[str, Any], count: Callable[[str], int]) -> int:
    """A request's prompt tokens the way OpenAI counts them (its cookbook's
    ``num_tokens_from_messages``): 3 per message + its role and text (and tool
    calls), 3 to prime the reply, plus the tools' JSON."""
    total = 3
    for message in body.get("messages") or []:
        total += 3 + count(str(message.get("role", ""))) + count(_text(message))
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            total += count(str(fn.get("name", ""))) + count(str(fn.get("arguments", "")))
        if message.get("tool_call_id"):
            total += 1
    if body.get("tools"):
        total += count(json.dumps(body["tools"], ensure_ascii=False))
    return total


def completion_body(reply: ChatReply, model: str, prompt: int = 10) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
    if reply.reasoning:
        message[reply.reasoning_field] = reply.reasoning
    if reply.tool_calls:
        calls = []
        for i, call in enumerate(reply.tool_calls):
            wire: dict[str, Any] = {
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments(call)},
            }
            if not reply.omit_tool_call_ids:
                wire["id"] = _call_id(i, call)
            calls.append(wire)
        message["tool_calls"] = calls
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(reply)}],
    }
    if reply.usage:
        body["usage"] = _usage(reply, prompt)
    return body


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def stream_events(
    reply: ChatReply, model: str, include_usage: bool, prompt: int = 10
) -> Iterator[dict[str, Any]]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(reply.reasoning, reply.chunk_size):
        yield chunk({reply.reasoning_field: piece})
    content = reply.chunks if reply.chunks is not None else _pieces(reply.content, reply.chunk_size)
    for piece in content:
        yield chunk({"content": piece})
    for i, call in enumerate(reply.tool_calls):
        first: dict[str, Any] = {
            "index": i,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if not reply.omit_tool_call_ids:
            first["id"] = _call_id(i, call)
        yield chunk({"tool_calls": [first]})
        for piece in _pieces(_arguments(call), reply.chunk_size):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield chunk({}, _finish_reason(reply))
    if include_usage:
        yield {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": _usage(reply, prompt),
        }
