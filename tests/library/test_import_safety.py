"""An import never leaves the memory half-replaced or unopenable: a failure
while replacing is rolled back, and a staged import (``import-pending.json``)
that cannot be finished never stops the memory from opening."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from dl_app.adapters.state_sqlite import SqliteStateStore
from dl_app.core.errors import StoreError
from dl_app.memory import Memory
from dl_app.memory_files import PENDING_IMPORT
from memory_helpers import make_export
from servers.openai_compat import OpenAICompatServer


@pytest.fixture
def data(
    openai_server: OpenAICompatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_EMBED_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_EMBED_MODEL", "test-embed")
    return tmp_path / "data"


@pytest.fixture
def mem(data: Path) -> Iterator[Memory]:
    with Memory.open(data) as m:
        m.import_bytes(json.dumps(make_export(3, user_name="First")).encode())
        yield m


def failing_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next ``replace_all`` fails (as an unencodable text made it fail)."""
    real = SqliteStateStore.replace_all
    calls = []

    def replace_all(self: SqliteStateStore, snapshot: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        real(self, snapshot)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteStateStore, "replace_all", replace_all)


def test_an_import_failing_midway_puts_the_old_memory_back(
    mem: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = mem.export_dict()
    failing_once(monkeypatch)
    with pytest.raises(StoreError, match="put back"):
        mem.import_bytes(json.dumps(make_export(5, user_name="Second")).encode())
    assert mem.export_dict() == before
    assert not (mem.data_dir / PENDING_IMPORT).exists()
    assert list(mem.data_dir.glob("import-pending-failed-*.json"))  # kept, not deleted


def test_a_staged_import_that_cannot_be_applied_is_rolled_back_on_open(
    mem: Memory, data: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before, diary = mem.export_dict(), mem.snapshot().diary
    backup = mem._backup()
    assert backup is not None
    mem.close()
    staged = {"export": make_export(5, user_name="Second"), "backup": backup.name}
    (data / PENDING_IMPORT).write_text(json.dumps(staged), encoding="utf-8")
    failing_once(monkeypatch)
    with caplog.at_level(logging.WARNING), Memory.open(data) as again:
        assert again.export_dict()["userName"] == before["userName"] == "First"
        assert again.snapshot().diary == diary
    assert "put back" in caplog.text and backup.name in caplog.text
    assert not (data / PENDING_IMPORT).exists()


@pytest.mark.parametrize(
    "staged",
    [
        # What the bug left behind: a file with a lone surrogate, staged before the fix.
        '{"export": {"selfName": "A", "userName": "B", "memoryAboutSelf": "", '
        '"memoryAboutUser": "", "longTermMemory": [], "shortTermMemory": [{"role": "user", '
        '"content": "a\\ud800b", "timestamp": 5}], "archivedMemory": [], "currentSummary": ""}}',
        "{not json",
        "[1, 2]",
        '{"export": 3}',
    ],
    ids=["lone-surrogate", "not-json", "not-object", "bad-export"],
)
def test_an_unreadable_staged_import_never_bricks_the_memory(
    mem: Memory, data: Path, staged: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = mem.export_dict()
    mem.close()
    (data / PENDING_IMPORT).write_text(staged, encoding="utf-8")
    with caplog.at_level(logging.WARNING), Memory.open(data) as again:
        assert again.export_dict() == before
        again.import_bytes(json.dumps(make_export(2)).encode())  # and later imports work
    assert "could not be read" in caplog.text
    kept = list(data.glob("import-pending-failed-*.json"))
    assert [p.read_text(encoding="utf-8") for p in kept] == [staged]  # moved aside, not deleted
    assert not (data / PENDING_IMPORT).exists()
