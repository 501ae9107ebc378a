"""Generated hostile import files (tests/import_fuzz_files.py) through the
library and, a sample, through ``dl-app memory import``.

After every refused file the memory is unchanged (its export byte-identical,
no backup written, nothing staged) and the error is ``ImportFailed`` with a
message that says where; after every accepted one the memory opens again and
exports the same, and that export imports. The preview and the import agree.
Fixed seed (``derandomize``) and a fixed number of files: the same files every run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dl_app.core.errors import DLError, ImportFailed
from dl_app.memory import Memory
from dl_app.memory_files import BACKUPS, PENDING_IMPORT
from import_fuzz_files import KINDS, dumps, exports, hostile_files
from memory_helpers import make_export
from servers.openai_compat import OpenAICompatServer

pytestmark = pytest.mark.slow

EXAMPLES = 12  # files of each kind; about a minute in all on a busy 2-core machine

# A refusal names a place: a field path, a line and column, or the whole file.
WHOLE_FILE = re.compile(
    r"^(The file is empty\.|The file is too large .*|The file is nested too deeply.*"
    r"|The file is not valid JSON: .*|This file is not a memory export: expected a JSON "
    r"object at the top level, got .*)$", re.S)
AT_LINE = re.compile(r"^The file is not (UTF-8 text|valid JSON).* at line \d+, column \d+")
PROBLEM = re.compile(r"^- (?P<path>[^:]+): .+")


def assert_located(error: ImportFailed | str) -> None:
    text = str(error)
    assert "Traceback" not in text
    if WHOLE_FILE.match(text) or AT_LINE.match(text):
        return
    head, *problems = text.split("\n")
    assert head.startswith("This file is not a valid memory export ("), text
    assert problems, text
    for line in problems:
        m = PROBLEM.match(line)
        assert m is not None or line.startswith("- … and "), (line, text)
        if m is not None:
            first = re.split(r"[.\[, ]", m["path"])[0]
            assert first in {*make_export(0), "version", "top"}, (line, text)


def env_for(server: OpenAICompatServer) -> dict[str, str]:
    return {"DL_LLM_BASE_URL": server.base_url, "DL_EMBED_BASE_URL": server.base_url,
            "DL_EMBED_MODEL": "test-embed", "LANG": "en_US.UTF-8"}


def state_of(mem: Memory) -> tuple[bytes, list[str], bool]:
    data = mem.data_dir
    backups = sorted(p.name for p in (data / BACKUPS).glob("*")) if (data / BACKUPS).exists() else []
    return mem.export_bytes(), backups, (data / PENDING_IMPORT).exists()


def test_hostile_files_never_change_or_break_the_memory(
    openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    env, data = env_for(openai_server), tmp_path / "data"
    box = {"mem": Memory.open(data, env=env)}
    box["mem"].import_bytes(dumps(make_export(2)))
    seen: dict[str, list[int]] = {}  # kind -> [accepted, refused]

    def check(case: tuple[str, bytes]) -> None:
        kind, raw = case
        mem = box["mem"]
        before = state_of(mem)
        try:
            preview = mem.preview_import(raw)
        except ImportFailed as e:
            assert_located(e)
            preview = None
        try:
            mem.import_bytes(raw)
        except ImportFailed as e:
            assert preview is None, f"the preview accepted what the import refused: {e}"
            assert_located(e)
            assert state_of(mem) == before  # byte-identical, no backup, nothing staged
            seen.setdefault(kind, [0, 0])[1] += 1
            return
        assert preview is not None, "the import accepted what the preview refused"
        exported = mem.export_bytes()
        assert not (data / PENDING_IMPORT).exists()
        mem.close()
        box["mem"] = mem = Memory.open(data, env=env)
        assert mem.export_bytes() == exported  # it opens and exports the same
        assert mem.show()["indexedCount"] == preview["diary_entries"]
        mem.preview_import(exported)  # and that export imports
        seen.setdefault(kind, [0, 0])[0] += 1

    try:
        for kind in KINDS:
            settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                     suppress_health_check=list(HealthCheck))(given(hostile_files(kind))(check))()
    finally:
        box["mem"].close()
    print("accepted/refused by kind:", json.dumps(seen, sort_keys=True))
    assert sum(a for a, _ in seen.values()) >= 10 and sum(r for _, r in seen.values()) >= 50


def cli_files(good: dict[str, object]) -> dict[str, bytes]:
    """A sample of hostile files for the command line: all refused."""
    bad = json.loads(json.dumps(good))
    text = json.dumps(good, ensure_ascii=False)
    return {
        "surrogate-escape": json.dumps(
            {**bad, "shortTermMemory": [{"role": "user", "content": "a\ud800b", "timestamp": 5}]}
        ).encode(),
        "empty-role": dumps({**bad, "archivedMemory": [{**bad["archivedMemory"][0], "role": ""}]}),
        "nan-time": dumps({**bad, "longTermMemory": [
            {**bad["longTermMemory"][0], "startTime": float("nan")}]}),
        "gbk": text.encode("gbk"),
        "binary": bytes(range(256)) * 4,
        "truncated": text.encode()[: len(text) // 2],
        "deep": b'{"selfName": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    }


def test_the_command_line_refuses_hostile_files_and_keeps_the_memory(
    openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    env = {**os.environ, **env_for(openai_server), "DL_DATA_DIR": str(tmp_path / "data")}

    def dl(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "dl_app", *args], env=env,
                              capture_output=True, timeout=120)

    good = make_export(2)
    path = tmp_path / "memory.json"
    path.write_bytes(dumps(good))
    assert dl("memory", "import", str(path)).returncode == 0
    before = dl("memory", "export", "-").stdout
    for case, raw in cli_files(good).items():
        path.write_bytes(raw)
        out = dl("memory", "import", str(path))
        err = out.stderr.decode()
        assert b"Traceback" not in out.stderr + out.stdout, (case, err)
        assert out.returncode == 1 and err.startswith("dl-app: "), (case, err)
        assert_located(err.removeprefix("dl-app: ").strip())
    assert dl("memory", "export", "-").stdout == before  # byte-identical
    # Valid memory in another encoding (UTF-16 with a BOM) is accepted.
    path.write_bytes(json.dumps({**good, "selfName": "小红"}, ensure_ascii=False).encode("utf-16"))
    out = dl("memory", "import", str(path))
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(dl("memory", "export", "-").stdout)["selfName"] == "小红"


def test_every_generated_valid_export_is_accepted_by_the_parser() -> None:
    """The generator's base files are valid (else the fuzz only tests refusals)."""
    from dl_app.core.exchange import load_export_bytes, parse_export
    from dl_app.core.models import Profile

    @settings(max_examples=50, derandomize=True, database=None, deadline=None)
    @given(exports())
    def check(data: dict[str, object]) -> None:
        try:
            result = parse_export(load_export_bytes(dumps(data)), default_profile=Profile(
                self_name="A", user_name="B", memory_about_self="", memory_about_user=""))
        except DLError as e:  # pragma: no cover - a failure message
            pytest.fail(f"valid export refused: {e}")
        follow = [f for e in data["longTermMemory"] for f in e.get("followUps", [])]  # type: ignore[attr-defined]
        assert len(result.snapshot.follow_ups) == len(follow)
        drawn[0] += len(follow)

    drawn = [0]

    check()
    assert drawn[0] >= 10  # follow-ups are in the generated files (so in the hostile ones)
