"""The avatar's bridge methods: models (bundled and imported), importing a model
folder, background pictures.
Storage: ``dl_app/avatar_store.py``; how the page gets the files: ``avatar_files.py``;
the page's side: ``frontend/js/avatar/``; contract: ``docs/avatar-voice.md``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .. import avatar_store
from ..adapters.documents import decode_base64
from ..core.emotion import TAG_PATTERN
from ..core.errors import msg
from ..notices import third_party_notices
from .context import Context
from .params import NoParams
from .registry import Methods

__all__ = ["methods"]

methods = Methods()

# base64 characters: the whole folder's limit, plus some room for JSON
_MAX_B64_TOTAL = avatar_store.MAX_TOTAL_BYTES * 4 // 3 + 64


class _FileParam(NoParams):
    path: str = Field(min_length=1, max_length=512)
    data_base64: str = Field(max_length=_MAX_B64_TOTAL)  # per-file limit: avatar_store


class ImportParams(NoParams):
    name: str = Field(default="", max_length=200)
    files: list[_FileParam] = Field(max_length=avatar_store.MAX_FILES)


class RemoveParams(NoParams):
    id: str = Field(min_length=1, max_length=80)


class BackgroundParams(NoParams):
    name: str = Field(default="picture", max_length=255)
    data_base64: str = Field(
        min_length=1, max_length=avatar_store.MAX_BACKGROUND_BYTES * 4 // 3 + 8
    )


@methods.expose(locked=False)
def avatar_models(ctx: Context, _p: NoParams) -> dict[str, Any]:
    bundled = [{**m, "name": avatar_store.bundled_name(m, ctx.lang()), "kind": "bundled"}
               for m in avatar_store.BUNDLED]
    return {
        "models": bundled + avatar_store.list_user_models(ctx.data_dir),
        "files_base": ctx.avatar_files().url_base(),
        "emotion_tag": TAG_PATTERN,
        "limits": {
            "files": avatar_store.MAX_FILES,
            "file_bytes": avatar_store.MAX_FILE_BYTES,
            "total_bytes": avatar_store.MAX_TOTAL_BYTES,
            "background_bytes": avatar_store.MAX_BACKGROUND_BYTES,
        },
    }


@methods.expose(ImportParams, locked=False)
def avatar_import(ctx: Context, p: ImportParams) -> dict[str, Any]:
    total = sum(len(f.data_base64) for f in p.files)
    if total > _MAX_B64_TOTAL:
        raise avatar_store.AvatarImportError(msg(
            "avatar.too_large_upload", limit=avatar_store.MAX_TOTAL_BYTES // 1_000_000))
    files = [
        avatar_store.ImportFile(f.path, decode_base64(f.path, f.data_base64))
        for f in p.files
    ]
    model = avatar_store.import_model(ctx.data_dir, p.name, files)
    return {"model": model}


@methods.expose(RemoveParams, locked=False)
def avatar_remove(ctx: Context, p: RemoveParams) -> dict[str, Any]:
    avatar_store.remove_model(ctx.data_dir, p.id)
    return {}


@methods.expose(BackgroundParams, locked=False)
def avatar_background(ctx: Context, p: BackgroundParams) -> dict[str, Any]:
    name = avatar_store.save_background(ctx.data_dir, decode_base64(p.name, p.data_base64))
    return {"background": name, "url": f"{ctx.avatar_files().url_base()}backgrounds/{name}"}


@methods.expose(locked=False)
def about_notices(ctx: Context, _p: NoParams) -> dict[str, Any]:
    """About → "Third-party notices": the licence of everything the app ships."""
    return {"text": third_party_notices()}

