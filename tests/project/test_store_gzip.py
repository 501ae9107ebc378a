"""build/store_gzip.py, which build/build.sh runs on pdfminer's character maps: the
files read back the same through gzip (as pdfminer reads them), non-gzip files are left
alone, and xz packs the stored copies of the real maps far smaller."""

from __future__ import annotations

import gzip
import importlib.util
import lzma
import shutil
import tarfile
from io import BytesIO
from pathlib import Path

import pdfminer

from where import ROOT

spec = importlib.util.spec_from_file_location("store_gzip", ROOT / "build" / "store_gzip.py")
assert spec and spec.loader
store_gzip = importlib.util.module_from_spec(spec)
spec.loader.exec_module(store_gzip)

CMAPS = Path(pdfminer.__file__).parent / "cmap"


def _xz_of_dir(folder: Path) -> int:
    buf = BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(folder, arcname=".")
    return len(lzma.compress(buf.getvalue(), preset=6))


def test_the_maps_read_back_the_same_and_pack_smaller(tmp_path: Path) -> None:
    names = ["UniGB-UCS2-H.json.gz", "UniGB-UCS2-V.json.gz", "UniGB-UTF16-H.json.gz",
             "UniGB-UTF16-V.json.gz", "to-unicode-Adobe-GB1.json.gz"]
    maps = tmp_path / "cmap"
    maps.mkdir()
    for name in names:
        shutil.copy(CMAPS / name, maps / name)
    (maps / "README.txt").write_text("not gzip")
    before = _xz_of_dir(maps)
    assert store_gzip.main([str(p) for p in sorted(maps.iterdir())]) == 0
    for name in names:
        with gzip.open(maps / name, "rt", encoding="utf-8") as stored, \
                gzip.open(CMAPS / name, "rt", encoding="utf-8") as shipped:
            assert stored.read() == shipped.read()
    assert (maps / "README.txt").read_text() == "not gzip"
    assert not list(maps.glob("*.tmp"))
    after = _xz_of_dir(maps)
    assert after < before / 3, (before, after)
