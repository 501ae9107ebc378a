"""A streamed (or whole JSON) chat reply, assembled: server-sent events up to
``[DONE]``, content and reasoning (a ``reasoning_content``/``reasoning`` field or
inline ``<think>`` tags), tool-call fragments, and the service's ``usage``.
Used by ``llm_openai.py``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from dl_app.core.errors import BadResponse, EmptyReply, msg
from dl_app.core.models import ToolCall
from dl_app.core.ports import ChatDelta, ChatResult, Usage

if TYPE_CHECKING:
    import httpx2

__all__ = ["Reply", "ThinkSplitter", "sse_events"]

_REASONING_FIELDS = ("reasoning_content", "reasoning")


def sse_events(http: httpx2.Response, reply: Reply) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent-event stream, up to ``data: [DONE]``
    (then ``reply.done``). An event holding ``error`` raises ``APIError``, as
    in the SDK."""
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
            import openai  # loaded already: the stream came through the SDK

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


class Reply:
    """Accumulates one reply from stream deltas (or a whole JSON message)."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.done = False  # the stream ended with [DONE] (or was one JSON body)
        self._tools = _ToolCalls()
        self._think = ThinkSplitter()
        self._started = False  # has non-blank content been emitted

    def note_usage(self, event: Mapping[str, Any]) -> None:
        """Keep the event's ``usage`` (a stream's last chunk, or a whole JSON body)."""
        usage = event.get("usage")
        if not isinstance(usage, Mapping):
            return
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and not isinstance(prompt, bool) and prompt >= 0:
            done = completion if isinstance(completion, int) and completion >= 0 else 0
            self.usage = Usage(prompt, done)

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
            raise BadResponse(msg("model.broke_off", url=base_url))
        content = "".join(self.content).strip()
        reasoning = "".join(self.reasoning).strip()
        calls = self._tools.result()
        if not content and not calls:
            if self.finish_reason == "length":
                raise BadResponse(msg("model.budget_spent_thinking" if reasoning
                                      else "model.budget_spent"))
            if self.finish_reason:
                raise EmptyReply(msg("model.empty_reply_why", url=base_url,
                                     reason=self.finish_reason))
            raise EmptyReply(msg("model.empty_reply", url=base_url))
        return ChatResult(content, reasoning, calls, self.finish_reason, self.usage)
