"""The avatar's bridge methods: models (bundled and imported), importing a model
folder, background pictures. A mixin of ``Api`` (same plumbing: ``_run``).
Storage: ``dl_app/avatar_store.py``; how the page gets the files: ``avatar_files.py``;
the page's side: ``frontend/js/avatar/``; contract: ``docs/avatar-voice.md``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pydantic import Field

from .. import avatar_store
from ..adapters.documents import decode_base64
from .avatar_files import AvatarFiles
from .params import NoParams

__all__ = ["AVATAR_METHODS", "AvatarApi"]

AVATAR_METHODS = ("avatar_models", "avatar_import", "avatar_remove", "avatar_background")

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


_files_lock = threading.Lock()


class AvatarApi:
    _run: Any
    _data_dir: Path

    def _avatar_files(self) -> AvatarFiles:
        """The file routes for imported models and backgrounds (made on first use)."""
        with _files_lock:
            files: AvatarFiles | None = getattr(self, "_avatar_files_obj", None)
            if files is None:
                files = AvatarFiles(self._data_dir)
                self._avatar_files_obj = files
            return files

    def avatar_file(self, path: str) -> Path | None:
        """``/<token>/<rel>`` -> the file to serve, or None (for ``dl-app serve``)."""
        return self._avatar_files().lookup(path)

    avatar_file._serializable = False  # type: ignore[attr-defined]

    def avatar_models(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._avatar_models, locked=False)

    def _avatar_models(self, _p: NoParams) -> dict[str, Any]:
        bundled = [{**m, "kind": "bundled"} for m in avatar_store.BUNDLED]
        return {
            "models": bundled + avatar_store.list_user_models(self._data_dir),
            "files_base": self._avatar_files().url_base(),
            "limits": {
                "files": avatar_store.MAX_FILES,
                "file_bytes": avatar_store.MAX_FILE_BYTES,
                "total_bytes": avatar_store.MAX_TOTAL_BYTES,
                "background_bytes": avatar_store.MAX_BACKGROUND_BYTES,
            },
        }

    def avatar_import(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ImportParams, self._avatar_import, locked=False)

    def _avatar_import(self, p: ImportParams) -> dict[str, Any]:
        total = sum(len(f.data_base64) for f in p.files)
        if total > _MAX_B64_TOTAL:
            raise avatar_store.AvatarImportError(
                f"The model is too large (at most "
                f"{avatar_store.MAX_TOTAL_BYTES // 1_000_000} MB)."
            )
        files = [
            avatar_store.ImportFile(f.path, decode_base64(f.path, f.data_base64))
            for f in p.files
        ]
        model = avatar_store.import_model(self._data_dir, p.name, files)
        return {"model": model}

    def avatar_remove(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, RemoveParams, self._avatar_remove, locked=False)

    def _avatar_remove(self, p: RemoveParams) -> dict[str, Any]:
        avatar_store.remove_model(self._data_dir, p.id)
        return {}

    def avatar_background(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, BackgroundParams, self._avatar_background, locked=False)

    def _avatar_background(self, p: BackgroundParams) -> dict[str, Any]:
        name = avatar_store.save_background(self._data_dir, decode_base64(p.name, p.data_base64))
        return {"background": name, "url": f"{self._avatar_files().url_base()}backgrounds/{name}"}
