"""Passphrase encryption of exports and backups.

    blob = encrypt(data, "correct horse")    # bytes of a JSON envelope
    data = decrypt(blob, "correct horse")    # ImportFailed on a wrong passphrase

The key is scrypt(passphrase, salt; n=2**15, r=8, p=1) -> 32 bytes; the data is
sealed with AES-256-GCM under a random 12-byte nonce. The envelope is JSON::

    {"format": "digital-life-encrypted", "version": 1,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": b64},
     "cipher": "aes-256-gcm", "nonce": b64, "ciphertext": b64}

The envelope's header (format, version, kdf, cipher) is authenticated as
associated data, so changing any byte of it, of the nonce or of the ciphertext
makes decryption fail. The KDF parameters of a file are bounded before use,
so a hostile file cannot make scrypt eat gigabytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .core.errors import ImportFailed, PassphraseRequired, msg

__all__ = ["FORMAT", "decrypt", "encrypt", "is_encrypted"]

FORMAT = "digital-life-encrypted"
VERSION = 1
CIPHER = "aes-256-gcm"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_N, MAX_R, MAX_P = 2**20, 32, 16
MAX_MEMORY = 256 * 1024 * 1024  # bytes scrypt may use for a file's parameters
_DAMAGED = msg("crypto.damaged")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _header(kdf: dict[str, Any]) -> bytes:
    head = {"format": FORMAT, "version": VERSION, "kdf": kdf, "cipher": CIPHER}
    return json.dumps(head, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encrypt(data: bytes, passphrase: str) -> bytes:
    """``data`` sealed under ``passphrase``, as the UTF-8 bytes of the envelope."""
    if not passphrase:
        raise ValueError("an empty passphrase cannot encrypt")
    salt, nonce = os.urandom(16), os.urandom(12)
    kdf = {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)}
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, data, _header(kdf))
    envelope = {
        "format": FORMAT, "version": VERSION, "kdf": kdf, "cipher": CIPHER,
        "nonce": _b64(nonce), "ciphertext": _b64(sealed),
    }
    return json.dumps(envelope, separators=(",", ":")).encode("ascii")


def _envelope(blob: bytes) -> dict[str, Any] | None:
    """The envelope if ``blob`` is one (cheap check first), else None."""
    head = blob[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{") or FORMAT.encode() not in head:
        return None
    try:
        data = json.loads(blob.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def is_encrypted(blob: bytes) -> bool:
    return _envelope(blob) is not None


def decrypt(blob: bytes, passphrase: str) -> bytes:
    """The data sealed in ``blob``. ``ImportFailed`` on a wrong passphrase or any damage;
    ``PassphraseRequired`` when ``passphrase`` is empty."""
    env = _envelope(blob)
    if env is None:
        raise ImportFailed(msg("crypto.not_encrypted"))
    if not passphrase:
        raise PassphraseRequired(msg("crypto.passphrase"))
    if env.get("version") != VERSION or env.get("cipher") != CIPHER:
        raise ImportFailed(msg("crypto.unknown_format", version=repr(env.get("version"))))
    try:
        kdf, n, r, p, salt, nonce, sealed = _parts(env)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise ImportFailed(_DAMAGED) from None
    try:
        return AESGCM(_key(passphrase, salt, n, r, p)).decrypt(nonce, sealed, _header(kdf))
    except (InvalidTag, ValueError, MemoryError):
        raise ImportFailed(_DAMAGED) from None


def _parts(env: dict[str, Any]) -> tuple[dict[str, Any], int, int, int, bytes, bytes, bytes]:
    kdf = env["kdf"]
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise ValueError("unknown kdf")
    n, r, p = (kdf[k] for k in ("n", "r", "p"))
    if not all(type(v) is int for v in (n, r, p)):
        raise TypeError("kdf parameters")
    if not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= MAX_R and 1 <= p <= MAX_P
            and 128 * n * r <= MAX_MEMORY):
        raise ValueError("kdf parameters out of range")
    salt = base64.b64decode(kdf["salt"], validate=True)
    nonce = base64.b64decode(env["nonce"], validate=True)
    sealed = base64.b64decode(env["ciphertext"], validate=True)
    if len(nonce) != 12 or len(salt) < 8:
        raise ValueError("nonce or salt")
    return kdf, n, r, p, salt, nonce, sealed
