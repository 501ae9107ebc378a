"""build/trim_icu.py, which build/build.sh runs on the Linux bundle's ICU data library:
on the real library PySide6 ships, the kept items are exactly the rules' choice and
unchanged, ICU's own icupkg finds no kept item missing what it depends on, and Qt,
loading the rewritten library, still collates Chinese, names time zones and decodes
GB18030/GBK/Big5 (the selftest's "qt text" check; it fails when the data is gone)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from where import ROOT

spec = importlib.util.spec_from_file_location("trim_icu", ROOT / "build" / "trim_icu.py")
assert spec and spec.loader
trim_icu = importlib.util.module_from_spec(spec)
spec.loader.exec_module(trim_icu)

PySide6 = pytest.importorskip("PySide6")
LIBS = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux") or not LIBS,
                       reason="PySide6 bundles ICU on Linux only"),
    pytest.mark.skipif(shutil.which("as") is None or shutil.which("ld") is None,
                       reason="needs binutils (as, ld), as the build does"),
]


def _package(lib: Path) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    data = lib.read_bytes()
    _symbol, offset, size = trim_icu.find_symbol(data)
    package = data[offset:offset + size]
    header, items = trim_icu.read_package(package)
    return package, header, items


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("icu") / LIBS[0].name
    shutil.copy(LIBS[0], out)
    trim_icu.trim(out)
    return out


def _qt_text(lib_dir: Path) -> str:
    """The selftest's check, run by Qt with the ICU data library found in ``lib_dir``."""
    code = ("from PySide6.QtCore import QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "from dl_app.desktop.selfcheck import _qt_text\n"
            "try:\n    print('ok:', _qt_text(None))\n"
            "except RuntimeError as e:\n    print('failed:', e)\n")
    env = dict(os.environ, LD_LIBRARY_PATH=str(lib_dir), QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_keeps_exactly_the_chosen_items_unchanged(trimmed: Path) -> None:
    _pkg, header, before = _package(LIBS[0])
    _pkg2, header2, after = _package(trimmed)
    prefix = before[0][0].split("/", 1)[0] + "/"
    assert prefix.startswith("icudt") and header2 == header
    wanted = [(n, d) for n, d in before if trim_icu.keep(n.removeprefix(prefix))]
    assert [n for n, _ in after] == [n for n, _ in wanted]
    assert all(a == b for (_, a), (_, b) in zip(after, wanted, strict=True))
    names = {n.removeprefix(prefix) for n, _ in after}
    for needed in ("root.res", "zh.res", "en.res", "coll/zh.res", "coll/ucadata.icu",
                   "zone/zh.res", "zoneinfo64.res", "metaZones.res", "cnvalias.icu",
                   "gb18030.cnv", "res_index.res", "coll/res_index.res", "pool.res"):
        assert needed in names
    for dropped in ("de.res", "coll/de.res", "brkitr/cjdict.dict", "curr/zh.res",
                    "unit/en.res", "ibm-37_P100-1995.cnv", "zone/fr.res"):
        assert dropped not in names
    assert trimmed.stat().st_size < LIBS[0].stat().st_size / 4


def test_icupkg_finds_every_dependency_kept(tmp_path: Path, trimmed: Path) -> None:
    if shutil.which("icupkg") is None:
        pytest.skip("needs icupkg (Debian's icu-devtools; .ci/run installs it)")
    package, _header, items = _package(LIBS[0])
    prefix = items[0][0].split("/", 1)[0] + "/"
    name = prefix.rstrip("/") + ".dat"  # icupkg wants the items' prefix as the file name
    (tmp_path / name).write_bytes(package)
    dropped = [n.removeprefix(prefix) for n, _ in items
               if not trim_icu.keep(n.removeprefix(prefix))]
    (tmp_path / "drop.txt").write_text("\n".join(dropped) + "\n")
    done = subprocess.run(["icupkg", "-r", "drop.txt", name, "out.dat"], cwd=tmp_path,
                          capture_output=True, text=True)
    # icupkg refuses ("Item X depends on missing item Y") when a kept item needs a
    # dropped one; windows-936-2000.cnv needing ibm-1386_P100-2001.cnv was one.
    assert done.returncode == 0, done.stderr


def test_qt_still_reads_what_it_needs(trimmed: Path) -> None:
    assert _qt_text(trimmed.parent).startswith("ok: collation")


def test_the_check_fails_without_chinese_collation(tmp_path: Path) -> None:
    data = LIBS[0].read_bytes()
    symbol, offset, size = trim_icu.find_symbol(data)
    header, items = trim_icu.read_package(data[offset:offset + size])
    kept = [(n, d) for n, d in items if "/coll/zh" not in n]
    trim_icu.link_library(trim_icu.write_package(header, kept), symbol, LIBS[0].name,
                          tmp_path / LIBS[0].name)
    assert _qt_text(tmp_path) == "failed: Chinese collation missing: 阿 sorts after 不"
