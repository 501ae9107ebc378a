"""Backups of the memory to an S3 bucket, and opening exported or backed-up files.

    service = BackupService(settings.backup, SecretStore(data_dir))
    body, encrypted = service.make_body(mem.export_dict(), settings)
    obj = service.upload(body, encrypted, progress)    # a new object, never overwrites
    for o in service.list(): ...                       # newest first
    opened = service.fetch(obj.key, progress)          # checksum checked, decrypted
    mem.import_bytes(opened.export, progress)          # backs up the local memory first

An object is ``<prefix>memory-<UTC yyyymmddThhmmssZ>.json`` (``.json.enc`` when
encrypted): our export format plus a ``settings`` object (``Settings`` holds no
secrets; keys live in the secret store). Its metadata carries the body's
``sha256``, checked before anything is restored. Nothing local changes until a
download is complete, verified, decrypted and validated.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__, crypto
from .adapters.secrets import SecretStore
from .core.errors import ImportFailed, NotFound, PassphraseRequired, Text, msg
from .core.exchange import MAX_FILE_BYTES, load_export_bytes
from .settings import BackupSettings, Settings, SettingsError

if TYPE_CHECKING:
    from .adapters.s3_store import ObjectInfo, S3Store

__all__ = ["BackupObject", "BackupService", "Opened", "open_blob", "throttled"]

ProgressFn = Callable[[int, int], None]
KEY_RE = re.compile(r"memory-(\d{8}T\d{6}Z)(-\d+)?\.json(\.enc)?")
MAX_OBJECT_BYTES = MAX_FILE_BYTES * 2  # an encrypted body is base64: 4/3 of the export


@dataclass(frozen=True)
class BackupObject:
    key: str
    at: int
    size: int
    encrypted: bool
    sha256: str = ""

    def as_dict(self, *, with_sha: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "at": self.at, "size": self.size,
                               "encrypted": self.encrypted}
        if with_sha:
            out["sha256"] = self.sha256
        return out


@dataclass
class Opened:
    """A file or backup made ready for ``Memory.preview_import``/``import_bytes``."""

    export: bytes
    settings: dict[str, Any] | None
    encrypted: bool
    warnings: list[Text] = field(default_factory=list)


def open_blob(raw: bytes, passphrase: str = "") -> Opened:
    """Decrypt ``raw`` if it is encrypted, then split off a backup's ``settings``.

    ``PassphraseRequired`` when it is encrypted and ``passphrase`` is empty;
    ``ImportFailed`` on a wrong passphrase, damage or invalid JSON."""
    encrypted = crypto.is_encrypted(raw)
    plain = crypto.decrypt(raw, passphrase) if encrypted else raw
    data = load_export_bytes(plain)
    if isinstance(data, dict) and "settings" in data:
        settings = data.pop("settings")
        plain = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return Opened(plain, settings if isinstance(settings, dict) else None, encrypted)
    return Opened(plain, None, encrypted)


def throttled(step: ProgressFn, parts: int = 100) -> ProgressFn:
    """``step`` called at most about ``parts`` times per task (plus start and end)."""
    last = [-1]

    def call(done: int, total: int) -> None:
        mark = done * parts // max(total, 1)
        if done in (0, total) or mark != last[0]:
            last[0] = mark
            step(done, total)

    return call


class BackupService:
    """The bucket named by ``settings`` with the keys of ``secrets``."""

    def __init__(
        self,
        settings: BackupSettings,
        secrets: SecretStore,
        *,
        part_size: int = 8 * 1024 * 1024,
        timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self._options = {"part_size": part_size, "timeout": timeout,
                         "max_attempts": max_attempts}

    @property
    def prefix(self) -> str:
        return self.settings.prefix.lstrip("/")

    def store(self) -> S3Store:
        s = self.settings
        if not s.bucket.strip():
            raise SettingsError(msg("backup.no_bucket"))
        access, secret = (self.secrets.get(n) for n in ("s3_access_key", "s3_secret_key"))
        if not (access and secret):
            raise SettingsError(msg("backup.no_keys"))
        from .adapters.s3_store import S3Store  # boto3 loads when a backup is made

        return S3Store(endpoint=s.endpoint.strip(), region=s.region.strip(),
                       bucket=s.bucket.strip(), access_key=access, secret_key=secret,
                       **self._options)  # type: ignore[arg-type]

    def test(self) -> Text:
        store = self.store()
        try:
            store.check()
        finally:
            store.close()
        return msg("backup.connected", bucket=repr(self.settings.bucket))

    def probe(self) -> None:
        """Ask the bucket's service once, briefly (what the health watch calls)."""
        store = self.store()
        try:
            store.probe()
        finally:
            store.close()

    # -- upload --------------------------------------------------------------

    def make_body(self, export: dict[str, Any], settings: Settings) -> tuple[bytes, bool]:
        """The object's bytes (encrypted when ``backup.encrypt``) and whether encrypted."""
        body = {**export, "settings": settings.model_dump(mode="json")}
        raw = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if not self.settings.encrypt:
            return raw, False
        passphrase = self.secrets.get("backup_passphrase")
        if not passphrase:
            raise SettingsError(msg("backup.no_passphrase"))
        return crypto.encrypt(raw, passphrase), True

    def upload(self, body: bytes, encrypted: bool,
               progress: ProgressFn | None = None) -> BackupObject:
        """Write ``body`` as a new object (a name no other object has)."""
        store = self.store()
        try:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            ext = ".json.enc" if encrypted else ".json"
            key, n = f"{self.prefix}memory-{stamp}{ext}", 1
            while store.exists(key):
                n += 1
                key = f"{self.prefix}memory-{stamp}-{n}{ext}"
            digest = hashlib.sha256(body).hexdigest()
            meta = {"sha256": digest, "encrypted": "1" if encrypted else "0",
                    "app-version": __version__}
            store.put(key, body, meta, progress)
            return BackupObject(key, int(time.time() * 1000), len(body), encrypted, digest)
        finally:
            store.close()

    # -- listing and download ------------------------------------------------

    def list(self) -> list[BackupObject]:
        store = self.store()
        try:
            found = store.list(self.prefix)
        finally:
            store.close()
        ours = [o for o in found if KEY_RE.fullmatch(o.key[len(self.prefix):])]
        return [_object(o) for o in sorted(ours, key=lambda o: (o.at, o.key), reverse=True)]

    def fetch(self, key: str, progress: ProgressFn | None = None) -> Opened:
        """Download, verify, decrypt and split a backup. Raises before any local change."""
        if not key or len(key) > 1024:
            raise NotFound(msg("backup.choose"))
        store = self.store()
        try:
            raw, meta = store.get(key, progress, max_bytes=MAX_OBJECT_BYTES)
        finally:
            store.close()
        warnings: list[Text] = []
        expected = meta.get("sha256", "").strip().lower()
        if expected:
            if hashlib.sha256(raw).hexdigest() != expected:
                raise ImportFailed(msg("backup.damaged", key=key))
        else:
            warnings.append(msg("backup.no_checksum", key=key))
        try:
            opened = open_blob(raw, self.secrets.get("backup_passphrase"))
        except PassphraseRequired:
            raise PassphraseRequired(msg("backup.encrypted", key=key)) from None
        opened.warnings = warnings + opened.warnings
        return opened


def _object(o: ObjectInfo) -> BackupObject:
    return BackupObject(o.key, o.at, o.size, o.key.endswith(".enc"))
