"""Passphrase encryption of exports and backups (scrypt + AES-256-GCM)."""

from __future__ import annotations

import base64
import json

import pytest

from dl_app import crypto
from dl_app.core.errors import ImportFailed, PassphraseRequired

DATA = "记忆 <script>alert(1)</script> memory".encode() * 100


def test_round_trip_and_envelope_format() -> None:
    blob = crypto.encrypt(DATA, "正确的马 battery")
    env = json.loads(blob)
    assert env["format"] == "digital-life-encrypted" and env["version"] == 1
    assert env["cipher"] == "aes-256-gcm"
    assert env["kdf"]["name"] == "scrypt"
    assert (env["kdf"]["n"], env["kdf"]["r"], env["kdf"]["p"]) == (2**15, 8, 1)
    assert len(base64.b64decode(env["kdf"]["salt"])) == 16
    assert len(base64.b64decode(env["nonce"])) == 12
    assert len(base64.b64decode(env["ciphertext"])) == len(DATA) + 16  # GCM tag
    assert b"memory" not in blob and "记忆".encode() not in blob
    assert crypto.is_encrypted(blob) and not crypto.is_encrypted(DATA)
    assert crypto.decrypt(blob, "正确的马 battery") == DATA
    other = crypto.encrypt(DATA, "正确的马 battery")
    assert other != blob  # fresh salt and nonce each time


def test_wrong_passphrase_is_refused() -> None:
    blob = crypto.encrypt(DATA, "right")
    with pytest.raises(ImportFailed, match="wrong passphrase or damaged file"):
        crypto.decrypt(blob, "wrong")
    with pytest.raises(PassphraseRequired):
        crypto.decrypt(blob, "")
    with pytest.raises(ValueError):
        crypto.encrypt(DATA, "")


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt"])
def test_a_tampered_byte_is_detected(field: str) -> None:
    env = json.loads(crypto.encrypt(DATA, "pw"))
    holder = env["kdf"] if field == "salt" else env
    raw = bytearray(base64.b64decode(holder[field]))
    raw[len(raw) // 2] ^= 0x01
    holder[field] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(ImportFailed, match="wrong passphrase or damaged file"):
        crypto.decrypt(json.dumps(env).encode(), "pw")


def test_tampered_header_and_hostile_parameters_are_refused() -> None:
    env = json.loads(crypto.encrypt(DATA, "pw"))
    for change in (
        {"kdf": {**env["kdf"], "n": 2**14}},  # authenticated: a changed header fails
        {"kdf": {**env["kdf"], "n": 2**30}},  # would need terabytes: refused before use
        {"kdf": {**env["kdf"], "r": "8"}},
        {"nonce": "not base64!"},
        {"ciphertext": None},
    ):
        with pytest.raises(ImportFailed, match="wrong passphrase or damaged file"):
            crypto.decrypt(json.dumps({**env, **change}).encode(), "pw")
    with pytest.raises(ImportFailed, match="unknown format"):
        crypto.decrypt(json.dumps({**env, "version": 2}).encode(), "pw")
    with pytest.raises(ImportFailed, match="not an encrypted"):
        crypto.decrypt(b'{"selfName": "x"}', "pw")
    truncated = crypto.encrypt(DATA, "pw")[:-40]
    with pytest.raises(ImportFailed):
        crypto.decrypt(truncated, "pw")
