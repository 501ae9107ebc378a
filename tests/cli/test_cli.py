"""The ``dl-app`` command line as a user (or a script) runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers.openai_compat import OpenAICompatServer


def dl(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dl_app", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    e["LANG"] = "C.UTF-8"  # the English words (tests/cli/test_cli_zh.py: the Chinese)
    e["DL_DATA_DIR"] = str(tmp_path / "data")
    e["DL_LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens: no model needed here
    return e


def diary_file(tmp_path: Path) -> Path:
    """A memory export in the original app's format with diary entries in
    both languages; the ids look like the original's."""
    entries = [
        (
            "11111111-1111-4111-8111-111111111111",
            "泰山日出",
            "我和用户一起聊了去泰山看日出的计划，他很兴奋。",
        ),
        (
            "22222222-2222-4222-8222-222222222222",
            "猫咪生病",
            "用户的猫咪咪咪生病了，去了宠物医院，我安慰了他。",
        ),
        (
            "33333333-3333-4333-8333-333333333333",
            "Learning guitar",
            "The user started guitar lessons; his fingers hurt but he loves the chords.",
        ),
        (
            "44444444-4444-4444-8444-444444444444",
            "Sister's wedding",
            "The user's sister is getting married in Paris next spring.",
        ),
        ("55555555-5555-4555-8555-555555555555", "加班", "用户最近工作很忙，经常加班到深夜。"),
    ]
    data = {
        "selfName": "小叶子",
        "userName": "阿明",
        "memoryAboutSelf": "我喜欢爬山。",
        "memoryAboutUser": "用户养了一只猫。",
        "longTermMemory": [
            {
                "uuid": u,
                "title": t,
                "summary": s,
                "startTime": 1_700_000_000_000 + i * 86_400_000,
                "endTime": 1_700_000_000_000 + i * 86_400_000 + 3_600_000,
            }
            for i, (u, t, s) in enumerate(entries)
        ],
        "shortTermMemory": [],
        "archivedMemory": [],
        "currentSummary": "",
    }
    path = tmp_path / "memory.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_search_show_export_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    src = diary_file(tmp_path)
    out = dl("memory", "import", str(src), env=env)
    assert out.returncode == 0, out.stderr
    assert "Imported 5 diary entries" in out.stdout
    assert "(小叶子 & 阿明)" in out.stdout  # the names, from the preview
    assert "Indexing diary entries: 5/5" in out.stderr  # progress

    found = dl("memory", "search", "咪咪去医院看病", "--json", "-k", "3", env=env)
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert rows[0]["uuid"] == "22222222-2222-4222-8222-222222222222"
    assert {"uuid", "title", "startTime", "endTime", "score"} <= rows[0].keys()
    assert len(rows) <= 3 and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))

    english = dl("memory", "search", "when is my sister's wedding", "--json", env=env)
    assert json.loads(english.stdout)[0]["title"] == "Sister's wedding"

    plain = dl("memory", "search", "泰山", env=env)
    assert plain.stdout.startswith("1. 泰山日出")

    shown = json.loads(dl("memory", "show", "--json", env=env).stdout)
    assert shown["diaryCount"] == 5 and shown["indexedCount"] == 5
    assert shown["userName"] == "阿明"

    exported = dl("memory", "export", "-", env=env)
    data = json.loads(exported.stdout)
    original = json.loads(src.read_text(encoding="utf-8"))
    assert sorted(e["uuid"] for e in data["longTermMemory"]) == sorted(
        e["uuid"] for e in original["longTermMemory"]
    )
    # ... and back in again: the ids still survive.
    again = tmp_path / "again.json"
    again.write_text(exported.stdout, encoding="utf-8")
    assert dl("memory", "import", str(again), env=env).returncode == 0
    final = json.loads(dl("memory", "export", "-", env=env).stdout)
    assert [e["uuid"] for e in final["longTermMemory"]] == [
        e["uuid"] for e in data["longTermMemory"]
    ]
    assert list((Path(env["DL_DATA_DIR"]) / "backups").glob("memory-before-import-*.json"))


SHORT = json.dumps({
    "selfName": "A", "userName": "B", "memoryAboutSelf": "", "memoryAboutUser": "",
    "longTermMemory": [], "archivedMemory": [], "currentSummary": "",
    "shortTermMemory": [{"role": "user", "content": "hi", "timestamp": 5}],
}).encode()


@pytest.mark.parametrize(
    "content",
    [
        b'{"selfName": "x", "userName": ',  # truncated
        b"[1, 2, 3]",  # wrong type
        json.dumps({"selfName": 1}).encode(),  # missing keys, wrong types
        b"\xff\xfe\x00garbage",
        SHORT.replace(b'"content": "hi"', b'"content": "a\\ud800b"'),  # a lone surrogate
        SHORT.replace(b'"role": "user"', b'"role": ""'),
    ],
    ids=["truncated", "array", "wrong-types", "garbage", "lone-surrogate", "empty-role"],
)
def test_broken_import_is_refused_and_memory_is_unchanged(
    env: dict[str, str], tmp_path: Path, content: bytes
) -> None:
    assert dl("memory", "import", str(diary_file(tmp_path)), env=env).returncode == 0
    before = dl("memory", "export", "-", env=env).stdout
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    out = dl("memory", "import", str(bad), env=env)
    assert out.returncode != 0
    assert out.stdout == ""
    assert out.stderr.startswith("dl-app: ") and len(out.stderr) > 20
    assert "Traceback" not in out.stderr
    assert dl("memory", "export", "-", env=env).stdout == before
    assert not (Path(env["DL_DATA_DIR"]) / "import-pending.json").exists()
    good = tmp_path / "good.json"
    good.write_bytes(SHORT)
    assert dl("memory", "import", str(good), env=env).returncode == 0


def test_errors_go_to_stderr_with_a_nonzero_exit(env: dict[str, str]) -> None:
    out = dl("chat", env=env, stdin="hello\n")
    assert out.returncode == 1 and out.stdout == ""
    assert "Cannot reach" in out.stderr or "127.0.0.1:9" in out.stderr
    missing = dl("memory", "import", "/nonexistent/file.json", env=env)
    assert missing.returncode == 1 and "Cannot read" in missing.stderr


def test_show_and_consolidate_on_an_empty_memory(env: dict[str, str]) -> None:
    shown = dl("memory", "show", env=env)
    assert shown.returncode == 0 and "Diary entries:  0" in shown.stdout
    out = dl("memory", "consolidate", env=env)
    assert out.returncode == 0 and "Nothing to consolidate" in out.stderr
    assert json.loads(dl("memory", "search", "anything", "--json", env=env).stdout) == []


def test_chat_starts_when_the_embedding_service_is_down(
    env: dict[str, str], openai_server: OpenAICompatServer
) -> None:
    env.update(DL_LLM_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="e",
               DL_EMBED_BASE_URL="http://127.0.0.1:9/v1")  # nothing listens
    out = dl("chat", env=env, stdin="hello\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "I hear you: hello\n"
    assert "Cannot reach the embedding service" in out.stderr
    assert "full-text search only for now" in out.stderr



OPEN = """
import gc, json
from dl_app.cli.common import open_memory
from dl_app.core.errors import StoreError
try:
    open_memory().close()
except StoreError:
    print("StoreError")
print(json.dumps(gc.isenabled()))
"""


def test_opening_the_memory_leaves_the_cycle_collector_on(env: dict[str, str]) -> None:
    """``open_memory`` keeps Python's cycle collector off while it opens the data dir
    (``cli/common.py``): it is on again afterwards, also when the open fails, and a
    store that cannot open is still said on stderr with exit code 1."""
    done = subprocess.run([sys.executable, "-c", OPEN], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.split() == ["true"], done.stderr
    store = Path(env["DL_DATA_DIR"]) / "diary.lance"
    shutil.rmtree(store)
    store.write_text("not a store", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", OPEN], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.split() == ["StoreError", "true"], done.stderr
    search = dl("memory", "search", "x", "--json", env=env)
    assert search.returncode == 1 and search.stdout == ""
    assert search.stderr.startswith(f"dl-app: The diary store at {store} failed:")
