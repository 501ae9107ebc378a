"""API keys and other secrets: the environment, the OS keyring, or a private file.

    store = SecretStore(data_dir)
    store.set("llm_api_key", "sk-...")
    store.get("llm_api_key")        # DL_LLM_API_KEY wins over what is stored
    store.info()                    # which backend, and what protects the keys

Where a secret is looked up, first hit wins:

1. the environment (``DL_LLM_API_KEY``, ``DL_EMBED_API_KEY``);
2. the OS keyring, service ``DigitalLife`` (Windows Credential Manager, the
   macOS Keychain, the Secret Service on Linux desktops);
3. ``<data dir>/secrets.json``: used only where the keyring is unusable
   (headless Linux picks keyring's ``fail`` backend). The file and its key file
   ``secrets.key`` are written with mode 0600. The values are obfuscated with a
   random key kept next to them, which is NOT encryption: whoever can read the
   user's files can read the keys. ``info().note`` says so to the user.

Secrets never go to ``settings.json`` and never leave Python through the bridge.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets as _random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dl_app.core.errors import StoreError, msg
from dl_app.fsutil import atomic_write_bytes
from dl_app.messages import os_reason
from dl_app.settings import ENV_SECRETS

__all__ = [
    "SECRET_NAMES",
    "SERVICE",
    "SecretStore",
    "StoreInfo",
    "get_secret",
]

log = logging.getLogger(__name__)

SERVICE = "DigitalLife"
SECRET_NAMES = (
    "llm_api_key",
    "embed_api_key",
    "s3_access_key",
    "s3_secret_key",
    "backup_passphrase",
    "weather_api_key",
    "images_api_key",
    "tts_api_key",
    "stt_api_key",
)
SECRETS_FILE = "secrets.json"
KEY_FILE = "secrets.key"
MAX_SECRET_CHARS = 4096

_file_lock = threading.Lock()


@dataclass(frozen=True)
class StoreInfo:
    """Where stored secrets live: ``backend`` is ``keyring`` or ``file``."""

    backend: str
    secure: bool
    note: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "secure": self.secure, "note": dict(self.note)}


def check_name(name: str) -> None:
    if name not in SECRET_NAMES:
        raise StoreError(msg("secret.unknown", name=name, known=", ".join(SECRET_NAMES)))


def clean_value(value: str) -> str:
    """A pasted key without surrounding whitespace; refuses control characters."""
    value = value.strip()
    if not value:
        raise StoreError(msg("secret.empty"))
    if len(value) > MAX_SECRET_CHARS:
        raise StoreError(msg("secret.too_long", limit=MAX_SECRET_CHARS))
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise StoreError(msg("secret.control"))
    return value


def _usable_keyring() -> Any | None:
    """The configured keyring backend, or None when it cannot store anything."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception as e:  # broken installation or configuration
        log.warning("keyring unavailable: %s", e)
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


class SecretStore:
    """Secrets of one data dir. ``env`` overrides (default: ``os.environ``)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.env = os.environ if env is None else env
        self._file = _ObfuscatedFile(self.data_dir / SECRETS_FILE, self.data_dir / KEY_FILE)
        self._keyring_failed = False

    # -- lookups

    def from_env(self, name: str) -> bool:
        return bool(self.env.get(ENV_SECRETS.get(name, ""), ""))

    def get(self, name: str) -> str:
        check_name(name)
        value = self.env.get(ENV_SECRETS.get(name, ""), "")
        if value:
            return value
        backend = self._keyring()
        if backend is not None:
            try:
                stored = backend.get_password(SERVICE, name)
            except Exception as e:  # locked or broken keyring: fall back to the file
                self._keyring_broke(e)
            else:
                if stored:
                    return str(stored)
        return self._file.get(name)

    def is_set(self, name: str) -> bool:
        return bool(self.get(name))

    def status(self) -> dict[str, bool]:
        return {name: self.is_set(name) for name in SECRET_NAMES}

    # -- changes

    def set(self, name: str, value: str) -> None:
        """Store ``value`` (whitespace trimmed). Raises ``StoreError``."""
        check_name(name)
        value = clean_value(value)
        backend = self._keyring()
        if backend is not None:
            try:
                backend.set_password(SERVICE, name, value)
            except Exception as e:
                self._keyring_broke(e)
            else:
                self._file.delete(name)  # no stale copy left behind
                return
        self._file.set(name, value)

    def delete(self, name: str) -> None:
        """Forget a stored secret everywhere it might be (not the environment)."""
        check_name(name)
        backend = self._keyring()
        if backend is not None:
            with contextlib.suppress(Exception):  # absent, or a keyring that broke
                backend.delete_password(SERVICE, name)
        self._file.delete(name)

    # -- about the store

    def info(self) -> StoreInfo:
        backend = self._keyring()
        if backend is not None:
            kind = getattr(backend, "name", type(backend).__name__)
            return StoreInfo(
                "keyring",
                True,
                {
                    "en": f"API keys are kept in your system keyring ({kind}), which the "
                    "operating system protects and unlocks with your login.",
                    "zh": f"API 密钥保存在系统钥匙串（{kind}）中，由操作系统加密保护，"
                    "登录后解锁。",
                },
            )
        path = self._file.path
        return StoreInfo(
            "file",
            False,
            {
                "en": f"No system keyring is available, so API keys are kept in {path}, "
                "which only your user account may read (file permissions 0600). They are "
                "obfuscated, not encrypted: anyone who can read your files can recover "
                "them. Keep this file out of backups you share.",
                "zh": f"系统没有可用的钥匙串，API 密钥保存在 {path}，只有你的用户账户"
                "可以读取（文件权限 0600）。密钥只是做了混淆，并未加密：能读取你文件的人"
                "都能还原它们。请勿把该文件放进会分享的备份。",
            },
        )

    # -- internals

    def _keyring(self) -> Any | None:
        return None if self._keyring_failed else _usable_keyring()

    def _keyring_broke(self, error: BaseException) -> None:
        log.warning("the system keyring failed (%s); using %s", error, self._file.path)
        self._keyring_failed = True


def get_secret(
    name: str, env: Mapping[str, str] | None = None, data_dir: Path | None = None
) -> str:
    """One secret: the environment, else the store of ``data_dir`` (default:
    ``DL_DATA_DIR`` or the platform's data dir). "" when there is none."""
    if data_dir is None:
        from dl_app.paths import data_dir as default_data_dir

        data_dir = default_data_dir(env)
    try:
        return SecretStore(data_dir, env).get(name)
    except StoreError:
        return ""


# ---------------------------------------------------------------- the file


class _ObfuscatedFile:
    """``{"version": 1, "values": {name: token}}`` with mode 0600.

    A token is ``base64(nonce | tag | ciphertext)``: the text XORed with a
    keyed BLAKE2b stream, and a keyed BLAKE2b tag that detects a lost or
    replaced key file. The key is 32 random bytes in its own 0600 file; since it
    sits beside the values this only keeps keys from being read at a glance
    (or grepped for ``sk-``); the file permissions are the real protection.
    """

    def __init__(self, path: Path, key_path: Path) -> None:
        self.path = path
        self.key_path = key_path

    def get(self, name: str) -> str:
        with _file_lock:
            values = self._read()
            token = values.get(name)
            if not isinstance(token, str):
                return ""
            key = self._key(create=False)
            if key is None:
                log.warning("%s is missing: the stored keys cannot be read", self.key_path)
                return ""
            return _reveal(key, token) or ""

    def set(self, name: str, value: str) -> None:
        with _file_lock:
            key = self._key(create=True)
            assert key is not None
            values = {
                k: v for k, v in self._read().items()
                if isinstance(v, str) and _reveal(key, v) is not None
            }
            values[name] = _hide(key, value)
            self._write(values)

    def delete(self, name: str) -> None:
        with _file_lock:
            values = self._read()
            if name in values:
                del values[name]
                self._write(values)

    def _read(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise StoreError(msg("store.key_file", path=str(self.path), error=os_reason(e))) from e
        values = raw.get("values") if isinstance(raw, dict) else None
        return dict(values) if isinstance(values, dict) else {}

    def _write(self, values: dict[str, str]) -> None:
        data = json.dumps({"version": 1, "values": values}, indent=2).encode()
        _write_private(self.path, data)

    def _key(self, *, create: bool) -> bytes | None:
        try:
            key = self.key_path.read_bytes()
            if len(key) == 32:
                return key
        except FileNotFoundError:
            pass
        except OSError as e:
            why = os_reason(e)
            raise StoreError(msg("store.cannot_read", path=str(self.key_path), error=why)) from e
        if not create:
            return None
        key = _random.token_bytes(32)
        _write_private(self.key_path, key)
        return key


def _write_private(path: Path, data: bytes) -> None:
    """Atomic write; the temp file is created 0600 (mkstemp), kept so by rename."""
    try:
        atomic_write_bytes(path, data)
        os.chmod(path, 0o600)
    except OSError as e:
        raise StoreError(msg("store.cannot_write", path=str(path), error=os_reason(e))) from e


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        block = nonce + counter.to_bytes(8, "big")
        out += hashlib.blake2b(block, key=key, digest_size=64, person=b"dl-secret").digest()
        counter += 1
    return bytes(out[:length])


def _tag(key: bytes, nonce: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(nonce + body, key=key, digest_size=16, person=b"dl-tag").digest()


def _hide(key: bytes, value: str) -> str:
    plain = value.encode("utf-8")
    nonce = _random.token_bytes(16)
    body = bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)), strict=True))
    return base64.urlsafe_b64encode(nonce + _tag(key, nonce, body) + body).decode("ascii")


def _reveal(key: bytes, token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    nonce, tag, body = raw[:16], raw[16:32], raw[32:]
    if len(nonce) < 16 or not hmac.compare_digest(tag, _tag(key, nonce, body)):
        return None
    plain = bytes(a ^ b for a, b in zip(body, _stream(key, nonce, len(body)), strict=True))
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
