"""The offline demo model behind the ``ChatModel`` port, in-process (llama.cpp
through ``llama-cpp-python``), so the app answers with no service and no network.

- The model loads lazily, on the first request, and one request runs at a time
  (a lock: a llama.cpp context is not thread-safe).
- The prompt is made with the model's own chat template, read from the GGUF's
  ``tokenizer.chat_template`` metadata, and tokenized by the model's own
  tokenizer; ``count`` uses the same tokenizer, so the engine's token budget
  is measured in the model's real tokens.
- Each request is logged (``requests``): purpose, prompt tokens as the model
  saw them, the answer's cap, tokens produced, time to the first token and in
  all. A request that cannot fit the context is refused before any work.
- Tools are not offered to the model (it is far too small to call them
  reliably); the wiring runs the engine's automatic recall for it instead.
  Earlier tool turns in the history are sent as plain text.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dl_app.core.errors import BadResponse, EmptyReply, ModelNotFound
from dl_app.core.ports import ChatDelta, ChatRequest, ChatResult
from dl_app.messages import Text, msg

from .demo_model import DemoModel, DemoUnavailable, locate, runtime_problem
from .llm_openai import ThinkSplitter
from .tiny_chat import CHAT_STOPS, Probe, with_examples

__all__ = ["LocalChatModel", "LocalCounter", "RequestLog", "default_threads"]

log = logging.getLogger(__name__)

CONTEXT_MARGIN = 64  # tokens of context beyond the budget (template slack)
MIN_ANSWER = 16  # fewer tokens left for the answer: refuse the request
# Sampling for a tiny model: a little randomness, and no loops.
DEFAULT_TEMPERATURE = 0.8
TOP_P = 0.9
REPEAT_PENALTY = 1.15
RESAMPLES = 2  # a chat reply that starts as a copy is sampled again, twice at most


def default_threads() -> int:
    """Threads for llama.cpp: the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(1, min(8, cores))


@dataclass
class RequestLog:
    purpose: str
    prompt_tokens: int  # as the model's tokenizer counted the templated prompt
    max_tokens: int  # the answer's cap actually used
    messages: list[dict[str, Any]] = field(default_factory=list, repr=False)
    tools: list[dict[str, Any]] | None = field(default=None, repr=False)
    asked_max_tokens: int = 0  # the engine's cap (lowered to keep within the budget)
    completion_tokens: int = 0
    first_token_s: float | None = None  # from the call to the first piece of text
    total_s: float = 0.0
    finish_reason: str | None = None
    resampled: int = 0  # chat replies sampled again (they started as a copy)


class LocalChatModel:
    """A ``ChatModel`` running a GGUF in this process.

    ``budget`` is the token budget of every request (prompt + answer); the
    llama.cpp context is that plus a small margin. Should the templated prompt
    come out a few tokens larger than the engine counted, the answer's cap is
    lowered so prompt + answer still fit the budget. ``model`` defaults to the
    installed demo model (``demo_model.locate``).
    """

    def __init__(
        self,
        budget: int,
        *,
        model: DemoModel | None = None,
        threads: int | None = None,
        seed: int | None = None,
    ) -> None:
        self._budget = budget
        self._context = budget + CONTEXT_MARGIN
        self._model = model
        self._threads = threads or default_threads()
        self._seed = seed
        self._lock = threading.Lock()  # one generation at a time
        self._load_lock = threading.RLock()
        self._llm: Any = None
        self._formatter: Any = None
        self._problem: str | None = None
        self.requests: list[RequestLog] = []
        self.load_s: float | None = None

    # -- identity

    @property
    def model_name(self) -> str:
        model = self._find()
        return model.name if model is not None else "demo model"

    @property
    def available(self) -> bool:
        return self.problem() is None

    def problem(self) -> Text | str | None:
        """Why the model cannot run, or None (does not load it)."""
        if self._llm is not None:
            return None
        problem = runtime_problem()
        if problem is not None:
            return problem
        self._find()
        return self._problem

    def _find(self) -> DemoModel | None:
        if self._model is None and self._problem is None:
            try:
                self._model = locate()
            except DemoUnavailable as e:
                self._problem = str(e)
        return self._model

    # -- loading

    def _load(self) -> Any:
        """The llama.cpp model (loaded on first use)."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            return self._llm if self._llm is not None else self._load_now()

    def _load_now(self) -> Any:
        problem = self.problem()
        if problem is not None:
            raise ModelNotFound(msg("setup.demo_unavailable", problem=problem))
        assert self._model is not None
        started = time.perf_counter()
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llm = Llama(
                model_path=str(self._model.path),
                n_ctx=self._context,
                n_threads=self._threads,
                n_threads_batch=self._threads,
                n_batch=512,
                seed=self._seed if self._seed is not None else 0xD1,
                verbose=False,
            )
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                raise ModelNotFound(msg("demo.no_template", name=self._model.name))
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=_token_text(llm, llm.token_eos()),
                bos_token=_token_text(llm, llm.token_bos()),
            )
        except ModelNotFound:
            raise
        except Exception as e:  # a damaged file or a broken build: say so, plainly
            raise ModelNotFound(
                msg("demo.load_failed", name=self._model.name, error=str(e))
            ) from e
        self._llm = llm
        self.load_s = time.perf_counter() - started
        log.info("demo model %s loaded in %.1f s", self._model.name, self.load_s)
        return llm

    def close(self) -> None:
        with self._lock, self._load_lock:
            llm, self._llm = self._llm, None
        if llm is not None:
            close = getattr(llm, "close", None)
            if callable(close):
                close()

    # -- tokens

    def tokens(self, text: str) -> int:
        """Tokens of ``text`` as this model splits it (the vocabulary is read-only:
        no need to wait for a generation)."""
        llm = self._load()
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # -- ChatModel

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        with self._lock:
            yield from self._stream(request)

    def complete(self, request: ChatRequest) -> ChatResult:
        for item in self.stream(request):
            if isinstance(item, ChatResult):
                return item
        raise BadResponse(msg("demo.no_reply"))

    def _stream(self, request: ChatRequest) -> Iterator[ChatDelta | ChatResult]:
        started = time.perf_counter()
        llm = self._load()
        chat = request.purpose == "chat"
        messages = plain_messages(request.messages)
        prompt = self._formatter(messages=with_examples(messages) if chat else messages)
        ids = llm.tokenize(prompt.prompt.encode("utf-8"), add_bos=not prompt.added_special,
                           special=True)
        max_tokens = min(request.max_tokens, self._budget - len(ids))
        entry = RequestLog(request.purpose, len(ids), max_tokens, list(request.messages),
                           request.tools, request.max_tokens)
        if max_tokens < MIN_ANSWER:
            raise BadResponse(msg("demo.no_room", n=len(ids), budget=self._budget))
        temperature = DEFAULT_TEMPERATURE if request.temperature is None else request.temperature
        stop = [*(prompt.stop or []), *(CHAT_STOPS if chat else [])]
        probe = Probe(messages) if chat else None
        content: list[str] = []
        reasoning: list[str] = []
        try:
            for attempt in range(RESAMPLES + 1):
                judge = probe if attempt < RESAMPLES else None
                held: list[ChatDelta] = []
                content, reasoning = [], []
                copied = False
                for delta in self._generate(llm, ids, max_tokens, temperature, stop, attempt,
                                            entry, started):
                    (content if delta.kind == "content" else reasoning).append(delta.text)
                    if judge is None:
                        yield delta
                        continue
                    held.append(delta)
                    if judge.ready("".join(content)):
                        copied = judge.copies("".join(content))
                        if copied:
                            break
                        yield from held
                        held, judge = [], None
                if judge is not None and not copied:
                    copied = judge.copies("".join(content))
                if not copied:
                    yield from held
                    break
                entry.resampled += 1
        except (RuntimeError, ValueError) as e:
            raise BadResponse(msg("demo.failed", error=str(e))) from e
        finally:
            entry.total_s = time.perf_counter() - started
            self.requests.append(entry)
        text = "".join(content).strip()
        if not text:
            if entry.finish_reason == "length":
                raise BadResponse(msg("demo.budget_spent"))
            raise EmptyReply(msg("demo.empty_reply"))
        yield ChatResult(text, "".join(reasoning).strip(), [], entry.finish_reason)


    def _generate(self, llm: Any, ids: list[int], max_tokens: int, temperature: float,
                  stop: list[str], attempt: int, entry: RequestLog,
                  started: float) -> Iterator[ChatDelta]:
        """One sampling of the reply (``attempt`` > 0: another seed, a little warmer),
        leading whitespace dropped; ``started``: when the call began (perf_counter)."""
        seed = (self._seed if self._seed is not None else 0xD1) + attempt
        chunks = llm.create_completion(
            ids, max_tokens=max_tokens, temperature=temperature + 0.1 * attempt, top_p=TOP_P,
            repeat_penalty=REPEAT_PENALTY, stop=stop or None, stream=True, seed=seed,
        )
        splitter = ThinkSplitter()
        began = False
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                text = choice.get("text") or ""
                entry.completion_tokens += 1 if text else 0
                if choice.get("finish_reason"):
                    entry.finish_reason = str(choice["finish_reason"])
                for delta in splitter.feed(text):
                    if delta.kind == "content" and not began:
                        delta = ChatDelta("content", delta.text.lstrip())
                        if not delta.text:
                            continue
                        began = True
                    if entry.first_token_s is None:
                        entry.first_token_s = time.perf_counter() - started
                    yield delta
            yield from splitter.flush()
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()


class LocalCounter:
    """A ``TokenCounter`` with the local model's own tokenizer; loads the model
    only when first asked, and falls back to ``fallback`` if it cannot."""

    def __init__(self, chat: LocalChatModel, fallback: Any) -> None:
        self._chat = chat
        self._fallback = fallback
        self._cache: dict[str, int] = {}

    def count(self, text: str) -> int:
        if not text:
            return 0
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        try:
            n = self._chat.tokens(text) if self._chat.available else None
        except ModelNotFound:
            n = None
        if n is None:
            return int(self._fallback.count(text))
        if len(self._cache) > 8192:
            self._cache.clear()
        self._cache[text] = n
        return n


def _token_text(llm: Any, token: int) -> str:
    if token is None or token < 0:
        return ""
    try:
        return str(llm._model.token_get_text(token))
    except Exception:
        return llm.detokenize([token], special=True).decode("utf-8", "replace")


def plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages as plain role/content text: image parts dropped, tool calls and
    tool results written out (the demo model gets no tools)."""
    out: list[dict[str, str]] = []
    for m in messages:
        role = str(m.get("role") or "user")
        content = m.get("content")
        if isinstance(content, list):
            text = "\n".join(
                str(p.get("text") or "") for p in content
                if isinstance(p, dict) and p.get("type") == "text"
            )
        else:
            text = str(content or "")
        if role == "tool":
            role, text = "user", f"[memory search result]\n{text}"
        elif role not in ("system", "user", "assistant"):
            role = "user"
        if role == "assistant" and not text.strip() and m.get("tool_calls"):
            continue  # a bare tool call: its result follows as text
        if out and out[-1]["role"] == role and role != "system":
            out[-1]["content"] += "\n\n" + text
        else:
            out.append({"role": role, "content": text})
    return out
