"""The secret store: a real keyring backend, the 0600 file fallback, the environment."""

from __future__ import annotations

import base64
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from dl_app.adapters.secrets import KEY_FILE, SECRETS_FILE, SERVICE, SecretStore, get_secret
from dl_app.core.errors import StoreError
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

KEY = "sk-live-0123456789abcdef"


class MemoryKeyring(KeyringBackend):
    """A working keyring backend that keeps passwords in a dict."""

    priority = 0  # type: ignore[assignment]  # never chosen on its own

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise PasswordDeleteError("not found")
        del self.items[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A keyring that exists but refuses every operation (e.g. a locked collection)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    set_password = get_password  # type: ignore[assignment]


def _use(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def memory_keyring() -> Iterator[KeyringBackend]:
    yield from _use(MemoryKeyring())


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    yield from _use(fail.Keyring())


def test_keyring_backend_keeps_the_key_and_no_file_is_written(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    store = SecretStore(tmp_path, env={})
    store.set("llm_api_key", f"  {KEY}\n")  # pasted with whitespace
    assert memory_keyring.items[(SERVICE, "llm_api_key")] == KEY
    assert store.get("llm_api_key") == KEY
    assert store.status() == {
        "llm_api_key": True, "embed_api_key": False, "s3_access_key": False,
        "s3_secret_key": False, "backup_passphrase": False, "weather_api_key": False,
        "images_api_key": False, "tts_api_key": False, "stt_api_key": False,
    }
    assert not (tmp_path / SECRETS_FILE).exists()
    info = store.info()
    assert info.backend == "keyring" and info.secure
    assert "keyring" in info.note["en"] and "钥匙串" in info.note["zh"]
    store.delete("llm_api_key")
    assert store.get("llm_api_key") == "" and not memory_keyring.items
    store.delete("llm_api_key")  # deleting nothing is fine


def test_environment_wins_over_the_stored_key(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    store = SecretStore(tmp_path, env={"DL_LLM_API_KEY": "from-env"})
    store.set("llm_api_key", KEY)
    assert store.get("llm_api_key") == "from-env"
    assert store.from_env("llm_api_key") and not store.from_env("embed_api_key")
    assert get_secret("llm_api_key", {}, tmp_path) == KEY
    assert get_secret("llm_api_key", {"DL_LLM_API_KEY": "x"}, tmp_path) == "x"


def test_without_a_keyring_the_key_goes_to_a_private_obfuscated_file(
    no_keyring: KeyringBackend, tmp_path: Path
) -> None:
    store = SecretStore(tmp_path, env={})
    store.set("llm_api_key", KEY)
    store.set("weather_api_key", "天气-key")
    path, key_path = tmp_path / SECRETS_FILE, tmp_path / KEY_FILE
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    assert KEY.encode() not in raw
    assert base64.b64encode(KEY.encode())[:16] not in raw
    assert base64.urlsafe_b64encode(KEY.encode())[:16] not in raw
    assert SecretStore(tmp_path, env={}).get("llm_api_key") == KEY  # a new process reads it
    assert store.get("weather_api_key") == "天气-key"
    info = store.info()
    assert info.backend == "file" and not info.secure
    assert "obfuscated, not encrypted" in info.note["en"] and "0600" in info.note["en"]
    assert "并未加密" in info.note["zh"]
    store.delete("llm_api_key")
    assert store.get("llm_api_key") == "" and store.get("weather_api_key") == "天气-key"
    assert b"llm_api_key" not in path.read_bytes()


def test_a_lost_key_file_means_no_key_not_a_crash(
    no_keyring: KeyringBackend, tmp_path: Path
) -> None:
    store = SecretStore(tmp_path, env={})
    store.set("embed_api_key", KEY)
    (tmp_path / KEY_FILE).unlink()
    assert store.get("embed_api_key") == ""
    store.set("llm_api_key", "new")  # a new key file; the unreadable value is dropped
    assert store.get("llm_api_key") == "new" and store.get("embed_api_key") == ""


def test_a_keyring_that_refuses_falls_back_to_the_file(tmp_path: Path) -> None:
    for _ in _use(LockedKeyring()):
        store = SecretStore(tmp_path, env={})
        store.set("llm_api_key", KEY)
        assert store.get("llm_api_key") == KEY
        assert (tmp_path / SECRETS_FILE).exists()
        assert store.info().backend == "file"


def test_a_key_from_the_file_is_moved_into_a_keyring_that_appears(tmp_path: Path) -> None:
    for _ in _use(fail.Keyring()):
        SecretStore(tmp_path, env={}).set("llm_api_key", "old")
    for backend in _use(MemoryKeyring()):
        store = SecretStore(tmp_path, env={})
        assert store.get("llm_api_key") == "old"  # still found
        store.set("llm_api_key", KEY)
        assert backend.items[(SERVICE, "llm_api_key")] == KEY  # type: ignore[attr-defined]
        assert b"llm_api_key" not in (tmp_path / SECRETS_FILE).read_bytes()  # no stale copy


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("llm_api_key", "   ", "empty"),
        ("llm_api_key", "sk-1\nsk-2", "control characters"),
        ("llm_api_key", "x" * 5000, "longer"),
        ("openai_key", "sk", "Unknown secret"),
    ],
)
def test_bad_names_and_values_are_refused(
    no_keyring: KeyringBackend, tmp_path: Path, name: str, value: str, why: str
) -> None:
    with pytest.raises(StoreError, match=why):
        SecretStore(tmp_path, env={}).set(name, value)
    assert not (tmp_path / SECRETS_FILE).exists()


def test_the_chat_adapter_sends_the_stored_key(
    no_keyring: KeyringBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    with OpenAICompatServer(api_key=KEY) as server:
        server.default_responder = companion_responder
        monkeypatch.setenv("DL_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("DL_EMBED_BASE_URL", server.base_url)
        monkeypatch.setenv("DL_EMBED_MODEL", "test-embed")
        SecretStore(data, env={}).set("llm_api_key", KEY)
        SecretStore(data, env={}).set("embed_api_key", KEY)
        with Memory.open(data) as mem:
            assert mem.send("你好").reply.startswith("嗯嗯")
            assert mem.search("你好", k=1) == []  # embeds the query with the key
        auth = {r.headers.get("authorization") for r in server.requests}
        assert auth == {f"Bearer {KEY}"}
        assert server.embedding_requests
        assert not server.errors
