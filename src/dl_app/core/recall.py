"""Recall: the diary search, the ``get_memory`` tool and automatic recall.

Results never repeat an entry already recalled in this conversation. Tool
arguments that are not valid JSON get an explanatory tool result the model can
recover from, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..prompts import PromptSet
from .context import Budget, memory_lines
from .errors import ServiceError
from .models import Message, Recall, SearchHit, ToolCall
from .ports import Clock, DiaryStore, Embedder, TokenCounter
from .tokens import truncate

TOOL_NAME = "get_memory"


class Recaller:
    def __init__(
        self,
        *,
        embedder: Embedder | None,
        diary: DiaryStore,
        prompts: PromptSet,
        counter: TokenCounter,
        clock: Clock,
        budget: Budget,
        k: int,
    ) -> None:
        self.embedder = embedder
        self.diary = diary
        self.prompts = prompts
        self.counter = counter
        self.clock = clock
        self.budget = budget
        self.k = k

    def _offset(self) -> int:
        return self.clock.utc_offset_minutes(self.clock.now_ms())

    def tools(self) -> list[dict[str, Any]]:
        p = self.prompts
        return [
            {
                "type": "function",
                "function": {
                    "name": TOOL_NAME,
                    "description": p.label("tool_description"),
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "memoryDescription": {
                                "type": "string",
                                "description": p.label("tool_param_description"),
                            }
                        },
                        "required": ["memoryDescription"],
                        "additionalProperties": False,
                    },
                },
            }
        ]

    def search(self, query: str, k: int = 5, exclude: Sequence[str] = ()) -> list[SearchHit]:
        """The diary search recall uses: hybrid, or full-text alone when no
        embedder is available (or it fails)."""
        vector = None
        model = ""
        if self.embedder is not None and query.strip():
            try:
                vector = self.embedder.embed_query(query)
                model = self.embedder.name
            except ServiceError:
                vector = None
        return self.diary.search(query, vector, model, k=k, exclude=exclude)

    def recall(
        self, desc: str, exclude: set[str], call_id: str, turn_id: str
    ) -> tuple[Message, list[SearchHit]]:
        hits = self.search(desc, self.k, sorted(exclude))
        p = self.prompts
        if hits:
            lines = memory_lines([h.entry for h in hits], p, self._offset())
            body = p.render("tool_result", desc=desc, memories="\n".join(lines))
        else:
            body = p.render("tool_result_empty", desc=desc)
        cap = self.budget.tool_result_cap
        body = truncate(self.counter, body, cap, p.label("truncated"))
        msg = Message(
            role="tool",
            content=body,
            timestamp=self.clock.now_ms(),
            turn_id=turn_id,
            tool_call_id=call_id,
            recall=[
                Recall(uuid=h.entry.uuid, similarity=round(h.similarity or 0.0, 4), desc=desc)
                for h in hits
            ],
        )
        return msg, hits

    def tool_messages(
        self, calls: Sequence[ToolCall], exclude: set[str], turn_id: str
    ) -> tuple[list[Message], list[SearchHit]]:
        out: list[Message] = []
        found: list[SearchHit] = []
        p = self.prompts
        for call in calls:
            error = None
            desc = ""
            if call.name != TOOL_NAME:
                error = p.label("unknown_tool", name=call.name)
            else:
                try:
                    args = json.loads(call.arguments or "{}")
                    desc = args.get("memoryDescription") if isinstance(args, dict) else None
                    if not isinstance(desc, str) or not desc.strip():
                        error = p.label("bad_tool_args", error="memoryDescription missing")
                except ValueError as e:
                    error = p.label("bad_tool_args", error=str(e))
            if error is not None:
                out.append(Message(role="tool", content=error, timestamp=self.clock.now_ms(),
                                   turn_id=turn_id, tool_call_id=call.id))
                continue
            msg, hits = self.recall(desc, exclude, call.id, turn_id)
            exclude.update(h.entry.uuid for h in hits)
            found.extend(hits)
            out.append(msg)
        return out, found

    def auto_recall(self, text: str, exclude: set[str]) -> list[SearchHit]:
        # Only full-text matches are kept below, so when the full-text search
        # alone finds nothing the query need not be embedded (most turns).
        if not self.diary.search(text, None, "", k=1, exclude=sorted(exclude)):
            return []
        hits = self.search(text, self.k, sorted(exclude))
        # Without a tool call nobody judged relevance: keep what both searches
        # agree on, or clear full-text matches.
        return [h for h in hits if h.text_match][: self.k]
