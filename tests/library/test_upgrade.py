"""Upgrades keep memory: a data dir written by an earlier version opens with
everything intact (names, self-concept, profile, diary, archived messages, the open
conversation, vectors, settings, keys).

Each folder of tests/data/upgrade/ is one such data dir, written by the version its
FIXTURE.json names (tests/data/upgrade/make_fixture.py). Fixtures are never
regenerated: a new storage format gets a new folder beside the old ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dl_app import __version__
from dl_app.adapters.secrets import get_secret
from dl_app.core.errors import DataDirTooNew
from dl_app.datadir import FILE as FORMAT_FILE
from dl_app.datadir import FORMAT
from dl_app.memory import Memory
from dl_app.settings import load_settings
from where import DATA

FIXTURES = DATA / "upgrade"
VERSIONS = sorted(p.name for p in FIXTURES.iterdir() if (p / "FIXTURE.json").is_file())


@pytest.fixture(params=VERSIONS)
def old_data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict]:
    data = tmp_path / request.param
    shutil.copytree(FIXTURES / request.param, data)
    expected = json.loads((data / "FIXTURE.json").read_text(encoding="utf-8"))
    return data, expected


def test_there_is_a_fixture_of_the_first_release() -> None:
    assert "v0.1.0" in VERSIONS


def test_an_old_data_dir_opens_with_everything_intact(
    old_data_dir: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, expected = old_data_dir
    # The store without an OS keyring, as when the fixture was written.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    with Memory.open(data, env=env) as mem:
        export = mem.export_dict()
        export.pop("version")
        assert export == expected["export"]  # names, profile, diary, archive, conversation
        shown = mem.show()
        assert shown["indexedCount"] == shown["diaryCount"] == expected["indexed"]  # vectors
        hits = mem.search("黄山 日出 设计比赛", k=2)
        assert hits and all(h.similarity is not None for h in hits)
    settings = load_settings(data, env)
    for path, value in expected["settings"].items():
        group, name = path.split(".")
        assert getattr(getattr(settings, group), name) == value, path
    assert get_secret("llm_api_key", env, data) == expected["api_key"]


def test_a_data_dir_says_its_format_and_a_newer_one_is_refused_untouched(
    old_data_dir: tuple[Path, dict], openai_server
) -> None:
    data, _ = old_data_dir
    env = {"DL_LLM_BASE_URL": openai_server.base_url}
    assert not (data / FORMAT_FILE).exists()  # written before formats were numbered
    Memory.open(data, env=env).close()
    stamp = json.loads((data / FORMAT_FILE).read_text(encoding="utf-8"))
    assert stamp == {"format": FORMAT, "written_by": __version__}
    # A newer app wrote this data dir: refused, with what to do, and nothing changes.
    (data / FORMAT_FILE).write_text(
        json.dumps({"format": FORMAT + 1, "written_by": "9.0.0"}), encoding="utf-8"
    )
    before = {p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}
    with pytest.raises(DataDirTooNew, match=r"newer Digital Life \(9\.0\.0\).*Update Digital Life"):
        Memory.open(data, env=env)
    cli = run_cli(["memory", "show"], data, env)
    assert cli.returncode != 0 and "Update Digital Life" in cli.stderr, cli.stderr
    assert "Traceback" not in cli.stderr
    assert {p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()} == before


def run_cli(args: list[str], data: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "DL_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "dl_app", *args], env=full, capture_output=True, text=True,
        timeout=300,
    )
