"""API keys never leave: a service echoing the key in every form it could
(plain, in JSON, in a URL, base64 of ``user:key``) and keys written into the
service address (a password, a query value) go through every error path (a
chat in the library, the bridge's chat and connection tests, the command
line, the logs); then all that output, the data dir, an export and a backup
are searched for any 8 characters of any key, as written or in base64."""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import Events, make_env
from dl_app.adapters.llm_openai import OpenAIChatModel
from dl_app.bridge import Api
from dl_app.core.errors import ServiceError
from dl_app.core.ports import ChatRequest
from dl_app.memory import Memory
from dl_app.messages import error_text
from memory_helpers import make_export
from servers.openai_compat import OpenAICompatServer

LLM_KEY = "sk-llm-7f3a9c2e51d84b6f0a2c9e7d13b5"
EMBED_KEY = "sk-emb-c4d2e8f1a7b3905e6d1c8a2f47b9"
URL_KEY = "qk-9e1d7c3b5a2f8e4d6c0b9a7f1e3d"  # ?key=... in the address
PASSWORD = "pw-5b8e2d7f1c9a4e6b3d0f8c2a9e7b"  # user:password@ in the address
KEYS = (LLM_KEY, EMBED_KEY, URL_KEY, PASSWORD)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def fragments() -> set[str]:
    """Every 8 characters of every key, and of its base64 (after ``user:``)."""
    out = set()
    for key in KEYS:
        for form in (key, b64(f"user:{key}")[8:], b64(key)):
            out |= {form[i : i + 8] for i in range(len(form) - 7)}
    return out


FRAGMENTS = fragments()


def leaks(text: str) -> list[str]:
    return sorted(f for f in FRAGMENTS if f in text)


def around(text: str) -> str:
    """The first leak in ``text``, with what surrounds it."""
    at = min(text.find(f) for f in leaks(text))
    return text[max(0, at - 150) : at + 60]


# What a careless service says about a rejected key, in every form (the
# scripted server puts the key it was given for {key}, base64 of user:key for {basic}).
ECHO = ('Incorrect API key {key}. Request was {"api_key": "{key}"} to '
        "https://api.example.com/v1/chat?key={key}; Authorization: Basic {basic}")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(api_key="sk-the-right-one") as s:
        s.auth_message = ECHO
        yield s


def test_keys_never_leave(
    server: OpenAICompatServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    said: list[str] = []
    data = tmp_path / "data"
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    in_url = [dead.replace("/v1", f"/v1?key={URL_KEY}"),
              dead.replace("http://", f"http://user:{PASSWORD}@")]
    caplog.set_level(logging.DEBUG)

    # the library: a chat refused for its key, streamed and not
    model = OpenAIChatModel(server.base_url, LLM_KEY, "m", max_retries=0)
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=8)
    for call in (model.complete, lambda r: list(model.stream(r))):
        with pytest.raises(ServiceError) as caught:
            call(request)
        said += [str(caught.value), error_text(caught.value, "zh"), repr(caught.value.args)]
    model.close()
    for url in in_url:  # nothing listens there: the address is in the message
        dead_model = OpenAIChatModel(url, LLM_KEY, "m", max_retries=0, timeout=5)
        with pytest.raises(ServiceError) as caught:
            dead_model.complete(request)
        dead_model.close()
        said += [str(caught.value), error_text(caught.value, "zh")]

    # the bridge: connection tests of both services, and a chat
    events = Events()
    env = make_env(server, DL_LLM_API_KEY=LLM_KEY, DL_EMBED_API_KEY=EMBED_KEY)
    api = Api(data, env=env, emit=events)
    try:
        said += [json.dumps(api.test_connection({"kind": kind}), ensure_ascii=False)
                 for kind in ("llm", "embed")]
        said.append(json.dumps(api.chat_send({"text": "你好"}), ensure_ascii=False))
    finally:
        api.close()
    said.append(json.dumps(events.__dict__, ensure_ascii=False, default=str))
    for url in in_url:
        api = Api(tmp_path / "other", env={**env, "DL_LLM_BASE_URL": url}, emit=events)
        try:
            said.append(json.dumps(api.test_connection({"kind": "llm"}), ensure_ascii=False))
        finally:
            api.close()

    # the command line
    for extra in ({}, {"DL_LLM_BASE_URL": in_url[0]}, {"DL_LLM_BASE_URL": in_url[1]}):
        out = subprocess.run(
            [sys.executable, "-m", "dl_app", "chat"], input="hello\n", capture_output=True,
            env={**env, "DL_DATA_DIR": str(data), **extra}, text=True, timeout=120,
        )
        assert out.returncode == 1, out.stderr
        said += [out.stdout, out.stderr]

    # what stays: an export and a backup (an import backs the memory up first)
    with Memory.open(data, env=env) as mem:
        mem.import_bytes(json.dumps(make_export(1)).encode())
        mem.import_bytes(json.dumps(make_export(2)).encode())  # the first is backed up
        mem.export(tmp_path / "export.json")
    stored = [p for p in [*data.rglob("*"), tmp_path / "export.json"] if p.is_file()]
    assert any("backups" in p.parts for p in stored)
    said.append(caplog.text)

    found = {i: around(text) for i, text in enumerate(said) if leaks(text)}
    assert not found, found
    for path in stored:
        raw = path.read_bytes().decode("utf-8", "replace")
        assert not leaks(raw), (path, leaks(raw))
    # and the test can fail: the keys did reach the service and its words
    assert any("401" in s for s in said) and any("Authorization: Basic ***" in s for s in said)
