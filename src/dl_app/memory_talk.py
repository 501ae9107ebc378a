"""``Memory``'s talking: one turn (``send``), regenerating the last reply, editing
the last user message and sending it again, and the current conversation's
attachments. A part of ``Memory`` (its base class); use it through ``Memory``.

A turn is all-or-nothing, and so is a turn that replaces the last one: it
starts from the conversation exactly as it was before that turn (summary,
folded position, recalled entries, messages) and replaces it only once the new
reply is complete. ``stop`` (a ``threading.Event``) stops a reply while it
streams: what it had said is kept, marked stopped; nothing if it had said
nothing yet (``Stopped``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .adapters.documents import AttachmentStore, convert_document
from .core.engine import DeltaFn, EventFn, TurnResult
from .core.errors import ContextOverflow, NotFound, msg
from .core.models import Attachment
from .core.ports import ChatDelta
from .core.rewind import last_user_message

if TYPE_CHECKING:
    from .core.engine import MemoryEngine
    from .wiring import App

__all__ = ["Talking", "TextFit"]


class TextFit(NamedTuple):
    tokens: int  # the text's tokens
    cut: bool  # sent as a message, the request would cut it (keeping head and tail)
    as_file: int  # tokens of it the model sees at most when it is an attached text


class Talking:
    _app: App
    _engine: MemoryEngine

    def send(
        self,
        text: str,
        on_delta: DeltaFn | None = None,
        on_event: EventFn | None = None,
        *,
        images: Sequence[tuple[str, str, bytes]] = (),
        files: Sequence[tuple[str, bytes]] = (),
        stop: threading.Event | None = None,
    ) -> TurnResult:
        """One turn. ``images`` are ``(name, mime, bytes)``, ``files`` are
        ``(name, bytes)`` documents. Attachments are checked and converted
        first (``AttachmentError``: nothing changes), stored in
        ``<data dir>/attachments/``, and removed again if the turn fails. A
        request the service refuses as too long is sent once more, shorter."""
        store = AttachmentStore(self._app.data_dir)
        saved: list[Attachment] = []
        urls: dict[str, str] = {}
        docs: dict[str, str] = {}
        try:
            for name, mime, data in images:
                att = store.save_image(name, mime, data)
                saved.append(att)
                urls[att.id] = store.data_url(att)
            for name, data in files:
                att, text_of = store.save_document(name, data)
                saved.append(att)
                docs[att.id] = text_of
            return self._turn(text, on_delta, on_event, saved, urls, docs, stop, replace=False)
        except BaseException:
            store.remove(saved)
            raise

    def regenerate(
        self,
        on_delta: DeltaFn | None = None,
        on_event: EventFn | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> TurnResult:
        """Answer the last user message again, in place of the last reply
        (``NotFound`` when there is no last turn to redo)."""
        return self.edit_last(None, on_delta, on_event, stop=stop)

    def edit_last(
        self,
        text: str | None,
        on_delta: DeltaFn | None = None,
        on_event: EventFn | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> TurnResult:
        """Replace the last user message's text with ``text`` (None: keep it;
        its attachments stay) and answer it, in place of the last turn."""
        with self._engine.lock:
            state = self._app.state.load()
            user = last_user_message(state, self._app.state.last_turn())
            store = AttachmentStore(self._app.data_dir)
            urls: dict[str, str] = {}
            docs: dict[str, str] = {}
            for a in user.attachments:
                path = store.file(a)
                if a.kind == "image":
                    urls[a.id] = store.data_url(a)
                else:
                    docs[a.id] = convert_document(path, a.name)
            return self._turn(
                user.content if text is None else text, on_delta, on_event,
                list(user.attachments), urls, docs, stop, replace=True,
            )

    def _turn(
        self,
        text: str,
        on_delta: DeltaFn | None,
        on_event: EventFn | None,
        attachments: list[Attachment],
        urls: Mapping[str, str],
        docs: Mapping[str, str],
        stop: threading.Event | None,
        *,
        replace: bool,
    ) -> TurnResult:
        shown = False

        def delta(d: ChatDelta) -> None:
            nonlocal shown
            shown = True
            if on_delta is not None:
                on_delta(d)

        def run(fn: DeltaFn | None) -> TurnResult:
            return self._engine.send(
                text, on_delta=fn, on_event=on_event, attachments=attachments,
                image_urls=urls, documents=docs, stop=stop, replace_last=replace,
            )

        try:
            return run(delta)
        except ContextOverflow:
            if shown:  # part of a reply is on screen: the user sends again
                raise
        # Nothing was stored and the token factor has risen: once more, shorter.
        return run(on_delta)

    def text_fit(self, text: str) -> TextFit:
        """How much of ``text`` the model would see: sent as the next message
        (whether the request would have to cut it), or attached as a text file
        (at most the budget's ``document_cap`` of it, the parts most relevant
        to the message)."""
        plan = self._engine.preview(text)
        tokens = self._engine.counter.count(text)
        cap = self._engine.config.budget.document_cap
        return TextFit(tokens, plan.current_truncated, min(tokens, cap))

    def can_regenerate(self) -> bool:
        """The conversation has a last turn that ``regenerate``/``edit_last`` can redo."""
        try:
            last_user_message(self._app.state.load(), self._app.state.last_turn())
        except NotFound:
            return False
        return True

    def attachment(self, att_id: str) -> tuple[Attachment, Path]:
        """An attachment of the current conversation and its file."""
        for m in self._app.state.load().messages:
            for a in m.attachments:
                if a.id == att_id:
                    return a, AttachmentStore(self._app.data_dir).file(a)
        raise NotFound(msg("memory.no_attachment"))
