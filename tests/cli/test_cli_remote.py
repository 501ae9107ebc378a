"""The command line stays light, and the running app answers its read-only commands.

``dl-app memory show|search`` import only what they use (no chat SDK, no window,
no documents, no S3), and when the app runs on the data dir it answers them over
the single-instance channel with the same output (``cli/remote.py``); otherwise,
and when the app's environment differs or its memory is busy, the command opens
the data dir itself. Speed itself is measured in ``bench/cli_start.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_helpers import make_env
from dl_app.bridge import Api
from dl_app.cli import remote
from dl_app.cli.main import main
from dl_app.desktop import instance
from dl_app.desktop.shell import app_handlers
from dl_app.memory import Memory
from memory_helpers import export_text
from servers.openai_compat import OpenAICompatServer

# Never needed by a memory command; each costs 0.1-1 s to import.
HEAVY = ("openai", "boto3", "botocore", "webview", "PySide6", "qtpy", "markitdown", "httpx2")
# The command line's own work (parsing, asking the app) needs none of these either.
THIRD_PARTY = ("pydantic", "numpy", "pyarrow", "lancedb", "httpx", "keyring", *HEAVY)

# Runs one command line and reports, on its last stderr line, which packages it loaded.
PROBE = """
import json, sys
from dl_app.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""

APP = """
import sys
from pathlib import Path
from dl_app.bridge import Api
from dl_app.cli.main import main
from dl_app.desktop import instance
from dl_app.desktop.shell import app_handlers
root = Path(sys.argv[1])
api = Api(root)
inst = instance.claim(root, lambda _c: None, app_handlers(main, lambda: api))
print("ready" if inst else "busy", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer() as s:
        yield s


@pytest.fixture
def env(server: OpenAICompatServer, tmp_path: Path) -> dict[str, str]:
    """A data dir with five diary entries, embedded by the scripted service."""
    e = make_env(server, DL_DATA_DIR=str(tmp_path / "data"), LANG="en_US.UTF-8")
    with Memory.open(tmp_path / "data", env=e) as mem:
        mem.import_bytes(export_text(5).encode())
    return e


def probe(*argv: str, env: dict[str, str]) -> tuple[int, str, set[str]]:
    """Exit code, stdout and the top-level packages loaded by ``dl-app ARGV``."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True,
                          text=True, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], done.stdout, set(report["loaded"])


def test_the_command_line_itself_imports_no_third_party_package() -> None:
    code = ("import sys, dl_app.cli.main; "
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert set(THIRD_PARTY).isdisjoint(json.loads(done.stdout.replace("'", '"')))


def test_memory_commands_import_only_what_they_use(env: dict[str, str]) -> None:
    for argv in (["memory", "show", "--json"], ["memory", "search", "话题3", "--json"]):
        code, out, loaded = probe(*argv, env=env)
        assert code == 0 and json.loads(out)
        assert "lancedb" in loaded  # no app runs: the command opened the data dir itself
        assert set(HEAVY).isdisjoint(loaded), sorted(set(HEAVY) & loaded)


def test_a_search_with_the_built_in_embedder_opens_no_keyring(tmp_path: Path) -> None:
    """No key is needed to search: the chat model's key is read on its first request,
    and neither the keyring nor an HTTP client is loaded (0.1-0.2 s of a search)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
    env.update(DL_DATA_DIR=str(tmp_path / "data"), LANG="en_US.UTF-8",
               DL_LLM_BASE_URL="http://127.0.0.1:9/v1", DL_LLM_MODEL="qwen-test")
    with Memory.open(tmp_path / "data", env=env) as mem:  # the built-in embedder
        mem.import_bytes(export_text(3).encode())
    code, out, loaded = probe("memory", "search", "话题2", "--json", env=env)
    assert code == 0 and json.loads(out)[0]["title"] == "话题2的日记"
    assert {"keyring", "httpx"}.isdisjoint(loaded), sorted({"keyring", "httpx"} & loaded)


def test_the_running_app_answers_with_the_same_output(env: dict[str, str]) -> None:
    commands = (["memory", "show", "--json"], ["memory", "search", "话题3", "--json"],
                ["memory", "search", "话题3"], ["memory", "search", "nothing matches", "-k", "2"])
    alone = {tuple(a): probe(*a, env=env)[:2] for a in commands}
    assert json.loads(alone[tuple(commands[1])][1])[0]["title"] == "话题3的日记"
    app = subprocess.Popen([sys.executable, "-c", APP, env["DL_DATA_DIR"]], env=env,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "ready"
        for argv in commands:
            code, out, loaded = probe(*argv, env=env)
            assert (code, out) == alone[tuple(argv)]
            assert "lancedb" not in loaded and "pydantic" not in loaded  # the app answered
        # Another environment could give another answer: the command runs here.
        other = {**env, "DL_OLLAMA_URL": "http://127.0.0.1:9"}
        code, out, loaded = probe(*commands[0], env=other)
        assert (code, out) == alone[tuple(commands[0])] and "lancedb" in loaded
        # A command that changes memory is never sent to the app.
        code, _out, loaded = probe("memory", "consolidate", env=env)
        assert code == 0 and "lancedb" in loaded
    finally:
        assert app.stdin is not None
        app.stdin.close()
        app.wait(60)


def test_a_busy_or_missing_app_leaves_the_command_to_run_here(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = Path(env["DL_DATA_DIR"])
    with socket.socket() as s:  # an app that died: its instance.json names a closed port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (root / instance.INFO_FILE).write_text(json.dumps({"port": port, "token": "x"}))
    assert remote.ask(["memory", "show"]) is None
    api = Api(root)
    inst = instance.claim(root, lambda _c: None, app_handlers(main, lambda: api))
    assert inst is not None
    held, release = threading.Event(), threading.Event()

    def reply_in_progress() -> None:
        with api.borrow_memory(5):
            held.set()
            release.wait(30)

    worker = threading.Thread(target=reply_in_progress)
    try:
        worker.start()
        assert held.wait(30)
        assert remote.ask(["memory", "show", "--json"]) is None  # busy: declined
        release.set()
        worker.join(30)
        capsys.readouterr()
        assert remote.ask(["memory", "show", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert (shown["diaryCount"], shown["selfName"]) == (5, "小忆")
        assert remote.ask(["memory", "consolidate"]) is None  # not read-only
    finally:
        release.set()
        inst.close()
        api.close()
