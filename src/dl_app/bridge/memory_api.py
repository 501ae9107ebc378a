"""The memory pages' methods: names and self, the diary, import and export.
See ``docs/memory-pages-api.md``."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field, field_validator

from ..backup import open_blob
from ..core.errors import Text
from ..core.exchange import MAX_FILE_BYTES
from ..core.models import DiaryEntry, Message, Profile
from ..memory import ImportReport, Memory
from ..messages import render, say
from .context import Context
from .params import InvalidInput, NoParams
from .registry import Methods
from .views import follow_up

__all__ = ["DELETE_PHRASES", "methods", "preview_out", "report_out"]
DELETE_PHRASES = {"zh": "删除所有记忆", "en": "delete all memories"}
MAX_NAME = 100
MAX_ABOUT = 20_000
MAX_TITLE = 500
MAX_CONTENT = MAX_FILE_BYTES * 2  # characters of a file's text (encrypted: base64)


# -- parameters ------------------------------------------------------------


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be empty")
    return value


class ProfileFields(NoParams):
    self_name: str | None = Field(None, max_length=MAX_NAME)
    user_name: str | None = Field(None, max_length=MAX_NAME)
    memory_about_self: str | None = Field(None, max_length=MAX_ABOUT)
    memory_about_user: str | None = Field(None, max_length=MAX_ABOUT)

    _names = field_validator("self_name", "user_name")(_not_blank)


class ProfileSetParams(NoParams):
    profile: ProfileFields


class AtParams(NoParams):
    at: int


class PageParams(NoParams):
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=200)


SEARCH_QUOTE_TOKENS = 2000  # messages quoted by a Diary page search, all hits together


class SearchParams(NoParams):
    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(10, ge=1, le=50)
    # False: entries whose words match (a search box finds what contains the
    # words); True: also entries close in meaning only (the page's second step).
    meaning: bool = False


class UuidParams(NoParams):
    uuid: str = Field(min_length=1, max_length=256)


class IdParams(NoParams):
    id: str = Field(min_length=1, max_length=256)


class DiaryUpdateParams(UuidParams):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    summary: str = Field(min_length=1, max_length=MAX_ABOUT)

    _filled = field_validator("title", "summary")(_not_blank)


class ExportParams(NoParams):
    passphrase: str | None = Field(None, max_length=1024)


class ContentParams(NoParams):
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    passphrase: str | None = Field(None, max_length=1024)


class NameParams(NoParams):
    name: str = Field(min_length=1, max_length=255)


class PhraseParams(NoParams):
    phrase: str = Field(max_length=100)


# -- results -----------------------------------------------------------------


def profile_out(p: Profile) -> dict[str, str]:
    return p.model_dump(include={"self_name", "user_name", "memory_about_self",
                                 "memory_about_user"})


def entry_out(e: DiaryEntry) -> dict[str, Any]:
    return {"uuid": e.uuid, "title": e.title, "summary": e.summary,
            "start_time": e.start_time, "end_time": e.end_time}


def report_out(r: ImportReport, lang: str) -> dict[str, Any]:
    return {"entries": r.entries, "messages": r.messages, "archived": r.archived,
            "backup": r.backup.name if r.backup else None,
            "warnings": [render(w, lang) for w in r.warnings]}


methods = Methods()


# -- names and self


def _profile_view(mem: Memory) -> dict[str, Any]:
    history = mem.profile_history()
    return {
        "profile": profile_out(mem.profile()),
        "history": [{"at": at, "profile": profile_out(p)} for at, p in history],
    }


@methods.expose()
def memory_profile(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return _profile_view(ctx.mem())


@methods.expose(ProfileSetParams)
def memory_profile_set(ctx: Context, p: ProfileSetParams) -> dict[str, Any]:
    mem = ctx.mem()
    mem.set_profile(**p.profile.model_dump(exclude_none=True))
    return _profile_view(mem)


@methods.expose(AtParams)
def memory_profile_restore(ctx: Context, p: AtParams) -> dict[str, Any]:
    mem = ctx.mem()
    mem.restore_profile(p.at)
    return _profile_view(mem)


# -- diary


@methods.expose(PageParams, diary=True)
def diary_list(ctx: Context, p: PageParams) -> dict[str, Any]:
    page = ctx.mem().diary_page(p.offset, p.limit)
    return {
        "entries": [{**entry_out(e), "indexed": e.uuid not in page.unindexed}
                    for e in page.entries],
        "total": page.total,
    }


@methods.expose(SearchParams, diary=True)
def diary_search(ctx: Context, p: SearchParams) -> dict[str, Any]:
    """The recall search, each hit with the messages of its conversation that
    matched, best first (the page shows the first under the entry). Without
    ``meaning`` only entries whose words match: a nonsense query finds nothing
    (the vector ranking alone always finds something), and the page offers the
    search by meaning as a second step."""
    hits = ctx.mem().search_evidence(p.query, k=p.k, budget=SEARCH_QUOTE_TOKENS,
                                     text_only=not p.meaning)
    return {"meaning": p.meaning, "hits": [
        {**entry_out(h.entry), "score": h.score, "similarity": h.similarity,
         "text_match": h.text_match,
         "evidence": [{"id": ev.turn.id, "role": ev.turn.role, "text": ev.turn.text,
                       "timestamp": ev.turn.ts, "match": ev.match}
                      for ev in sorted(h.evidence, key=lambda ev: -ev.score) if ev.match]}
        for h in hits
    ]}


@methods.expose(UuidParams, diary=True)
def diary_get(ctx: Context, p: UuidParams) -> dict[str, Any]:
    mem = ctx.mem()
    entry = mem.diary_entry(p.uuid)
    messages = [
        {"id": m.id, "role": m.role, "content": m.content, "timestamp": m.timestamp}
        for m in mem.archived_messages(p.uuid)
        if _shown(m)
    ]
    return {"entry": entry_out(entry), "messages": messages,
            "follow_ups": [follow_up(f) for f in mem.follow_ups(p.uuid)]}


@methods.expose(DiaryUpdateParams)
def diary_update(ctx: Context, p: DiaryUpdateParams) -> dict[str, Any]:
    entry, warning = ctx.mem().update_diary_entry(p.uuid, p.title, p.summary)
    return {"entry": entry_out(entry), "warnings": [render(warning, ctx.lang())] if warning else []}


@methods.expose(UuidParams)
def diary_delete(ctx: Context, p: UuidParams) -> dict[str, Any]:
    ctx.mem().delete_diary_entry(p.uuid)
    return {}


@methods.expose(IdParams)
def diary_follow_up_delete(ctx: Context, p: IdParams) -> dict[str, Any]:
    ctx.mem().delete_follow_up(p.id)
    return {}


def _shown(m: Message) -> bool:
    """A message the entry shows: what was said, not the recall requests and results."""
    return m.role in ("user", "assistant") and bool(m.content)


@methods.expose(diary=True)
def diary_timeline(ctx: Context, _p: NoParams) -> dict[str, Any]:
    # The count is of the messages diary_get shows, so the timeline and the entry agree.
    mem = ctx.mem()
    return {"conversations": [
        {"uuid": e.uuid, "title": e.title, "start_time": e.start_time,
         "end_time": e.end_time,
         "messages": sum(1 for m in mem.archived_messages(e.uuid) if _shown(m))}
        for e, _n in mem.timeline()
    ]}


# -- import and export


@methods.expose(ExportParams)
def transfer_export(ctx: Context, p: ExportParams) -> dict[str, Any]:
    data = ctx.mem().export_bytes(p.passphrase or None)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if p.passphrase:
        return {"filename": f"digital-life-memory-{stamp}.json.enc",
                "content": data.decode("ascii"), "encrypted": True}
    return {"filename": f"digital-life-memory-{stamp}.json",
            "content": data.decode("utf-8"), "encrypted": False}


def preview_out(ctx: Context, raw: bytes, encrypted: bool,
                warnings: list[Text]) -> dict[str, Any]:
    """What importing ``raw`` brings, for ``transfer_preview`` and ``backup_preview``;
    warnings in the app's language."""
    preview = ctx.mem().preview_import(raw)
    more = preview.pop("warnings", [])
    shown = [render(w, ctx.lang()) for w in [*warnings, *more]]
    return {"preview": preview, "warnings": shown, "encrypted": encrypted}


@methods.expose(ContentParams)
def transfer_preview(ctx: Context, p: ContentParams) -> dict[str, Any]:
    opened = open_blob(p.content.encode("utf-8"), p.passphrase or "")
    return preview_out(ctx, opened.export, opened.encrypted, opened.warnings)


@methods.expose(ContentParams)
def transfer_import(ctx: Context, p: ContentParams) -> dict[str, Any]:
    opened = open_blob(p.content.encode("utf-8"), p.passphrase or "")
    report = ctx.mem().import_bytes(opened.export, ctx.progress("import"))
    return {"report": report_out(report, ctx.lang())}


@methods.expose()
def transfer_backups(ctx: Context, _p: NoParams) -> dict[str, Any]:
    return {"backups": ctx.mem().local_backups()}


@methods.expose(NameParams)
def transfer_restore_local(ctx: Context, p: NameParams) -> dict[str, Any]:
    report = ctx.mem().restore_local_backup(p.name, ctx.progress("import"))
    return {"report": report_out(report, ctx.lang())}


@methods.expose(PhraseParams)
def memory_delete_all(ctx: Context, p: PhraseParams) -> dict[str, Any]:
    mem = ctx.mem()
    # The phrase the asking page showed: in its language (a page in a browser may not
    # speak the app's until a language is chosen).
    lang = ctx.lang()
    expected = DELETE_PHRASES[lang]
    if p.phrase.strip() != expected:
        message = say(lang, "bridge.delete_phrase", phrase=expected)
        raise InvalidInput(message, [{"path": "phrase", "message": message}])
    backup = mem.delete_all()
    return {"backup": backup.name if backup else None}
