"""Attachments on disk: images and documents in ``<data dir>/attachments/``.

Documents (PDF, Word .docx, Markdown, text, HTML) become text through
Microsoft's ``markitdown``. Everything is checked before anything is written:
an unsupported type, an oversized file or a document that cannot be read
raises ``AttachmentError`` and leaves no file behind.
"""

from __future__ import annotations

import base64
import codecs
import io
import uuid
from pathlib import Path
from typing import Any

from ..core.errors import DLError, msg
from ..core.models import Attachment

__all__ = [
    "DOCUMENT_TYPES",
    "IMAGE_TYPES",
    "MAX_BYTES",
    "AttachmentError",
    "AttachmentStore",
    "convert_document",
]

FOLDER = "attachments"
MAX_BYTES = 10 * 1024 * 1024  # one image or document
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "txt": "text/plain",
    "html": "text/html",
    "htm": "text/html",
}


def sniff_picture(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, WebP or GIF bytes (by their first bytes), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


class AttachmentError(DLError):
    """An attachment that cannot be used (type, size, unreadable document)."""


def _check_size(name: str, data: bytes) -> None:
    if not data:
        raise AttachmentError(msg("attach.empty", name=name))
    if len(data) > MAX_BYTES:
        raise AttachmentError(msg("attach.too_large", name=name, mb=len(data) / 1e6,
                                  limit=MAX_BYTES // (1024 * 1024)))


def _check_image(name: str, mime: str, data: bytes) -> None:
    if mime not in IMAGE_TYPES:
        raise AttachmentError(
            msg("attach.image_type", name=name, mime=mime or msg("attach.unknown_type"))
        )
    _check_size(name, data)
    if sniff_picture(data) != mime:
        raise AttachmentError(msg("attach.bad_image", name=name, kind=IMAGE_TYPES[mime].upper()))


def convert_document(path: Path, name: str | None = None) -> str:
    """The text of a document (Markdown), or ``AttachmentError``."""
    label = name or path.name
    ext = path.suffix.lower()
    try:
        from markitdown import StreamInfo

        # The format's own converter, chosen by the extension, never MarkItDown.convert:
        # it would read a damaged PDF or Word file as plain text, and it sniffs every
        # file with magika (an ONNX model), which the installed app does not ship
        # (build/stubs/magika). Text and HTML get their charset guessed as MarkItDown
        # guesses it (charset_normalizer), else HTML would be read as UTF-8.
        data = path.read_bytes()
        charset = _charset(data) if ext not in (".pdf", ".docx") else None
        info = StreamInfo(extension=ext, mimetype=DOCUMENT_TYPES.get(ext[1:]), charset=charset)
        text = _converter(ext).convert(io.BytesIO(data), info).text_content or ""
    except Exception as e:  # markitdown raises many kinds; all mean "unreadable"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise AttachmentError(msg("attach.unreadable", name=label, reason=reason[:200])) from e
    if not text.strip():
        raise AttachmentError(msg("attach.no_text", name=label))
    return text


def _converter(ext: str) -> Any:
    from markitdown.converters import (
        DocxConverter,
        HtmlConverter,
        PdfConverter,
        PlainTextConverter,
    )

    if ext == ".pdf":
        return PdfConverter()
    if ext == ".docx":
        return DocxConverter()
    if ext in (".html", ".htm"):
        return HtmlConverter()
    return PlainTextConverter()  # .md, .markdown, .txt (Markdown stays as written)


def _charset(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return codecs.lookup(best.encoding).name if best is not None else None


def decode_base64(name: str, data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except ValueError as e:
        raise AttachmentError(msg("attach.bad_base64", name=name)) from e


class AttachmentStore:
    """Files of attachments, named by attachment id, in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)

    def _write(self, att_id: str, ext: str, data: bytes) -> str:
        folder = self.root / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        rel = f"{FOLDER}/{att_id}.{ext}"
        (self.root / rel).write_bytes(data)
        return rel

    def save_image(self, name: str, mime: str, data: bytes) -> Attachment:
        _check_image(name, mime, data)
        att_id = str(uuid.uuid4())
        path = self._write(att_id, IMAGE_TYPES[mime], data)
        return Attachment(id=att_id, kind="image", name=name, mime=mime, path=path)

    def save_document(self, name: str, data: bytes) -> tuple[Attachment, str]:
        """Store a document and return it with its text; nothing stays on error."""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in DOCUMENT_TYPES:
            raise AttachmentError(msg("attach.doc_type", name=name))
        _check_size(name, data)
        att_id = str(uuid.uuid4())
        path = self._write(att_id, ext, data)
        try:
            text = convert_document(self.root / path, name)
        except AttachmentError:
            (self.root / path).unlink(missing_ok=True)
            raise
        att = Attachment(id=att_id, kind="file", name=name, mime=DOCUMENT_TYPES[ext], path=path)
        return att, text

    def remove(self, attachments: list[Attachment]) -> None:
        for a in attachments:
            if a.path:
                (self.root / a.path).unlink(missing_ok=True)

    def data_url(self, att: Attachment) -> str:
        path = self.file(att)
        return f"data:{att.mime};base64,{base64.b64encode(path.read_bytes()).decode()}"

    def file(self, att: Attachment) -> Path:
        """The attachment's file (refusing paths outside the attachments folder)."""
        folder = (self.root / FOLDER).resolve()
        path = (self.root / att.path).resolve()
        if path.parent != folder or not path.is_file():
            raise AttachmentError(msg("attach.missing", name=att.name))
        return path
