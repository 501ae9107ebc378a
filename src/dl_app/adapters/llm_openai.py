"""Chat with any OpenAI-compatible service through the ``openai`` SDK (3.x).

Every request is streamed; ``complete`` collects a stream (a slow local model
then cannot hit the read timeout while it writes a long summary, since the
timeout applies between chunks). A server that ignores ``stream`` and answers
plain JSON is handled too.

A streamed reply is complete only when it says so: a ``finish_reason`` or
the closing ``data: [DONE]``. A stream that just stops is a failed reply
(``BadResponse``), never a short finished one; the SSE lines are read here,
not by the SDK, to see that ``[DONE]``.

Reasoning is separated from the reply whether the server sends it in a
``reasoning_content`` / ``reasoning`` field or inline as ``<think>...</think>``.
Retries (429, 5xx, connection failures; not timeouts) happen here, before the
stream starts, with exponential backoff; the SDK's own retries are off.
SDK errors become ``dl_app.core.errors`` errors whose text tells the user what
to do. The API key never appears in messages or logs. The SDK is imported when the
first request is made, not when the model is built (``dl-app memory`` commands
build one and never call it).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dl_app.core.errors import BadResponse, ServiceError, ServiceUnreachable
from dl_app.core.models import ToolCall
from dl_app.core.ports import ChatDelta, ChatRequest, ChatResult

from .service_errors import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    retry_after,
    retryable,
    scrub,
    server_detail,
    status_error,
    unreachable,
)

if TYPE_CHECKING:
    import httpx2
    import openai

__all__ = ["OpenAIChatModel", "ThinkSplitter"]

log = logging.getLogger(__name__)

_REASONING_FIELDS = ("reasoning_content", "reasoning")
_USE_COMPLETION_TOKENS = re.compile(r"use '?max_completion_tokens'? instead", re.IGNORECASE)


class OpenAIChatModel:
    """A ``ChatModel`` for an OpenAI-compatible ``/chat/completions`` endpoint.

    ``timeout`` bounds the wait for the first byte and between streamed chunks;
    ``connect_timeout`` the TCP connect. ``max_retries`` and ``backoff`` (first
    delay in seconds, doubled each retry) apply to 429, 5xx and connection
    failures before the reply starts. ``extra_body`` is merged into every
    request (e.g. ``{"chat_template_kwargs": {"enable_thinking": False}}``).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        extra_body: Mapping[str, Any] | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._model = model
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = backoff
        self._extra_body = dict(extra_body or {})
        self._completion_tokens_param = False  # learned: send max_completion_tokens
        self._connect_timeout = min(connect_timeout, timeout)
        self._http_client = http_client
        self._sdk_client: openai.OpenAI | None = None

    @property
    def _client(self) -> openai.OpenAI:
        """The SDK client, made on first use."""
        if self._sdk_client is None:
            import httpx2
            import openai

            client = openai.OpenAI(
                base_url=self._base_url,
                api_key=self._api_key or "not-needed",  # keyless servers (ollama) ignore it
                timeout=httpx2.Timeout(self._timeout, connect=self._connect_timeout),
                max_retries=0,
                http_client=self._http_client,
            )
            # The SDK reads OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment and
            # would send them to whatever service this is; they are OpenAI-only.
            client.organization = None
            client.project = None
            self._sdk_client = client
        return self._sdk_client

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return self._base_url

    def close(self) -> None:
        """Close the HTTP connections (including a passed-in ``http_client``)."""
        if self._sdk_client is not None:
            self._sdk_client.close()
        elif self._http_client is not None:
            self._http_client.close()

    # -- ChatModel

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        import openai

        response = self._open(request)
        reply = _Reply()
        try:
            for event in self._events(response, reply):
                choices = event.get("choices")
                if not isinstance(choices, list) or not choices:
                    continue  # e.g. the usage chunk
                choice = choices[0] if isinstance(choices[0], dict) else {}
                delta = choice.get("delta") or choice.get("message") or {}
                yield from reply.feed(delta)
                if choice.get("finish_reason"):
                    reply.finish_reason = str(choice["finish_reason"])
            yield from reply.flush()
        except openai.APITimeoutError as err:
            raise ServiceUnreachable(
                f"The model service at {self._base_url} stopped sending its reply "
                f"(timed out after {self._timeout:g} s). Try again."
            ) from err
        except openai.APIConnectionError as err:
            raise BadResponse(
                f"The reply from {self._base_url} broke off mid-way (the connection closed "
                "before the end). Try again."
            ) from err
        except openai.APIError as err:
            detail = server_detail(err.body, self._api_key) or scrub(err.message, self._api_key)
            raise BadResponse(
                f"The model service at {self._base_url} reported an error mid-reply: {detail}"
            ) from err
        except json.JSONDecodeError as err:
            raise BadResponse(
                f"The model service at {self._base_url} sent a malformed reply (not JSON)."
            ) from err
        finally:
            response.close()
        yield reply.result(self._base_url)

    def complete(self, request: ChatRequest) -> ChatResult:
        for item in self.stream(request):
            if isinstance(item, ChatResult):
                return item
        raise BadResponse(f"The model service at {self._base_url} sent no reply.")

    def list_models(self) -> list[str]:
        """Model ids the service offers (``GET /models``); a quick connection test."""
        import openai

        try:
            page = self._client.models.list()
        except openai.OpenAIError as err:
            raise self._translate(err, model=None) from err
        data = getattr(page, "data", None)
        if not isinstance(data, list):
            raise BadResponse(f"The service at {self._base_url} sent an unexpected model list.")
        return [str(m.id) for m in data if getattr(m, "id", None)]

    # -- internals

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self._model,
            "messages": request.messages,
            "stream": True,
        }
        tokens = "max_completion_tokens" if self._completion_tokens_param else "max_tokens"
        params[tokens] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.tools:
            params["tools"] = request.tools
        if self._extra_body:
            params["extra_body"] = dict(self._extra_body)
        return params

    def _open(self, request: ChatRequest) -> openai.Stream[Any]:
        """Start the request, retrying transient failures."""
        import openai

        attempt = 0
        while True:
            try:
                stream: openai.Stream[Any] = self._client.chat.completions.create(
                    **self._params(request)
                )
                return stream
            except openai.BadRequestError as err:
                # OpenAI's reasoning models refuse max_tokens; switch once and remember.
                if not self._completion_tokens_param and _USE_COMPLETION_TOKENS.search(str(err)):
                    self._completion_tokens_param = True
                    continue
                raise self._translate(err) from err
            except openai.OpenAIError as err:
                delay = self._retry_delay(err, attempt)
                if delay is None:
                    raise self._translate(err) from err
                attempt += 1
                log.warning(
                    "Model service %s: %s; retry %d of %d in %.1f s",
                    self._base_url,
                    type(err).__name__,
                    attempt,
                    self._max_retries,
                    delay,
                )
                time.sleep(delay)

    def _retry_delay(self, err: openai.OpenAIError, attempt: int) -> float | None:
        import openai

        if attempt >= self._max_retries or isinstance(err, openai.APITimeoutError):
            return None  # a slow server gets slower when asked twice
        if isinstance(err, openai.APIConnectionError):
            return self._backoff_delay(attempt)
        if isinstance(err, openai.APIStatusError) and retryable(err.status_code):
            after = retry_after(err.response.headers)
            if after is None:
                return self._backoff_delay(attempt)
            return after if after <= MAX_RETRY_AFTER else None
        return None

    def _backoff_delay(self, attempt: int) -> float:
        return float(min(self._backoff * 2**attempt, MAX_BACKOFF))

    def _events(self, response: openai.Stream[Any], reply: _Reply) -> Iterator[dict[str, Any]]:
        """Stream events as dicts; a plain JSON answer becomes one event (and is
        whole). Sets ``reply.done`` when the answer is known to be complete."""
        import httpx2
        import openai

        http = response.response
        content_type = http.headers.get("content-type", "").lower()
        if content_type.startswith("text/html"):
            raise BadResponse(
                f"The service at {self._base_url} answered with a web page, not the API. "
                "Check the address: it usually ends in /v1."
            )
        try:
            if not content_type.startswith("application/json"):
                yield from _sse_events(http, reply)
                return
            raw = http.read()
        except httpx2.TimeoutException as err:  # as the SDK's own stream reports them
            raise openai.APITimeoutError(request=http.request) from err
        except httpx2.RequestError as err:
            raise openai.APIConnectionError(request=http.request) from err
        reply.done = True  # a whole JSON body
        body = json.loads(raw)
        if not isinstance(body, dict) or "choices" not in body:
            detail = server_detail(body, self._api_key)
            raise BadResponse(
                f"The model service at {self._base_url} sent an unexpected answer"
                + (f": {detail}" if detail else ".")
            )
        yield body

    def _translate(self, err: openai.OpenAIError, *, model: str | None = "") -> ServiceError:
        import openai

        model = self._model if model == "" else model
        if isinstance(err, openai.APITimeoutError):
            return ServiceUnreachable(
                f"The model service at {self._base_url} did not answer within "
                f"{self._timeout:g} s (timed out). It may be busy or still loading the model; "
                "try again, or raise the timeout."
            )
        if isinstance(err, openai.APIConnectionError):
            return unreachable(self._base_url, err.__cause__, "model service")
        if isinstance(err, openai.APIStatusError):
            return status_error(
                err.status_code,
                server_detail(err.body, self._api_key),
                what="model service",
                base_url=self._base_url,
                model=model,
            )
        return BadResponse(
            f"The model service at {self._base_url} sent an unusable answer: "
            f"{scrub(str(err), self._api_key)}"
        )


# ---------------------------------------------------------------- reply assembly


def _sse_events(http: httpx2.Response, reply: _Reply) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent-event stream, up to ``data: [DONE]``
    (then ``reply.done``). An event holding ``error`` raises ``APIError``, as
    in the SDK."""
    import openai

    data: list[str] = []
    for line in itertools.chain(http.iter_lines(), [""]):  # "": ends an unterminated last event
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        if line or not data:
            continue  # other fields (event:, id:) and comments (:) are not used
        text, data = "\n".join(data), []
        if text.startswith("[DONE]"):
            reply.done = True
            return
        event = json.loads(text)
        if isinstance(event, dict) and event.get("error"):
            error = event["error"]
            message = error.get("message") if isinstance(error, dict) else None
            raise openai.APIError(
                message if isinstance(message, str) and message else "An error in the stream",
                request=http.request,
                body=error,
            )
        if isinstance(event, dict):
            yield event


class ThinkSplitter:
    """Splits streamed text into content and inline ``<think>...</think>`` reasoning.

    Tags may arrive split across chunks: a possible tag start is held back until
    the next chunk settles it. An unclosed ``<think>`` at the end is reasoning.
    """

    OPEN = "<think>"
    CLOSE = "</think>"

    def __init__(self) -> None:
        self._pending = ""
        self._thinking = False

    def feed(self, text: str) -> list[ChatDelta]:
        out: list[ChatDelta] = []
        self._pending += text
        while True:
            tag = self.CLOSE if self._thinking else self.OPEN
            at = self._pending.find(tag)
            if at < 0:
                break
            self._emit(out, self._pending[:at])
            self._pending = self._pending[at + len(tag) :]
            self._thinking = not self._thinking
        keep = _partial_tag(self._pending, tag)
        self._emit(out, self._pending[: len(self._pending) - keep])
        self._pending = self._pending[len(self._pending) - keep :]
        return out

    def flush(self) -> list[ChatDelta]:
        out: list[ChatDelta] = []
        self._emit(out, self._pending)
        self._pending = ""
        return out

    def _emit(self, out: list[ChatDelta], text: str) -> None:
        if text:
            out.append(ChatDelta("reasoning" if self._thinking else "content", text))


def _partial_tag(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that could begin ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class _ToolCalls:
    """Assembles streamed tool-call fragments by index (or id, when no index)."""

    def __init__(self) -> None:
        self._calls: list[dict[str, str]] = []
        self._by_index: dict[int, int] = {}

    def add(self, part: Mapping[str, Any]) -> None:
        function = part.get("function") or {}
        call_id = str(part.get("id") or "")
        name = str(function.get("name") or "")
        slot = self._slot(part.get("index"), call_id, name)
        call = self._calls[slot]
        if call_id and not call["id"]:
            call["id"] = call_id
        if name and not call["name"]:
            call["name"] = name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call["arguments"] += arguments
        elif arguments is not None:  # some servers send an object
            call["arguments"] += json.dumps(arguments, ensure_ascii=False)

    def _slot(self, index: object, call_id: str, name: str) -> int:
        if isinstance(index, int) and index in self._by_index:
            slot = self._by_index[index]
            known = self._calls[slot]["id"]
            if not (call_id and known and call_id != known):
                return slot
        elif not isinstance(index, int):
            for slot, call in enumerate(self._calls):
                if call_id and call["id"] == call_id:
                    return slot
            if not call_id and not name and self._calls:
                return len(self._calls) - 1
        self._calls.append({"id": "", "name": "", "arguments": ""})
        if isinstance(index, int):
            self._by_index[index] = len(self._calls) - 1
        return len(self._calls) - 1

    def result(self) -> list[ToolCall]:
        return [
            ToolCall(
                id=call["id"] or f"call_{uuid.uuid4().hex[:24]}",
                name=call["name"],
                arguments=call["arguments"],
            )
            for call in self._calls
        ]


class _Reply:
    """Accumulates one reply from stream deltas (or a whole JSON message)."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.done = False  # the stream ended with [DONE] (or was one JSON body)
        self._tools = _ToolCalls()
        self._think = ThinkSplitter()
        self._started = False  # has non-blank content been emitted

    def feed(self, delta: Mapping[str, Any]) -> list[ChatDelta]:
        found: list[ChatDelta] = []
        for name in _REASONING_FIELDS:  # first one only: some servers send both
            text = delta.get(name)
            if isinstance(text, str) and text:
                found.append(ChatDelta("reasoning", text))
                break
        for name in ("content", "refusal"):
            text = delta.get(name)
            if isinstance(text, str) and text:
                found.extend(self._think.feed(text))
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            for part in calls:
                if isinstance(part, Mapping):
                    self._tools.add(part)
        return self._accept(found)

    def flush(self) -> list[ChatDelta]:
        return self._accept(self._think.flush())

    def _accept(self, deltas: list[ChatDelta]) -> list[ChatDelta]:
        kept: list[ChatDelta] = []
        for delta in deltas:
            text = delta.text
            if delta.kind == "content":
                if not self._started:  # drop blank lines left after </think>
                    text = text.lstrip()
                    if not text:
                        continue
                    self._started = True
                self.content.append(text)
            else:
                self.reasoning.append(text)
            kept.append(ChatDelta(delta.kind, text))
        return kept

    def result(self, base_url: str) -> ChatResult:
        if self.finish_reason is None and not self.done:
            raise BadResponse(
                f"The reply from {base_url} broke off mid-way (the stream ended without "
                "saying it was finished). Try again."
            )
        content = "".join(self.content).strip()
        reasoning = "".join(self.reasoning).strip()
        calls = self._tools.result()
        if not content and not calls:
            if self.finish_reason == "length":
                spent = " on reasoning" if reasoning else ""
                raise BadResponse(
                    f"The model used its whole answer budget{spent} without replying "
                    "(finish_reason: length). Raise the answer token budget."
                )
            why = f" (finish_reason: {self.finish_reason})" if self.finish_reason else ""
            raise BadResponse(f"The model service at {base_url} sent an empty reply{why}.")
        return ChatResult(content, reasoning, calls, self.finish_reason)
