"""The ``send_picture`` tool: the companion makes a picture and sends it.

Pure logic: making the picture (``ImageMaker``) and storing it (``save``) are
given. A failure never fails the turn: the model gets an error tool result and
answers in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from ..prompts import PromptSet
from .errors import DLError
from .models import Attachment, Message, SearchHit, ToolCall
from .ports import Clock, ImageMaker
from .recall import Recaller

TOOL_NAME = "send_picture"
MAX_PROMPT_CHARS = 1000

SaveFn = Callable[[bytes, str, str], Attachment]  # (data, mime, name) -> stored attachment


class Pictures:
    def __init__(
        self, maker: ImageMaker, save: SaveFn, prompts: PromptSet, clock: Clock
    ) -> None:
        self.maker = maker
        self.save = save
        self.prompts = prompts
        self.clock = clock

    def tools(self) -> list[dict[str, Any]]:
        p = self.prompts
        return [{
            "type": "function",
            "function": {
                "name": TOOL_NAME,
                "description": p.label("picture_tool_description"),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "prompt": {
                            "type": "string",
                            "description": p.label("picture_param_description"),
                        }
                    },
                    "required": ["prompt"],
                    "additionalProperties": False,
                },
            },
        }]

    def _prompt(self, call: ToolCall) -> str:
        try:
            args = json.loads(call.arguments or "{}")
        except ValueError as e:
            raise DLError(f"the arguments are not valid JSON: {e}") from e
        prompt = args.get("prompt") if isinstance(args, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            raise DLError("the prompt is missing")
        return prompt.strip()[:MAX_PROMPT_CHARS]

    def run(self, call: ToolCall, turn_id: str) -> tuple[Message, Attachment | None]:
        """The tool result for one call and the picture sent (None on failure)."""
        p = self.prompts
        att = None
        try:
            prompt = self._prompt(call)
            data, mime = self.maker.make(prompt)
            ext = mime.rsplit("/", 1)[-1].replace("jpeg", "jpg")
            att = self.save(data, mime, f"picture.{ext}")
            att = att.model_copy(update={"description": p.label("picture_note", prompt=prompt)})
            body = p.label("picture_sent")
        except DLError as e:
            body = p.label("picture_failed", error=str(e)[:300])
        msg = Message(role="tool", content=body, timestamp=self.clock.now_ms(),
                      turn_id=turn_id, tool_call_id=call.id)
        return msg, att


def run_tools(
    calls: Sequence[ToolCall],
    recaller: Recaller,
    pictures: Pictures | None,
    exclude: set[str],
    turn_id: str,
    sent: list[Attachment],
) -> tuple[list[Message], list[SearchHit]]:
    """Tool results in call order; pictures sent are appended to ``sent``."""
    out: list[Message] = []
    found: list[SearchHit] = []
    for call in calls:
        if pictures is not None and call.name == TOOL_NAME:
            msg, att = pictures.run(call, turn_id)
            out.append(msg)
            if att is not None:
                sent.append(att)
            continue
        msgs, hits = recaller.tool_messages([call], exclude, turn_id)
        out.extend(msgs)
        found.extend(hits)
    return out, found
