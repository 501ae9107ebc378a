"""build/drop_needed.py, which build/build.sh runs on pyarrow's libraries: it removes
exactly the named DT_NEEDED entry of a real shared object and keeps the others."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pyarrow
import pytest

from where import ROOT

spec = importlib.util.spec_from_file_location("drop_needed", ROOT / "build" / "drop_needed.py")
assert spec and spec.loader
drop_needed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drop_needed)

pytestmark = pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf")


def needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line]


def test_removes_one_entry_and_keeps_the_rest(tmp_path: Path) -> None:
    (src,) = Path(pyarrow.__file__).parent.glob("_substrait.*.so")
    copy = tmp_path / src.name
    shutil.copy(src, copy)
    before = needed(copy)
    (lib,) = [n for n in before if n.startswith("libarrow_substrait.so")]
    assert drop_needed.drop_needed(copy, lib) is True
    assert needed(copy) == [n for n in before if n != lib]
    assert copy.stat().st_size == src.stat().st_size
    # A second run, or a name the file does not list, changes nothing.
    data = copy.read_bytes()
    assert drop_needed.drop_needed(copy, lib) is False
    assert drop_needed.drop_needed(copy, "libnothing.so.1") is False
    assert copy.read_bytes() == data
