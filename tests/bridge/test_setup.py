"""First-run setup through the bridge (as the page calls it) and through
``dl-app chat`` on a terminal (a real pty) and in a pipe. ollama is a scripted
server on loopback; the OpenAI-compatible service is the scripted one."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import Events, ok
from dl_app.adapters import demo_model
from dl_app.adapters.secrets import SecretStore
from dl_app.bridge import Api
from dl_app.bridge.context import PAGE_LANG
from dl_app.first_run import setup_needed
from frontend_helpers import free_port
from servers.ollama import ScriptedOllama
from servers.openai_compat import OpenAICompatServer

KEY = "sk-setup-0123456789abcdef"
DEMO_PROBLEM = demo_model.check()
needs_demo = pytest.mark.skipif(DEMO_PROBLEM is not None, reason=f"demo model: {DEMO_PROBLEM}")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
    env.update(LANG="en_US.UTF-8", **extra)
    return env


@pytest.fixture
def bridge(data_dir: Path, events: Events) -> Iterator[Api]:
    api = Api(data_dir, env=clean_env(), emit=events)
    yield api
    api.close()


def settings_file(data_dir: Path) -> dict[str, object]:
    return json.loads((data_dir / "settings.json").read_text(encoding="utf-8"))


# -- bridge ------------------------------------------------------------------


def test_a_fresh_data_dir_needs_setup_and_says_what_it_offers(bridge: Api) -> None:
    st = ok(bridge.setup_status())
    assert st["needed"] is True
    assert st["demo"]["available"] is (DEMO_PROBLEM is None)
    assert st["demo"]["note"] == "demo model — tiny, for trying the app"
    assert st["suggested_ollama_model"] == "qwen2.5:7b"
    assert {p["key"] for p in st["presets"]} >= {"deepseek", "openai"}
    assert ok(bridge.app_info())["setup_needed"] is True


def test_env_variables_or_an_older_settings_file_count_as_set_up(tmp_path: Path) -> None:
    assert setup_needed(tmp_path, {"DL_LLM_BASE_URL": "http://x/v1"}) is False
    assert setup_needed(tmp_path, {"DL_LLM_PROVIDER": "demo"}) is False
    assert setup_needed(tmp_path, {}) is True
    (tmp_path / "settings.json").write_text(json.dumps({"language": "zh"}))
    assert setup_needed(tmp_path, {}) is True  # only the language was saved
    (tmp_path / "settings.json").write_text(
        json.dumps({"llm": {"base_url": "https://api.deepseek.com/v1", "model": "deepseek-chat"}})
    )
    assert setup_needed(tmp_path, {}) is False


def test_probe_lists_ollama_models(bridge: Api) -> None:
    with ScriptedOllama(["qwen2.5:7b", "llama3.2:3b"]) as ollama:
        res = ok(bridge.setup_probe_ollama({"base_url": ollama.url}))["ollama"]
        assert ollama.paths == ["/api/tags"]
    assert res["running"] is True
    assert res["models"] == ["qwen2.5:7b", "llama3.2:3b"]
    assert res["base_url"] == f"{ollama.url}/v1"


def test_probe_of_an_empty_ollama_advises_a_pull(bridge: Api) -> None:
    with ScriptedOllama([]) as ollama:
        res = ok(bridge.setup_probe_ollama({"base_url": ollama.url + "/v1"}))["ollama"]
    assert res["running"] is True and res["models"] == []
    assert "ollama pull qwen2.5:7b" in res["message"]


def test_probe_of_a_dead_port_says_ollama_is_not_running(bridge: Api) -> None:
    res = ok(bridge.setup_probe_ollama({"base_url": f"http://127.0.0.1:{free_port()}"}))
    assert res["ollama"]["running"] is False
    assert "not running" in res["ollama"]["message"]
    assert "ollama pull qwen2.5:7b" in res["ollama"]["message"]


def test_choosing_an_ollama_model_saves_it(bridge: Api, data_dir: Path) -> None:
    with ScriptedOllama(["qwen2.5:7b"]) as ollama:
        res = ok(bridge.setup_apply({"choice": "ollama", "base_url": ollama.url,
                                     "model": "qwen2.5:7b"}))
        assert "/v1/models" in ollama.paths  # the connection test
    assert "qwen2.5:7b" in res["message"]
    llm = settings_file(data_dir)["llm"]
    assert llm == {**llm, "provider": "openai", "base_url": f"{ollama.url}/v1",
                   "model": "qwen2.5:7b"}
    assert ok(bridge.setup_status())["needed"] is False
    info = ok(bridge.app_info())
    assert info["model"] == "qwen2.5:7b" and info["model_note"] == ""


def test_a_service_with_a_wrong_key_is_explained_and_not_saved(
    bridge: Api, data_dir: Path
) -> None:
    with OpenAICompatServer(api_key=KEY, models=["deepseek-chat"]) as server:
        res = bridge.setup_apply({"choice": "service", "base_url": server.base_url,
                                  "model": "deepseek-chat", "api_key": "sk-wrong"})
        assert res["ok"] is False and res["error"]["type"] == "AuthFailed"
        assert "key" in res["error"]["message"].lower()
        assert not (data_dir / "settings.json").exists()
        # Said in the asking page's language when it names one (X-DL-Lang in a browser;
        # the app's is English here).
        said = PAGE_LANG.set("zh")
        try:
            zh = bridge.setup_apply({"choice": "service", "base_url": server.base_url,
                                     "model": "deepseek-chat", "api_key": "sk-wrong"})
            missing = bridge.setup_apply({"choice": "service", "base_url": " ", "model": "m"})
        finally:
            PAGE_LANG.reset(said)
        assert zh["ok"] is False and zh["error"]["type"] == "AuthFailed"
        assert "拒绝了 API 密钥" in zh["error"]["message"] and server.base_url in zh["message"]
        assert missing["error"]["type"] == "InvalidInput" and "地址" in missing["error"]["message"]
        assert ok(bridge.setup_status())["needed"] is True
        ok(bridge.setup_apply({"choice": "service", "base_url": server.base_url,
                               "model": "deepseek-chat", "api_key": KEY}))
    text = (data_dir / "settings.json").read_text(encoding="utf-8")
    assert KEY not in text  # the key went to the secret store
    assert SecretStore(data_dir, clean_env()).get("llm_api_key") == KEY
    assert settings_file(data_dir)["llm"]["model"] == "deepseek-chat"


def test_a_service_without_address_or_model_is_refused(bridge: Api) -> None:
    res = bridge.setup_apply({"choice": "service", "base_url": " ", "model": "m"})
    assert res["ok"] is False and res["error"]["type"] == "InvalidInput"


@needs_demo
def test_choosing_the_demo_model_shows_it_on_the_model_line(bridge: Api, data_dir: Path) -> None:
    res = ok(bridge.setup_apply({"choice": "demo"}))
    assert res["demo"]["available"] is True
    assert settings_file(data_dir)["llm"]["provider"] == "demo"
    info = ok(bridge.app_info())
    assert info["provider"] == "demo" and info["base_url"] == ""
    assert info["model"] == "Qwen2.5-Coder-0.5B-Instruct"
    assert info["model_note"] == "demo model — tiny, for trying the app"


# -- dl-app chat -----------------------------------------------------------------


class Terminal:
    """``dl-app chat`` on a real pseudo-terminal."""

    def __init__(self, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.fd = master
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dl_app", "chat"], stdin=slave, stdout=slave,
            stderr=slave, env=env, close_fds=True, start_new_session=True,
        )
        os.close(slave)
        self.text = ""
        self.pos = 0  # expect() looks after the previous match only

    def expect(self, needle: str, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while needle not in self.text[self.pos :]:
            left = end - time.monotonic()
            assert left > 0, f"waited for {needle!r}; the screen:\n{self.text}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if ready:
                try:
                    self.text += os.read(self.fd, 65536).decode("utf-8", "replace")
                except OSError:  # the program ended
                    assert needle in self.text[self.pos :], f"{needle!r} never came:\n{self.text}"
        self.pos = self.text.index(needle, self.pos) + len(needle)

    def send(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.proc.wait(30)
        finally:
            os.close(self.fd)


def chat_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return clean_env(DL_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)


def test_first_run_on_a_terminal_picks_an_ollama_model(data_dir: Path) -> None:
    with ScriptedOllama(["qwen2.5:7b", "llama3.2:3b"]) as ollama:
        term = Terminal(chat_env(data_dir, DL_OLLAMA_URL=ollama.url))
        term.expect("Which model should answer?")
        term.expect("ollama on this computer (2 models: qwen2.5:7b, llama3.2:3b)")
        term.expect("Choice [1]: ")
        term.send("")  # the default: ollama
        term.expect("Which ollama model?")
        term.expect("Choice [1]: ")
        term.send("2")
        term.expect("Saved. The model answering: llama3.2:3b.")
        term.expect("(model: llama3.2:3b)")  # the chat begins with the chosen model
        term.send("/quit")
        assert term.close() == 0
    llm = settings_file(data_dir)["llm"]
    assert (llm["provider"], llm["model"]) == ("openai", "llama3.2:3b")  # type: ignore[index]


def test_first_run_on_a_terminal_tests_a_service_key_before_saving(data_dir: Path) -> None:
    with OpenAICompatServer(api_key=KEY, models=["test-model"]) as server:
        term = Terminal(chat_env(data_dir, DL_OLLAMA_URL=f"http://127.0.0.1:{free_port()}"))
        term.expect("ollama on this computer (not running)")
        term.expect("Choice [")
        term.send("2")
        term.expect("Which service?")
        term.send("4")  # another service: type its address
        term.expect("Service address")
        term.send(server.base_url)
        term.expect("API key (hidden")
        term.send("sk-wrong")
        term.expect("Model: ")
        term.send("test-model")
        term.expect("That did not work:")
        term.expect("Back to the choices.")
        term.expect("Choice [")
        term.send("2")
        term.expect("Which service?")
        term.send("4")
        term.expect("Service address")
        term.send(server.base_url)
        term.expect("API key (hidden")
        term.send(KEY)
        term.expect("Model: ")
        term.send("test-model")
        term.expect("Saved. The model answering: test-model.")
        term.send("/quit")
        assert term.close() == 0
    assert "sk-wrong" not in term.text and KEY not in term.text  # never echoed
    assert KEY not in (data_dir / "settings.json").read_text(encoding="utf-8")
    assert SecretStore(data_dir, clean_env()).get("llm_api_key") == KEY


def test_first_run_on_a_terminal_ends_cleanly_at_end_of_input(data_dir: Path) -> None:
    term = Terminal(chat_env(data_dir, DL_OLLAMA_URL=f"http://127.0.0.1:{free_port()}"))
    term.expect("Choice [")
    os.write(term.fd, b"\x04")  # Ctrl-D
    term.expect("setup cancelled")
    assert term.close() == 1
    assert not (data_dir / "settings.json").exists()


def test_first_run_in_a_pipe_answers_without_asking(data_dir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dl_app", "chat"], input="Hello!\n", capture_output=True,
        text=True, timeout=300,
        env=chat_env(data_dir, DL_OLLAMA_URL="http://127.0.0.1:9"),
    )
    assert "Which model should answer?" not in out.stdout + out.stderr
    if DEMO_PROBLEM is None:
        assert out.returncode == 0, out.stderr
        assert "answering with the offline demo model Qwen2.5-Coder-0.5B-Instruct" in out.stderr
        assert out.stdout.strip()  # the demo model's reply
    else:
        assert "the demo model is unavailable" in out.stderr
    assert not (data_dir / "settings.json").exists()  # nothing chosen for the user


def test_without_the_demo_model_a_pipe_says_so_and_falls_back(data_dir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dl_app", "chat"], input="Hello!\n", capture_output=True,
        text=True, timeout=300, env=chat_env(data_dir, DL_DEMO_MODEL="missing-model"),
    )
    assert "no chat model is set up, and the demo model is unavailable" in out.stderr
    assert "unknown demo model 'missing-model'" in out.stderr
    assert "trying the default service at http://127.0.0.1:11434/v1" in out.stderr


def test_a_chosen_but_missing_demo_model_fails_the_turn_clearly(
    bridge: Api, data_dir: Path, events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DL_DEMO_MODEL", "missing-model")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps({"llm": {"provider": "demo"}}))
    res = bridge.chat_send({"text": "你好"})
    assert res["ok"] is False and res["error"]["type"] == "ModelNotFound"
    assert res["error"]["message"].startswith("The demo model is unavailable: unknown demo model")
    assert events.named("service.status")[-1]["ok"] is False  # the page shows the banner
    assert bridge.chat_history()["messages"] == []  # nothing changed


def test_a_wrong_dl_llm_provider_is_a_clear_error(tmp_path: Path) -> None:
    from dl_app.bridge.fields import env_overrides
    from dl_app.settings import Settings, SettingsError
    from dl_app.wiring import llm_provider

    assert llm_provider(Settings(), {"DL_LLM_PROVIDER": " Demo "}) == "demo"
    assert env_overrides({"DL_LLM_PROVIDER": "demo"}) == ["llm.provider"]  # the page marks it
    with pytest.raises(SettingsError, match="DL_LLM_PROVIDER must be 'demo' or 'openai'"):
        llm_provider(Settings(), {"DL_LLM_PROVIDER": "ollama"})
    env = {**os.environ, "DL_DATA_DIR": str(tmp_path / "d"), "DL_LLM_PROVIDER": "ollama"}
    out = subprocess.run(
        [sys.executable, "-m", "dl_app", "chat"], input="hi\n", env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode != 0
    assert "DL_LLM_PROVIDER must be" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""
