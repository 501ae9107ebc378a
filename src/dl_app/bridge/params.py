"""Parameters of the bridge methods (pydantic, extra keys refused) and error results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ..adapters.secrets import SECRET_NAMES
from ..core.errors import DLError, Text
from ..messages import error_text, render, say
from .problems import custom, problems, summary

__all__ = [
    "AttachmentParams",
    "ChatParams",
    "ConnectionParams",
    "InvalidInput",
    "NoParams",
    "PatchParams",
    "PreviewParams",
    "RebuildParams",
    "SecretNameParams",
    "SecretSetParams",
    "TextParams",
    "failure",
    "invalid",
]

MAX_TEXT = 100_000  # characters of one message
MAX_BASE64 = 14_000_000  # characters: a 10 MB file in base64
MAX_ATTACHMENTS = 4  # images, and documents, per message


class InvalidInput(DLError):
    """Bad parameters from the page; ``fields`` lists ``{path, message}``."""

    def __init__(self, message: str | Text, fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []


# -- parameters ------------------------------------------------------------


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ImageParam(NoParams):
    name: str = Field(default="image", max_length=255)
    mime: str = Field(max_length=100)
    data_base64: str = Field(min_length=1, max_length=MAX_BASE64)


class FileParam(NoParams):
    name: str = Field(min_length=1, max_length=255)
    mime: str = Field(default="", max_length=200)
    data_base64: str = Field(min_length=1, max_length=MAX_BASE64)


class TurnParams(NoParams):
    """``turn``: the page's id for the turn, so ``chat_stop`` can name it."""

    turn: str = Field(default="", max_length=100)


class EditParams(TurnParams):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class ChatParams(TurnParams):
    # Attachments first: ``text`` may be empty only when there are some.
    images: list[ImageParam] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    files: list[FileParam] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    text: str = Field(default="", max_length=MAX_TEXT, validate_default=True)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip() and not info.data.get("images") and not info.data.get("files"):
            raise custom("empty_message", "the message is empty")
        return value


class AttachmentParams(NoParams):
    id: str = Field(min_length=1, max_length=100)


class TextParams(NoParams):
    text: str = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise custom("empty_message", "the message is empty")
        return value


class PreviewParams(NoParams):
    text: str = Field("", max_length=MAX_TEXT)


class PatchParams(NoParams):
    patch: dict[str, Any]


class SecretNameParams(NoParams):
    name: str

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in SECRET_NAMES:
            raise custom("unknown_secret", "unknown secret; expected one of {expected}",
                         expected=", ".join(SECRET_NAMES))
        return value


class SecretSetParams(SecretNameParams):
    value: str = Field(min_length=1, max_length=4096)


class ConnectionParams(NoParams):
    kind: Literal["llm", "embed"]
    base_url: str | None = None  # test these instead of the saved settings
    model: str | None = None


class RebuildParams(NoParams):
    everything: bool = Field(False, alias="all")


def invalid(error: ValidationError, what: str, prefix: str = "") -> InvalidInput:
    """``error`` as ``InvalidInput`` in words (``what``: ``settings`` or ``parameters``)."""
    fields = problems(error, what, prefix)
    return InvalidInput(summary(fields, what), fields)


def failure(error: BaseException, lang: str = "en") -> dict[str, Any]:
    """``{ok: false, error: {type, message}}``: the type for code, the message in ``lang``."""
    if isinstance(error, DLError):
        body: dict[str, Any] = {"type": type(error).__name__, "message": error_text(error, lang)}
        if isinstance(error, InvalidInput) and error.fields:
            body["fields"] = [{**f, "message": render(f["message"], lang)} for f in error.fields]
    else:
        body = {"type": "InternalError", "message": say(lang, "error.internal", error=error)}
    return {"ok": False, "error": body}
