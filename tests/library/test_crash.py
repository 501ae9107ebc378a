"""Kill a real ``dl-app`` process during consolidation; the next start must
have lost nothing and duplicated nothing."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dl_app.adapters.diary_tables import vec_table_name
from memory_helpers import export_text
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer

pytestmark = pytest.mark.slow

DL_APP = [sys.executable, "-m", "dl_app"]


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        DL_APP + args, input=stdin, env=env, capture_output=True, text=True, timeout=120
    )


def show(env: dict[str, str]) -> dict[str, object]:
    out = run(["memory", "show", "--json"], env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.005)
    raise AssertionError("timed out")


def phase(data_dir: Path) -> str:
    """Where the killed process stopped, read straight from the state file."""
    db = sqlite3.connect(data_dir / "state.sqlite3")
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        count = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    finally:
        db.close()
    if meta.get("pending"):
        return "pending"
    return "before-write" if count else "done"


@pytest.fixture
def env(openai_server: OpenAICompatServer, tmp_path: Path) -> dict[str, str]:
    openai_server.default_responder = companion_responder
    e = dict(os.environ)
    e.update(
        DL_LLM_BASE_URL=openai_server.base_url,
        DL_LLM_MODEL="qwen-test",
        DL_DATA_DIR=str(tmp_path / "data"),
        LANG="zh_CN.UTF-8",
    )
    return e


def test_chat_over_a_pipe(env: dict[str, str], openai_server: OpenAICompatServer) -> None:
    openai_server.enqueue("第一句回答", "第二句回答")
    out = run(["chat"], env, stdin="你好\n\n再见\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["第一句回答", "第二句回答"]
    assert show(env)["conversationMessages"] == 4


def test_a_reply_that_just_stops_fails_the_turn_and_is_not_stored(
    env: dict[str, str], openai_server: OpenAICompatServer
) -> None:
    """The stream closes cleanly with neither a finish reason nor [DONE]."""
    event = {"choices": [{"index": 0, "delta": {"content": "半句"}, "finish_reason": None}]}
    cut = f"data: {json.dumps(event)}\n\n".encode()
    cut_reply = ChatReply(raw=cut, content_type="text/event-stream")
    openai_server.enqueue(cut_reply, cut_reply)  # and again when asked once more
    out = run(["chat"], env, stdin="你好\n")
    assert out.returncode == 1 and out.stdout == ""
    assert "回复中途断了" in out.stderr  # the terminal speaks Chinese (LANG=zh_CN.UTF-8)
    assert show(env)["conversationMessages"] == 0


def test_kill_during_consolidation_loses_and_duplicates_nothing(
    env: dict[str, str], openai_server: OpenAICompatServer
) -> None:
    rng = random.Random(7)
    outcomes: list[str] = []
    out = run(["chat"], env, stdin="我养了一只猫\n它叫咪咪\n")
    assert out.returncode == 0, out.stderr
    # The last model call of a consolidation is the profile update; after it
    # the process embeds and writes. Kill at random moments around then, and
    # once while it waits for the model.
    delays = [None, 0.0, 0.02, 0.05, 0.1, 0.2, rng.uniform(0, 0.5), rng.uniform(0, 1.0)]
    for attempt, delay in enumerate(delays):
        before = show(env)
        openai_server.clear_requests()
        if delay is None:
            openai_server.route(
                lambda r: purpose_of(r) == "title", ChatReply(content="慢", delay=30)
            )
        proc = subprocess.Popen(
            [*DL_APP, "memory", "consolidate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        purpose = "title" if delay is None else "profile"
        wait_for(lambda p=purpose: any(purpose_of(r) == p for r in openai_server.chat_requests))
        time.sleep(delay or 0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if delay is None:
            openai_server._routes.clear()
        outcomes.append(phase(Path(env["DL_DATA_DIR"])))
        after = show(env)  # this start recovers a half-finished consolidation
        diary = int(after["diaryCount"])  # type: ignore[arg-type]
        if after["conversationMessages"] == before["conversationMessages"]:
            assert diary == before["diaryCount"], (attempt, before, after)
        else:
            assert after["conversationMessages"] == 0, (attempt, after)
            assert diary == int(before["diaryCount"]) + 1, (attempt, before, after)  # type: ignore[arg-type]
            run(["chat"], env, stdin=f"第{attempt}次：我们继续聊\n")
    print("kill outcomes:", outcomes)
    assert outcomes[0] == "before-write"
    assert "before-write" in outcomes[1:] or "pending" in outcomes or "done" in outcomes
    final = run(["memory", "export", "-"], env)
    data = json.loads(final.stdout)
    uuids = [e["uuid"] for e in data["longTermMemory"]]
    assert len(uuids) == len(set(uuids))
    belong = {m["belongTo"] for m in data["archivedMemory"]}
    assert belong == set(uuids)
    assert data["shortTermMemory"] or uuids


# -- kills at exact LanceDB commit points (strace fault injection) -------------

needs_strace = pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")


def killed_at_mkdir(path: Path, when: int, args: list[str], env: dict[str, str]) -> None:
    """Run ``dl-app args``, SIGKILLed at the ``when``-th mkdir of ``path``."""
    out = subprocess.run(
        ["strace", "-f", "-qq", "-o", os.devnull, "-P", str(path), "-e", "trace=mkdir",
         "-e", f"inject=mkdir:signal=KILL:when={when}", *DL_APP, *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (out.returncode, out.stderr)


# A table's first commit: mkdir _transactions (fails: the table's folder is
# made next), mkdir _transactions, write it, mkdir _versions, write the manifest.
HALF_CREATED = [("_transactions", 2), ("_versions", 1)]


@needs_strace
@pytest.mark.parametrize(("folder", "when"), HALF_CREATED)
def test_a_kill_during_the_first_open_of_a_data_dir_is_repaired(
    env: dict[str, str], folder: str, when: int
) -> None:
    data = Path(env["DL_DATA_DIR"])
    killed_at_mkdir(data / "diary.lance" / "diary.lance" / folder, when, ["memory", "show"], env)
    assert show(env)["diaryCount"] == 0
    aside = list((data / "diary.lance.set-aside").iterdir())
    assert [p.name.startswith("diary-") for p in aside] == [True]  # moved, not deleted


@needs_strace
@pytest.mark.parametrize(("folder", "when"), HALF_CREATED)
def test_a_kill_while_the_vector_table_is_created_is_repaired(
    env: dict[str, str], openai_server: OpenAICompatServer, tmp_path: Path, folder: str, when: int
) -> None:
    env.update(DL_EMBED_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="test-embed")
    export = tmp_path / "memory.json"
    export.write_text(export_text(3), encoding="utf-8")
    vec = vec_table_name("openai:test-embed", openai_server.embed_dimensions)
    table = Path(env["DL_DATA_DIR"]) / "diary.lance" / f"{vec}.lance"
    assert show(env)["diaryCount"] == 0
    killed_at_mkdir(table / folder, when, ["memory", "import", str(export)], env)
    shown = show(env)
    assert shown["diaryCount"] == 3 and shown["indexedCount"] == 0
    out = run(["memory", "reindex"], env)
    assert out.returncode == 0, out.stderr
    assert show(env)["indexedCount"] == 3
