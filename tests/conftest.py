"""Shared fixtures: a hermetic environment for every test, and local services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import Events, make_env
from dl_app.bridge import Api
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

_PROXY_VARS = {
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "ftp_proxy",
    "ws_proxy",
    "wss_proxy",
    "ssl_cert_file",
    "ssl_cert_dir",
    "requests_ca_bundle",
    "curl_ca_bundle",
}


@pytest.fixture(autouse=True)
def _hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``DL_DATA_DIR`` at a fresh tmp dir; drop other ``DL_*``, ``OPENAI_*``
    and proxy variables; never proxy local addresses."""
    for name in list(os.environ):
        if name.startswith(("DL_", "OPENAI_")) or name.lower() in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "dl-data"
    data_dir.mkdir()
    monkeypatch.setenv("DL_DATA_DIR", str(data_dir))
    # Never touch the developer's real keyring from tests.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return data_dir


@pytest.fixture
def openai_server() -> Iterator[OpenAICompatServer]:
    """A fresh scripted OpenAI-compatible server; ``.base_url`` ends in ``/v1``.
    Fails the test if a request handler crashed."""
    with OpenAICompatServer() as server:
        yield server
    assert not server.errors, f"the scripted server crashed: {server.errors!r}"


# -- the bridge, for tests/bridge/test_bridge_api.py and tests/bridge/test_memory_api.py


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def api(openai_server: OpenAICompatServer, data_dir: Path, events: Events) -> Iterator[Api]:
    """The real bridge on the scripted model (which plays every engine part)."""
    openai_server.default_responder = companion_responder
    bridge = Api(data_dir, env=make_env(openai_server), emit=events)
    yield bridge
    bridge.close()
