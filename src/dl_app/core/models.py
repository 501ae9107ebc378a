"""Data models of the memory: messages, diary entries, the whole memory.

Times are integer milliseconds since the Unix epoch (as in the original app's
export format). Every message has its own id (the original joined caches on
timestamps, which collided).
"""

from __future__ import annotations

import uuid as _uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant", "tool"]


def new_id() -> str:
    """A fresh random id (uuid4, canonical text form)."""
    return str(_uuid.uuid4())


class ToolCall(BaseModel):
    """One function call requested by the model (OpenAI shape, flattened)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    arguments: str = ""


class Recall(BaseModel):
    """One diary entry brought back by a recall, attached to a tool message."""

    model_config = ConfigDict(extra="forbid")

    uuid: str
    similarity: float = 0.0
    desc: str = ""
    messages: list[str] = Field(default_factory=list)  # archived messages quoted


class Attachment(BaseModel):
    """An image or document sent with a message.

    The file lives in the data dir at ``path`` (relative, e.g.
    ``attachments/<id>.png``). ``description`` is the text older turns carry
    instead of the file (a note such as "this model cannot see images");
    ``tokens`` is the size of a document's text (0 for images).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id)
    kind: Literal["image", "file"]
    name: str
    mime: str = ""
    path: str = ""
    description: str = ""
    tokens: int = 0


class Message(BaseModel):
    """One message of a conversation.

    ``turn_id`` groups a user message with everything answering it (tool calls,
    tool results, the reply): the context window trims whole turns only.
    ``stopped``: the user stopped the reply while it streamed; the model later
    sees it with a note saying so.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id)
    role: Role
    content: str = ""
    timestamp: int
    turn_id: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    recall: list[Recall] = Field(default_factory=list)
    reasoning: str = ""
    attachments: list[Attachment] = Field(default_factory=list)
    stopped: bool = False  # a reply the user stopped mid-way: kept as what was said
    cut_off: bool = False  # a reply that reached its token limit (finish_reason "length")


class ArchivedMessage(Message):
    """A message of a finished conversation, linked to its diary entry."""

    belong_to: str


class DiaryEntry(BaseModel):
    """One long-term memory: what a finished conversation meant."""

    model_config = ConfigDict(extra="forbid")

    uuid: str = Field(default_factory=new_id)
    title: str
    summary: str
    start_time: int
    end_time: int
    source_ids: list[str] = Field(default_factory=list)


class SearchHit(BaseModel):
    """A diary entry found by search, with how it matched.

    ``score`` is the fused rank score (higher is better, comparable only within
    one search). ``similarity`` is the cosine similarity of the vector match
    (None when the entry had no usable vector); ``text_match`` tells whether
    full-text search found it.
    """

    model_config = ConfigDict(extra="forbid")

    entry: DiaryEntry
    score: float
    similarity: float | None = None
    text_match: bool = False


class Profile(BaseModel):
    """Who the two of them are: names, self-concept, user profile."""

    model_config = ConfigDict(extra="forbid")

    self_name: str
    user_name: str
    memory_about_self: str
    memory_about_user: str


class FollowUp(BaseModel):
    """Something the user said will happen at a time ("周五考试"), noted when the
    conversation became the diary entry ``entry``: ``what`` in the user's words,
    ``when`` a local ISO date or ``first/last`` days; ``asked_at`` when the
    companion checked in about it (``message_id`` the check-in; "" if nothing
    was shown), None while it has not."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id)
    entry: str = ""
    what: str
    when: str
    asked_at: int | None = None
    message_id: str = ""


class MemorySnapshot(BaseModel):
    """The whole memory, as exported and imported.

    ``vectors`` maps diary uuid to an embedding carried by an import file (the
    original app stored one per entry); it is informational: vectors are
    recomputed with the configured embedder.
    """

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    current_summary: str = ""
    conversation: list[Message] = Field(default_factory=list)
    archive: list[ArchivedMessage] = Field(default_factory=list)
    diary: list[DiaryEntry] = Field(default_factory=list)
    vectors: dict[str, list[float]] = Field(default_factory=dict)
    follow_ups: list[FollowUp] = Field(default_factory=list)


class ConversationState(BaseModel):
    """Everything the state store holds about the current conversation.

    ``folded_count`` leading messages are already merged into ``summary``;
    the rest are "unsummarised" and must reach every request (or be folded
    first). ``recalled`` lists diary entries recalled in this conversation, in
    recall order, so they are never returned twice.
    """

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    summary: str = ""
    folded_count: int = 0
    messages: list[Message] = Field(default_factory=list)
    recalled: list[DiaryEntry] = Field(default_factory=list)


class TurnSnapshot(BaseModel):
    """The conversation as it was before its last turn (``turn_id``): the
    summary, the folded position, the recalled entries (uuids, in order) and how
    many messages there were. Regenerating or editing that turn puts it back
    exactly, even when the turn folded the conversation."""

    model_config = ConfigDict(extra="forbid")

    turn_id: str
    summary: str = ""
    folded_count: int = 0
    message_count: int = 0
    recalled: list[str] = Field(default_factory=list)


class PendingConsolidation(BaseModel):
    """A diary entry computed but not yet fully written (crash recovery)."""

    model_config = ConfigDict(extra="forbid")

    entry: DiaryEntry
    vector: list[float] | None = None
    embed_model: str = ""
    memory_about_self: str
    memory_about_user: str
    message_ids: list[str]
    follow_ups: list[FollowUp] = Field(default_factory=list)
