"""HTTP failures of remote services, as ``dl_app.core.errors`` errors.

Shared by the OpenAI-compatible adapters (chat and embeddings): the messages
say what failed, where, and what the user can do. Secrets are scrubbed from
anything a service echoes back.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, urlparse

from dl_app.core.errors import (
    AuthFailed,
    ContextOverflow,
    ModelNotFound,
    RateLimited,
    ServerFailed,
    ServiceError,
    ServiceUnreachable,
    Text,
    msg,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "PROBE_TIMEOUT",
    "context_overflow",
    "probe_http",
    "retry_after",
    "retryable",
    "scrub",
    "server_detail",
    "status_error",
    "unreachable",
    "what_text",
]

MAX_BACKOFF = 8.0  # seconds: the longest wait between retries
MAX_RETRY_AFTER = 20.0  # seconds; a longer Retry-After is reported instead of waited


def retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        value = float(headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{12,}=*")


def scrub(text: str, secret: str) -> str:
    """``text`` with ``secret`` masked as ``***``: as it is, JSON-escaped,
    URL-encoded, and inside base64 (``Basic base64(user:key)`` echoed back)."""
    if len(secret) < 4:
        return text
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    key = secret.encode("utf-8", "replace")

    def unbase64(found: re.Match[str]) -> str:
        token = found[0].rstrip("=")
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            for start in range(4):  # the token may begin inside a base64 quad
                part = token[start:]
                try:
                    if key in decode(part + "=" * (-len(part) % 4)):
                        return "***"
                except ValueError:
                    continue
        return found[0]

    return _BASE64.sub(unbase64, text)


def server_detail(body: object, secret: str) -> str:
    """The service's own error message from an error body, short and key-free.

    The key is masked before anything is cut or reflowed: cut first, a key
    straddling the cut would keep its first part."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message = inner.get("message") or inner.get("detail") or ""
        else:
            message = inner
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    elif isinstance(body, str):
        text = "" if body.lstrip().startswith("<") else body  # skip HTML pages
    else:
        text = ""
    text = " ".join(scrub(text, secret).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return text


_WHAT = {
    "chat service": "what.chat",
    "model service": "what.model",
    "embedding service": "what.embed",
    "image service": "what.image",
    "picture download": "what.picture_download",
    "speech service": "what.speech",
    "transcription service": "what.transcription",
}


def what_text(what: str) -> Text | str:
    """A service's name ("chat service") as catalogue words; others ("F5-TTS
    service") as written."""
    if what.endswith(" service") and what not in _WHAT:
        return msg("what.named", name=what.removesuffix(" service"))
    return msg(_WHAT[what]) if what in _WHAT else what


def _hint(base_url: str) -> Text:
    parsed = urlparse(base_url)
    host = (parsed.hostname or "").lower()
    if host not in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
        return msg("hint.remote")
    if parsed.port == 11434:
        return msg("hint.ollama")
    if parsed.port == 1234:
        return msg("hint.lmstudio")
    return msg("hint.local")


def _reason(cause: BaseException | None) -> Text:
    text = str(cause or "").lower()
    if "refused" in text:
        return msg("reason.refused")
    if any(s in text for s in ("name or service", "nodename", "getaddrinfo", "resolution")):
        return msg("reason.no_host")
    if "ssl" in text or "certificate" in text:
        return msg("reason.tls")
    import httpx
    import httpx2

    if isinstance(cause, httpx2.TimeoutException | httpx.TimeoutException | TimeoutError):
        return msg("reason.timeout")
    return msg("reason.failed")


def unreachable(base_url: str, cause: BaseException | None, what: str) -> ServiceUnreachable:
    """A ``ServiceUnreachable`` for a connection that could not be made."""
    if urlparse(base_url).scheme not in ("http", "https"):
        return ServiceUnreachable(msg("service.bad_scheme", what=what_text(what), url=base_url))
    return ServiceUnreachable(
        msg("service.unreachable", what=what_text(what), url=base_url, reason=_reason(cause),
            hint=_hint(base_url))
    )


def _said(detail: str) -> Text | str:
    return msg("service.said", detail=detail) if detail else ""


def status_error(
    status: int, detail: str, *, what: str, base_url: str, model: str | None
) -> ServiceError:
    """The error for an HTTP error status (after any retries). ``model=None``
    means the request was not about a model (e.g. the model list)."""
    values = {"what": what_text(what), "url": base_url, "model": model, "status": status,
              "said": _said(detail)}
    if status == 401:
        return AuthFailed(msg("service.key_rejected", **values))
    if status == 403:
        return AuthFailed(msg("service.forbidden", **values))
    if status == 404:
        if model is None:
            return ModelNotFound(msg("service.nothing_found", **values))
        return ModelNotFound(msg("service.model_not_found", **values))
    if status == 429:
        return RateLimited(msg("service.rate_limited", **values))
    if status >= 500:
        return ServerFailed(msg("service.server_failed", **values))
    return ServiceError(msg("service.rejected", **values))


# How services say a request is longer than the model's context: OpenAI and vLLM
# ("maximum context length", context_length_exceeded), llama.cpp
# (exceed_context_size_error), LM Studio ("context length of only"), ollama
# ("exceeds the context length"), Anthropic-style ("prompt is too long").
_OVERFLOW = re.compile(
    r"context[ _-]?(?:length|size|window)|prompt is too long|input (?:is )?too long"
    r"|too many (?:input )?tokens|exceed_context",
    re.IGNORECASE,
)
_N = r"(\d[\d,]*)"
_LIMIT = [
    rf"maximum context length is {_N}",
    rf"context (?:length|size|window) (?:is |of )?(?:only )?{_N}",
    rf"{_N} (?:tokens )?(?:maximum context|context length)",
    rf"tokens? > {_N}",
]
_PROMPT = [
    rf"resulted in {_N} tokens",
    rf"{_N} in the messages",
    rf"request has {_N} input tokens",
    rf"prompt (?:contains|is too long:) {_N}",
    rf"input length \(?{_N}",
    rf"keep the first {_N} tokens",
]
_REQUESTED = [rf"you requested {_N} tokens"]


def _number(text: str, patterns: list[str]) -> int | None:
    for pattern in patterns:
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            return int(found.group(1).replace(",", ""))
    return None


def _field(error: Mapping[str, object], *names: str) -> int | None:
    for name in names:
        value = error.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def context_overflow(
    status: int, body: object, secret: str, *, base_url: str, model: str | None
) -> ContextOverflow | None:
    """A ``ContextOverflow`` when an error status says the request was longer
    than the model's context (with the numbers it names), else None."""
    if status not in (400, 413, 422):
        return None
    error = body.get("error", body) if isinstance(body, Mapping) else {}
    error = error if isinstance(error, Mapping) else {}
    detail = server_detail(body, secret)
    said = " ".join([detail, str(error.get("code") or ""), str(error.get("type") or "")])
    if not _OVERFLOW.search(said):
        return None
    limit = _field(error, "n_ctx") or _number(detail, _LIMIT)
    prompt = _field(error, "n_prompt_tokens") or _number(detail, _PROMPT)
    room = msg("service.overflow_room", limit=limit) if limit else ""
    return ContextOverflow(
        msg("service.overflow", model=model, url=base_url, room=room, detail=detail),
        limit=limit,
        prompt=prompt,
        requested=_number(detail, _REQUESTED),
    )


PROBE_TIMEOUT = 5.0  # seconds a probe of an optional service waits (health checks)


def probe_http(client: httpx.Client, url: str, *, what: str, secret: str = "",
               headers: dict[str, str] | None = None, timeout: float = PROBE_TIMEOUT) -> None:
    """Whether the HTTP service at ``url`` answers at all: ``GET url``. A connection
    that fails or times out raises ``ServiceUnreachable``, a 5xx ``ServerFailed``;
    any other answer (even 401 or 404) means it is there (a wrong key or path is
    not an outage: using the service says that)."""
    import httpx  # here: the modules that only translate errors need no HTTP client

    try:
        resp = client.get(url, headers=headers or {}, timeout=timeout)
    except httpx.HTTPError as e:
        raise unreachable(url, e, what) from e
    if resp.status_code >= 500:
        raise status_error(resp.status_code, server_detail(resp.text, secret), what=what,
                           base_url=url, model=None)
