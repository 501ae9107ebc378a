"""Chat with any OpenAI-compatible service through the ``openai`` SDK (3.x).

Every request is streamed; ``complete`` collects a stream (a slow local model
then cannot hit the read timeout while it writes a long summary, since the
timeout applies between chunks). A server that ignores ``stream`` and answers
plain JSON is handled too.

A streamed reply is complete only when it says so: a ``finish_reason`` or
the closing ``data: [DONE]``. A stream that just stops is a failed reply
(``BadResponse``), never a short finished one; the SSE lines are read here,
not by the SDK, to see that ``[DONE]``.

Streams ask for the service's token count (``stream_options: {"include_usage":
true}``; ``ChatResult.usage``). Until a request with the option has succeeded,
a 400 is tried once more without it, and if that works the option is never sent
again. A 400 saying the request is over the model's context is a
``ContextOverflow`` (with the numbers it names), never retried.

Reasoning is separated from the reply whether the server sends it in a
``reasoning_content`` / ``reasoning`` field or inline as ``<think>...</think>``.
Retries (429, 5xx, connection failures; not timeouts) happen here, before the
stream starts, with exponential backoff; the SDK's own retries are off.
SDK errors become ``dl_app.core.errors`` errors whose text tells the user what
to do. The API key never appears in messages or logs. The SDK is imported when the
first request is made, not when the model is built (``dl-app memory`` commands
build one and never call it); so is the API key when it is given as a function
(``wiring`` passes one: a search does not open the OS keyring).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dl_app.core.errors import (
    BadResponse,
    ContextOverflow,
    ServiceError,
    ServiceUnreachable,
    msg,
)
from dl_app.core.ports import ChatDelta, ChatRequest, ChatResult
from dl_app.messages import shown_url

from .llm_reply import Reply, ThinkSplitter, sse_events
from .service_errors import (
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    context_overflow,
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
        api_key: str | Callable[[], str],
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
        self._shown = shown_url(self._base_url)  # in messages and logs: no key in it
        self._key: str | Callable[[], str] = api_key  # a function: read on first use
        self._model = model
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = backoff
        self._extra_body = dict(extra_body or {})
        self._completion_tokens_param = False  # learned: send max_completion_tokens
        self._usage_option = True  # False: learned that the service refuses stream_options
        self._usage_accepted = False  # a request with stream_options has succeeded
        self._connect_timeout = min(connect_timeout, timeout)
        self._http_client = http_client
        self._sdk_client: openai.OpenAI | None = None

    @property
    def _api_key(self) -> str:
        if callable(self._key):
            self._key = self._key()
        return self._key

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
        reply = Reply()
        try:
            for event in self._events(response, reply):
                reply.note_usage(event)
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
                msg("model.timed_out", url=self._shown, seconds=self._timeout)
            ) from err
        except openai.APIConnectionError as err:
            raise BadResponse(msg("model.connection_closed", url=self._shown)) from err
        except openai.APIError as err:
            detail = server_detail(err.body, self._api_key) or scrub(err.message, self._api_key)
            raise BadResponse(
                msg("model.error_mid_reply", url=self._shown, detail=detail)
            ) from err
        except json.JSONDecodeError as err:
            raise BadResponse(msg("model.not_json", url=self._shown)) from err
        finally:
            response.close()
        yield reply.result(self._shown)

    def complete(self, request: ChatRequest) -> ChatResult:
        for item in self.stream(request):
            if isinstance(item, ChatResult):
                return item
        raise BadResponse(msg("model.no_reply", url=self._shown))

    def list_models(self) -> list[str]:
        """Model ids the service offers (``GET /models``); a quick connection test."""
        import openai

        try:
            page = self._client.models.list()
        except openai.OpenAIError as err:
            raise self._translate(err, model=None) from err
        data = getattr(page, "data", None)
        if not isinstance(data, list):
            raise BadResponse(msg("model.bad_list", url=self._shown))
        return [str(m.id) for m in data if getattr(m, "id", None)]

    # -- internals

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self._model,
            "messages": request.messages,
            "stream": True,
        }
        if self._usage_option:  # the token count at the stream's end (for calibration)
            params["stream_options"] = {"include_usage": True}
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
        without_usage = False  # this attempt is the one retry without stream_options
        while True:
            try:
                stream: openai.Stream[Any] = self._client.chat.completions.create(
                    **self._params(request)
                )
                if without_usage:
                    log.info("Model service %s refuses stream_options; not sent again",
                             self._shown)
                self._usage_accepted = self._usage_accepted or self._usage_option
                return stream
            except openai.BadRequestError as err:
                # OpenAI's reasoning models refuse max_tokens; switch once and remember.
                if not self._completion_tokens_param and _USE_COMPLETION_TOKENS.search(str(err)):
                    self._completion_tokens_param = True
                    continue
                translated = self._translate(err)
                unproven = self._usage_option and not self._usage_accepted
                if unproven and not isinstance(translated, ContextOverflow):
                    # Perhaps the option is unknown there: once without it, kept if that works.
                    self._usage_option, without_usage = False, True
                    continue
                if without_usage:
                    self._usage_option = True  # the option was not what it refused
                raise translated from err
            except openai.OpenAIError as err:
                delay = self._retry_delay(err, attempt)
                if delay is None:
                    self._usage_option = self._usage_option or without_usage
                    raise self._translate(err) from err
                attempt += 1
                # A log line, not news for the user: the final failure is said.
                log.info(
                    "Model service %s: %s; retry %d of %d in %.1f s",
                    self._shown,
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

    def _events(self, response: openai.Stream[Any], reply: Reply) -> Iterator[dict[str, Any]]:
        """Stream events as dicts; a plain JSON answer becomes one event (and is
        whole). Sets ``reply.done`` when the answer is known to be complete."""
        import httpx2
        import openai

        http = response.response
        content_type = http.headers.get("content-type", "").lower()
        if content_type.startswith("text/html"):
            raise BadResponse(msg("model.web_page", url=self._shown))
        try:
            if not content_type.startswith("application/json"):
                yield from sse_events(http, reply)
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
            raise BadResponse(msg("model.unexpected_said", url=self._shown, detail=detail)
                              if detail else msg("model.unexpected", url=self._shown))
        yield body

    def _translate(self, err: openai.OpenAIError, *, model: str | None = "") -> ServiceError:
        import openai

        model = self._model if model == "" else model
        if isinstance(err, openai.APITimeoutError):
            return ServiceUnreachable(
                f"The model service at {self._shown} did not answer within "
                f"{self._timeout:g} s (timed out). It may be busy or still loading the model; "
                "try again, or raise the timeout."
            )
        if isinstance(err, openai.APIConnectionError):
            return unreachable(self._base_url, err.__cause__, "model service")
        if isinstance(err, openai.APIStatusError):
            overflow = context_overflow(
                err.status_code, err.body, self._api_key, base_url=self._base_url, model=model
            )
            if overflow is not None:
                return overflow
            return status_error(
                err.status_code,
                server_detail(err.body, self._api_key),
                what="model service",
                base_url=self._base_url,
                model=model,
            )
        return BadResponse(
            f"The model service at {self._shown} sent an unusable answer: "
            f"{scrub(str(err), self._api_key)}"
        )
