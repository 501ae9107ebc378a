"""``test_connection``: try a chat or embedding service and say what is wrong.

First ``GET <base>/models`` (cheap, and it tells a wrong key, a wrong address
or a web page apart); then, only when the model is not listed (or the service
has no model list), one tiny real request, since some services serve models
they do not list. Never raises: returns ``Check(ok, message, models, error)``,
whose message is a catalogue ``Text`` (``dl_app.messages.render(message, lang)``).

``budget_warning``: ollama runs a model with a context of its own (``num_ctx``)
and silently cuts the start of a longer request, where the persona and the
memory are; when the token budget is larger, the connection test and
``dl-app chat`` say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .adapters.service_errors import server_detail, status_error, unreachable, what_text
from .core.errors import BadResponse, DLError, ModelNotFound, Text, msg
from .core.ports import ChatRequest

if TYPE_CHECKING:
    import httpx

__all__ = ["Check", "budget_warning", "check_embed", "check_llm", "ollama_context"]

CONNECT_TIMEOUT = 5.0
PROBE_TOKENS = 16  # a tiny reply: enough to know the model answers
OLLAMA_TIMEOUT = 3.0  # seconds for ollama's /api/show
_NUM_CTX = re.compile(r"^\s*num_ctx\s+(\d+)", re.MULTILINE)


def _answered(error: BadResponse) -> bool:
    """A too-short or empty reply to the probe still proves the model answers
    (reasoning models spend a tiny budget on thinking)."""
    text = str(error)
    return "finish_reason: length" in text or "empty reply" in text


@dataclass
class Check:
    ok: bool
    message: Text | str
    models: list[str] = field(default_factory=list)
    error: DLError | None = None


class _Listed(Exception):
    """The model list could not be read, for a reason worth reporting at once."""

    def __init__(self, error: DLError) -> None:
        super().__init__(str(error))
        self.error = error


def _looks_like_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    return "html" in kind or response.text.lstrip()[:1] == "<"


def _web_page(base_url: str, what: str) -> BadResponse:
    return BadResponse(msg("check.web_page", url=base_url, what=what_text(what)))


def list_models(base_url: str, api_key: str, timeout: float, what: str) -> list[str] | None:
    """Model ids from ``GET /models``; None when the service has no such route."""
    import httpx  # when a connection is tested, not when the app starts

    url = base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout))
    try:
        with httpx.Client(timeout=limits) as client:
            response = client.get(url, headers=headers)
    except (httpx.HTTPError, OSError, ValueError) as e:
        raise _Listed(unreachable(base_url, e, what)) from e
    if _looks_like_html(response):
        raise _Listed(_web_page(base_url, what))
    if response.status_code in (404, 405):
        return None
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        detail = server_detail(body, api_key)
        raise _Listed(
            status_error(
                response.status_code, detail, what=what, base_url=base_url, model=None
            )
        )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise _Listed(
            BadResponse(msg("check.no_model_list", url=base_url))
        )
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]


def _failed(error: DLError, models: list[str]) -> Check:
    return Check(False, error.text or str(error), models, error)


def _unlisted(model: str, base_url: str, models: list[str]) -> ModelNotFound:
    shown = ", ".join(models[:20]) + (" ..." if len(models) > 20 else "")
    listed = msg("check.available", models=shown) if models else msg("check.none_listed")
    return ModelNotFound(msg("check.unlisted", model=model, url=base_url, listed=listed))


def check_llm(
    base_url: str, api_key: str, model: str, timeout: float, *, budget: int | None = None,
    lang: str = "en",
) -> Check:
    """Can we chat with ``model`` at ``base_url`` using ``api_key``? With
    ``budget``, a working check also warns when ollama's context is smaller."""
    check = _check_llm(base_url, api_key, model, timeout)
    if check.ok and budget is not None:
        warning = budget_warning(base_url, model, budget, lang, min(timeout, OLLAMA_TIMEOUT))
        if warning:
            check.message = msg("check.with_warning", message=check.message, warning=warning)
    return check


def ollama_context(base_url: str, model: str, timeout: float = OLLAMA_TIMEOUT) -> int | None:
    """The context ollama gives ``model`` (``POST /api/show``: ``num_ctx`` in its
    parameters, else the model's own ``*.context_length``). None when the
    service is not a local or default-port ollama, or does not say."""
    parsed = urlparse(base_url)
    local = (parsed.hostname or "") in ("localhost", "127.0.0.1", "::1")
    if not (local or parsed.port == 11434):
        return None  # never send the model's name to an unrelated remote service
    root = base_url.rstrip("/").removesuffix("/v1")
    import httpx  # when asked, not when the app starts

    try:
        with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
            body: Any = client.post(f"{root}/api/show", json={"model": model}).json()
    except (httpx.HTTPError, OSError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    found = _NUM_CTX.search(str(body.get("parameters") or ""))
    if found:
        return int(found.group(1))
    info = body.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if str(key).endswith(".context_length") and isinstance(value, int) and value > 0:
                return value
    return None


def budget_warning(
    base_url: str, model: str, budget: int, lang: str, timeout: float = OLLAMA_TIMEOUT
) -> str | None:
    """A warning (in ``lang``) when ollama's context for ``model`` is smaller
    than the token budget, else None."""
    context = ollama_context(base_url, model, timeout)
    if context is None or budget <= context:
        return None
    from .messages import say

    return say(lang, "check.ollama_context", budget=budget, model=model, context=context)


def _check_llm(base_url: str, api_key: str, model: str, timeout: float) -> Check:
    what = "chat service"
    try:
        models = list_models(base_url, api_key, timeout, what)
    except _Listed as e:
        return _failed(e.error, [])
    listed = models or []
    if models is not None and model in models:
        return Check(
            True, msg("check.available_model", url=base_url, model=model, n=len(models)), listed
        )
    from .adapters.llm_openai import OpenAIChatModel

    chat = OpenAIChatModel(base_url, api_key, model, timeout=timeout, max_retries=0,
                           connect_timeout=CONNECT_TIMEOUT)
    try:
        chat.complete(ChatRequest(messages=[{"role": "user", "content": "Hi"}],
                                  max_tokens=PROBE_TOKENS, purpose="test"))
    except ModelNotFound as e:
        return _failed(_unlisted(model, base_url, listed) if listed else e, listed)
    except BadResponse as e:
        if not _answered(e):
            return _failed(e, listed)
    except DLError as e:
        return _failed(e, listed)
    finally:
        chat.close()
    note = msg("check.unlisted_note") if models is not None else ""
    return Check(True, msg("check.answered", url=base_url, model=model, note=note), listed)


def check_embed(
    base_url: str, api_key: str, model: str, dimensions: int | None, timeout: float
) -> Check:
    """Can we embed with ``model`` at ``base_url``? Empty ``base_url``: built in."""
    if not base_url:
        return Check(True, msg("check.builtin_embedder"))
    what = "embedding service"
    try:
        models = list_models(base_url, api_key, timeout, what)
    except _Listed as e:
        return _failed(e.error, [])
    listed = models or []
    from .adapters.embed_openai import OpenAIEmbedder

    embedder = OpenAIEmbedder(base_url, api_key, model, dimensions, timeout=timeout,
                              connect_timeout=CONNECT_TIMEOUT, max_retries=0)
    try:
        vector = embedder.embed_query("connection test")
    except ModelNotFound as e:
        return _failed(_unlisted(model, base_url, listed) if listed else e, listed)
    except DLError as e:
        return _failed(e, listed)
    finally:
        embedder.close()
    return Check(
        True, msg("check.embed_ok", url=base_url, model=model, dims=len(vector)), listed
    )
