"""An API key a service echoes back never shows, not even in part: it is masked
before the service's message is cut to length (on the CLI, in the page's
connection test and in exceptions)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import make_env
from dl_app.adapters.llm_openai import OpenAIChatModel
from dl_app.adapters.service_errors import server_detail
from dl_app.bridge import Api
from dl_app.core.errors import AuthFailed
from dl_app.core.ports import ChatRequest
from servers.openai_compat import OpenAICompatServer

KEY = "sk-llm-env-3326b43a3b21d2e5f0a9c7d1"
# The key starts a few characters before the 300-character cut.
ECHO = "x" * 273 + " Key given: {key}. Check your plan."


def fragments(key: str) -> list[str]:
    return [key[i : i + 8] for i in range(len(key) - 7)]


def assert_no_key(text: str) -> None:
    leaked = [f for f in fragments(KEY) if f in text]
    assert not leaked, (leaked, text)


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": ECHO.format(key=KEY)}},
        {"detail": ECHO.format(key=KEY)},
        ECHO.format(key=KEY),
        {"error": {"message": {"text": ECHO.format(key=KEY)}}},
        "x" * 273 + "\n" * 20 + " Key given: " + KEY,  # straddles once the lines are joined
    ],
    ids=["error.message", "detail", "text", "object", "many-lines"],
)
def test_the_key_is_masked_before_the_message_is_cut(body: object) -> None:
    detail = server_detail(body, KEY)
    assert len(detail) <= 300
    assert_no_key(detail)


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(api_key="sk-the-right-one") as s:
        s.auth_message = ECHO
        yield s


def test_chat_errors_never_show_the_key(server: OpenAICompatServer) -> None:
    model = OpenAIChatModel(server.base_url, KEY, "test-model", max_retries=0)
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=16)
    with pytest.raises(AuthFailed) as caught:
        model.complete(request)
    model.close()
    assert "Key given: ***" in str(caught.value) or "Key given:" not in str(caught.value)
    assert_no_key(str(caught.value))


def test_the_page_connection_test_never_shows_the_key(
    server: OpenAICompatServer, tmp_path: Path
) -> None:
    api = Api(tmp_path / "data", env=make_env(server, DL_LLM_API_KEY=KEY))
    try:
        res = api.test_connection({"kind": "llm"})
    finally:
        api.close()
    assert res["ok"] is False and res["error"]["type"] == "AuthFailed"
    assert_no_key(json.dumps(res))


def test_the_cli_never_shows_the_key(server: OpenAICompatServer, tmp_path: Path) -> None:
    env = make_env(server, DL_LLM_API_KEY=KEY, DL_EMBED_API_KEY=KEY,
                   DL_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run(
        [sys.executable, "-m", "dl_app", "chat"], input="hello\n", env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 1 and "401" in out.stderr
    assert_no_key(out.stdout + out.stderr)
