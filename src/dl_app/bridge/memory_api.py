"""The memory pages' methods: names and self, the diary, import and export.
See ``docs/memory-pages-api.md``. A mixin of ``Api`` (same plumbing: ``_run``,
``_mem``, ``_progress``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import Field, field_validator

from ..backup import open_blob
from ..core.exchange import MAX_FILE_BYTES
from ..core.models import DiaryEntry, Profile
from ..memory import ImportReport, Memory
from .params import InvalidInput, NoParams

__all__ = ["DELETE_PHRASES", "MEMORY_METHODS", "MemoryApi"]

MEMORY_METHODS = (
    "memory_profile", "memory_profile_set", "memory_profile_restore",
    "diary_list", "diary_search", "diary_get", "diary_update", "diary_delete", "diary_timeline",
    "transfer_export", "transfer_preview", "transfer_import", "transfer_backups",
    "transfer_restore_local", "memory_delete_all",
)
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


class SearchParams(NoParams):
    query: str = Field(min_length=1, max_length=10_000)
    k: int = Field(10, ge=1, le=50)


class UuidParams(NoParams):
    uuid: str = Field(min_length=1, max_length=256)


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


def report_out(r: ImportReport) -> dict[str, Any]:
    return {"entries": r.entries, "messages": r.messages, "archived": r.archived,
            "backup": r.backup.name if r.backup else None, "warnings": list(r.warnings)}


class MemoryApi:
    """The ``memory_*``, ``diary_*`` and ``transfer_*`` methods."""

    _run: Callable[..., dict[str, Any]]
    _mem: Callable[[], Memory]
    _progress: Callable[[str], Callable[[int, int], None]]

    # -- names and self

    def memory_profile(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, lambda _p: self._profile_view(self._mem()))

    @staticmethod
    def _profile_view(mem: Memory) -> dict[str, Any]:
        history = mem.profile_history()
        return {
            "profile": profile_out(mem.profile()),
            "history": [{"at": at, "profile": profile_out(p)} for at, p in history],
        }

    def memory_profile_set(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ProfileSetParams, self._profile_set)

    def _profile_set(self, p: ProfileSetParams) -> dict[str, Any]:
        mem = self._mem()
        mem.set_profile(**p.profile.model_dump(exclude_none=True))
        return self._profile_view(mem)

    def memory_profile_restore(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, AtParams, self._profile_restore)

    def _profile_restore(self, p: AtParams) -> dict[str, Any]:
        mem = self._mem()
        mem.restore_profile(p.at)
        return self._profile_view(mem)

    # -- diary

    def diary_list(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, PageParams, self._diary_list)

    def _diary_list(self, p: PageParams) -> dict[str, Any]:
        page = self._mem().diary_page(p.offset, p.limit)
        return {
            "entries": [{**entry_out(e), "indexed": e.uuid not in page.unindexed}
                        for e in page.entries],
            "total": page.total,
        }

    def diary_search(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, SearchParams, self._diary_search)

    def _diary_search(self, p: SearchParams) -> dict[str, Any]:
        hits = self._mem().search(p.query, k=p.k)
        return {"hits": [
            {**entry_out(h.entry), "score": h.score, "similarity": h.similarity,
             "text_match": h.text_match}
            for h in hits
        ]}

    def diary_get(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, UuidParams, self._diary_get)

    def _diary_get(self, p: UuidParams) -> dict[str, Any]:
        mem = self._mem()
        entry = mem.diary_entry(p.uuid)
        messages = [
            {"role": m.role, "content": m.content, "timestamp": m.timestamp}
            for m in mem.archived_messages(p.uuid)
            if m.role in ("user", "assistant") and m.content
        ]
        return {"entry": entry_out(entry), "messages": messages}

    def diary_update(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, DiaryUpdateParams, self._diary_update)

    def _diary_update(self, p: DiaryUpdateParams) -> dict[str, Any]:
        entry, warning = self._mem().update_diary_entry(p.uuid, p.title, p.summary)
        return {"entry": entry_out(entry), "warnings": [warning] if warning else []}

    def diary_delete(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, UuidParams, self._diary_delete)

    def _diary_delete(self, p: UuidParams) -> dict[str, Any]:
        self._mem().delete_diary_entry(p.uuid)
        return {}

    def diary_timeline(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._diary_timeline)

    def _diary_timeline(self, _p: NoParams) -> dict[str, Any]:
        return {"conversations": [
            {"uuid": e.uuid, "title": e.title, "start_time": e.start_time,
             "end_time": e.end_time, "messages": n}
            for e, n in self._mem().timeline()
        ]}

    # -- import and export

    def transfer_export(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ExportParams, self._transfer_export)

    def _transfer_export(self, p: ExportParams) -> dict[str, Any]:
        data = self._mem().export_bytes(p.passphrase or None)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        if p.passphrase:
            return {"filename": f"digital-life-memory-{stamp}.json.enc",
                    "content": data.decode("ascii"), "encrypted": True}
        return {"filename": f"digital-life-memory-{stamp}.json",
                "content": data.decode("utf-8"), "encrypted": False}

    def transfer_preview(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ContentParams, self._transfer_preview)

    def _transfer_preview(self, p: ContentParams) -> dict[str, Any]:
        opened = open_blob(p.content.encode("utf-8"), p.passphrase or "")
        return self._preview(self._mem(), opened.export, opened.encrypted, opened.warnings)

    @staticmethod
    def _preview(mem: Memory, raw: bytes, encrypted: bool, warnings: list[str]) -> dict[str, Any]:
        preview = mem.preview_import(raw)
        more = preview.pop("warnings", [])
        return {"preview": preview, "warnings": [*warnings, *more], "encrypted": encrypted}

    def transfer_import(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ContentParams, self._transfer_import)

    def _transfer_import(self, p: ContentParams) -> dict[str, Any]:
        opened = open_blob(p.content.encode("utf-8"), p.passphrase or "")
        report = self._mem().import_bytes(opened.export, self._progress("import"))
        return {"report": report_out(report)}

    def transfer_backups(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, lambda _p: {"backups": self._mem().local_backups()})

    def transfer_restore_local(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NameParams, self._restore_local)

    def _restore_local(self, p: NameParams) -> dict[str, Any]:
        report = self._mem().restore_local_backup(p.name, self._progress("import"))
        return {"report": report_out(report)}

    def memory_delete_all(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, PhraseParams, self._delete_all)

    def _delete_all(self, p: PhraseParams) -> dict[str, Any]:
        mem = self._mem()
        expected = DELETE_PHRASES[mem.lang]
        if p.phrase.strip() != expected:
            message = f"To delete all memories, type exactly: {expected}"
            raise InvalidInput(message, [{"path": "phrase", "message": message}])
        backup = mem.delete_all()
        return {"backup": backup.name if backup else None}
