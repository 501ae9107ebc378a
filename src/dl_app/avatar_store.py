"""Imported avatar models and background pictures in the data dir.

    <data dir>/avatars/<id>/...          the files of one imported model folder
    <data dir>/avatars/<id>.meta.json    {"name", "entry", "cubism", "imported_at"}
    <data dir>/backgrounds/bg-<hash>.<ext>

An import is checked before anything is written: relative paths inside the folder
only (no ``..``, no absolute paths, no drive letters), known file types only (others,
e.g. PSD or cmo3 sources, are skipped and reported), size limits, a Cubism 2
``*.model.json``/``model.json`` or Cubism 3/4 ``*.model3.json`` whose moc and textures
are in the folder. The files go to a temporary folder that is renamed into place, so
a failed import leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .adapters.documents import IMAGE_TYPES, sniff_picture
from .core.errors import DLError
from .fsutil import atomic_write_bytes, atomic_write_text
from .messages import catalogue, msg, os_reason, say

__all__ = [
    "BUNDLED",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "AvatarImportError",
    "ImportFile",
    "bundled_name",
    "import_model",
    "list_user_models",
    "remove_model",
    "save_background",
]

MAX_FILES = 1000
MAX_FILE_BYTES = 30_000_000  # one file
MAX_TOTAL_BYTES = 45_000_000  # the whole folder (fits one 64 MB request in base64)
MAX_BACKGROUND_BYTES = 15_000_000
ALLOWED_SUFFIXES = frozenset({
    ".json", ".moc", ".moc3", ".mtn", ".png", ".jpg", ".jpeg", ".webp",
    ".mp3", ".wav", ".ogg", ".txt", ".md",
})

# Bundled models (frontend/models/, see LICENSES.md there); "svg" is the built-in
# licence-free avatar drawn by the page.
BUNDLED: tuple[dict[str, str], ...] = (
    {"id": "haru", "name": "Haru", "url": "models/haru/haru_greeter_t03.model3.json",
     "cubism": "4", "map": "models/haru/avatar.json"},
    {"id": "shizuku", "name": "Shizuku", "url": "models/shizuku/shizuku.model.json",
     "cubism": "2", "map": "models/shizuku/avatar.json"},
    {"id": "hijiki", "name": "Hijiki", "url": "models/hijiki/hijiki.model.json",
     "cubism": "2", "map": "models/hijiki/avatar.json"},
    {"id": "svg", "name": "Simple (built-in)", "url": "", "cubism": "", "map": ""},
)



def bundled_name(model: dict[str, str], lang: str) -> str:
    """A bundled model's name for people: the catalogue's ``avatar.<id>`` in ``lang``
    (the drawn avatar), else its own name (Haru, Shizuku, Hijiki)."""
    key = f"avatar.{model['id']}"
    return say(lang, key) if key in catalogue("en") else model["name"]


_ID = re.compile(r"^u-[a-z0-9-]{1,40}-[a-f0-9]{6}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


class AvatarImportError(DLError):
    """A model folder or a picture that cannot be imported (the message says why)."""


@dataclass(frozen=True)
class ImportFile:
    path: str
    data: bytes


def _clean_path(raw: str) -> PurePosixPath | None:
    """The relative path, or None for files to skip (hidden). Raises on traversal."""
    if "\x00" in raw or "\\" in raw or raw.startswith("/") or _DRIVE.match(raw):
        raise AvatarImportError(msg("avatar.outside", path=raw))
    parts = raw.split("/")
    if any(p in ("..", ".") for p in parts) or any(not p for p in parts):
        raise AvatarImportError(msg("avatar.outside", path=raw))
    if any(p.startswith(".") for p in parts):
        return None
    return PurePosixPath(raw)


def _strip_common_root(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    """A picked folder's files come as ``Folder/...``: drop that shared first part."""
    if paths and all(len(p.parts) > 1 for p in paths):
        first = {p.parts[0] for p in paths}
        if len(first) == 1:
            return [PurePosixPath(*p.parts[1:]) for p in paths]
    return paths


def _entry_kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(".model3.json"):
        return "3"
    if low == "model.json" or low.endswith(".model.json"):
        return "2"
    return None


def _referenced(cubism: str, spec: dict[str, Any]) -> list[str]:
    """The files a model JSON needs to render (moc and textures)."""
    if cubism == "3":
        refs = spec.get("FileReferences")
        if not isinstance(refs, dict) or not isinstance(refs.get("Moc"), str):
            raise AvatarImportError(msg("avatar.no_moc3"))
        textures = refs.get("Textures") or []
        return [refs["Moc"], *[t for t in textures if isinstance(t, str)]]
    if not isinstance(spec.get("model"), str):
        raise AvatarImportError(msg("avatar.no_moc2"))
    textures = spec.get("textures") or []
    return [spec["model"], *[t for t in textures if isinstance(t, str)]]


def _outside_refs(value: Any) -> str | None:
    """The first string in a model JSON that points outside the folder (a URL, an
    absolute path or ``..``), or None. pixi would fetch such a reference as is."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _outside_refs(item)
            if found is not None:
                return found
        return None
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    if "://" in low or low.startswith(("data:", "javascript:", "blob:", "/", "\\")):
        return value
    if ("/" in value or "\\" in value) and ".." in re.split(r"[\\/]", value):
        return value
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return slug or "model"


def import_model(data_dir: Path, name: str, files: list[ImportFile]) -> dict[str, Any]:
    """Check and store a model folder; returns its listing entry plus ``skipped``."""
    if not files:
        raise AvatarImportError(msg("avatar.empty_folder"))
    if len(files) > MAX_FILES:
        raise AvatarImportError(msg("avatar.too_many", n=len(files), limit=MAX_FILES))
    kept: list[tuple[PurePosixPath, bytes]] = []
    skipped: list[str] = []
    for f in files:
        path = _clean_path(f.path)
        if path is None or path.suffix.lower() not in ALLOWED_SUFFIXES:
            skipped.append(f.path)
            continue
        if len(f.data) > MAX_FILE_BYTES:
            raise AvatarImportError(msg(
                "avatar.file_too_large", path=f.path, mb=len(f.data) // 1_000_000,
                limit=MAX_FILE_BYTES // 1_000_000))
        kept.append((path, f.data))
    total = sum(len(d) for _, d in kept)
    if total > MAX_TOTAL_BYTES:
        raise AvatarImportError(msg("avatar.too_large", mb=total // 1_000_000,
                                    limit=MAX_TOTAL_BYTES // 1_000_000))
    paths = _strip_common_root([p for p, _ in kept])
    by_path = {str(p): d for p, (_, d) in zip(paths, kept, strict=True)}
    if len(by_path) != len(kept):
        raise AvatarImportError(msg("avatar.twice"))
    entries = sorted(
        (p for p in by_path if _entry_kind(PurePosixPath(p).name)),
        key=lambda p: (p.count("/"), p),
    )
    if not entries:
        raise AvatarImportError(msg("avatar.no_entry"))
    entry = entries[0]
    cubism = _entry_kind(PurePosixPath(entry).name) or "2"
    try:
        spec = json.loads(by_path[entry].decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AvatarImportError(msg("avatar.bad_json", path=entry, error=str(e))) from e
    if not isinstance(spec, dict):
        raise AvatarImportError(msg("avatar.not_object", path=entry))
    outside = _outside_refs(spec)
    if outside is not None:
        raise AvatarImportError(msg("avatar.points_outside", path=entry, ref=outside[:80]))
    base = PurePosixPath(entry).parent
    for ref in _referenced(cubism, spec):
        target = _clean_path(str(base / ref)) if not ref.startswith("/") else None
        if target is None or str(target) not in by_path:
            raise AvatarImportError(msg("avatar.needs", path=entry, ref=ref))
    model_id = f"u-{_slug(name)}-{secrets.token_hex(3)}"
    root = Path(data_dir) / "avatars"
    tmp = root / f".tmp-{model_id}"
    try:
        for rel, data in by_path.items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        tmp.rename(root / model_id)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AvatarImportError(msg("avatar.cannot_store", error=os_reason(e))) from e
    meta = {"name": name.strip()[:80] or model_id, "entry": entry,
            "cubism": "4" if cubism == "3" else "2", "imported_at": int(time.time())}
    atomic_write_text(root / f"{model_id}.meta.json", json.dumps(meta, ensure_ascii=False))
    return {**_listing(model_id, meta), "skipped": skipped, "bytes": total}


def _listing(model_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"id": model_id, "name": str(meta.get("name") or model_id), "kind": "user",
            "path": f"avatars/{model_id}/{meta['entry']}", "cubism": str(meta.get("cubism", ""))}


def list_user_models(data_dir: Path) -> list[dict[str, Any]]:
    root = Path(data_dir) / "avatars"
    out: list[dict[str, Any]] = []
    if not root.is_dir():
        return out
    for meta_path in sorted(root.glob("u-*.meta.json")):
        model_id = meta_path.name.removesuffix(".meta.json")
        if not _ID.match(model_id) or not (root / model_id).is_dir():
            continue
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            out.append(_listing(model_id, meta))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged entry is left out, not fatal
    return out


def remove_model(data_dir: Path, model_id: str) -> None:
    if not _ID.match(model_id):
        raise AvatarImportError(msg("avatar.no_model", id=model_id))
    root = Path(data_dir) / "avatars"
    if not (root / model_id).is_dir():
        raise AvatarImportError(msg("avatar.no_model", id=model_id))
    shutil.rmtree(root / model_id)
    (root / f"{model_id}.meta.json").unlink(missing_ok=True)


def save_background(data_dir: Path, data: bytes) -> str:
    """Store a background picture (PNG, JPEG, WebP or GIF by its bytes); returns its
    file name for the settings (``bg-<hash>.<ext>``)."""
    if not data:
        raise AvatarImportError(msg("avatar.picture_empty"))
    if len(data) > MAX_BACKGROUND_BYTES:
        raise AvatarImportError(
            msg("avatar.picture_too_large", limit=MAX_BACKGROUND_BYTES // 1_000_000)
        )
    ext = IMAGE_TYPES.get(sniff_picture(data) or "")
    if ext is None:
        raise AvatarImportError(msg("avatar.not_picture"))
    name = f"bg-{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
    path = Path(data_dir) / "backgrounds" / name
    if not path.exists():
        atomic_write_bytes(path, data)
    return name
