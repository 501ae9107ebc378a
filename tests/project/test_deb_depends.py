"""installer/linux/depends.txt: the .deb's Depends and the system libraries the bundle
leaves out for them (build/dl-app.spec drops them, build_deb.sh lists the packages).
Each library must come from the package named beside it, or the installed app would
find it missing on a machine that has only the Depends."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from where import ROOT

DEPENDS = ROOT / "installer" / "linux" / "depends.txt"
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu")


def entries() -> list[tuple[list[str], list[str]]]:
    out = []
    for line in DEPENDS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        packages, _, libs = line.partition(":")
        out.append(([p.strip() for p in packages.split("|")], libs.split()))
    return out


def test_the_file_is_well_formed() -> None:
    found = entries()
    names = [p for packages, _ in found for p in packages]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", n) for n in names), names
    assert len(names) == len(set(names))
    libs = [lib for _, ls in found for lib in ls]
    assert len(libs) == len(set(libs))
    assert all(re.fullmatch(r"lib[\w+.-]+\.so(\.[\d.]+)?", lib) for lib in libs), libs
    # What the window needs from the system, always: GL, NSS, the xcb helpers.
    assert {"libegl1", "libgl1", "libnss3", "libxcb-cursor0"} <= set(names)


def test_build_deb_lists_every_package() -> None:
    script = (ROOT / "installer" / "linux" / "build_deb.sh").read_text()
    (line,) = [x for x in script.splitlines() if x.startswith("DEPENDS=")]
    assert "Depends: libc6 (>= $GLIBC), $DEPENDS" in script
    done = subprocess.run(["bash", "-c", f'{line}; printf %s "$DEPENDS"'], capture_output=True,
                          text=True, env=dict(os.environ, ROOT=str(ROOT)), check=True)
    listed = [p.strip() for p in done.stdout.split(",")]
    assert listed == [" | ".join(packages) for packages, _ in entries()]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian)")
def test_each_library_comes_from_its_package() -> None:
    # dpkg knows a file by the path its package installed (/lib or /usr/lib, before or
    # after merged /usr), by its real name or the link's: ask for all at once.
    wanted: dict[str, list[Path]] = {}
    for _, libs in entries():
        for lib in libs:
            path = next((Path(d) / lib for d in LIB_DIRS if (Path(d) / lib).exists()), None)
            names = (lib, path.resolve().name) if path else (lib,)
            wanted[lib] = [Path(d) / n for d in LIB_DIRS for n in names]
    done = subprocess.run(["dpkg", "-S", *{str(p) for ps in wanted.values() for p in ps}],
                          capture_output=True, text=True)  # exit 1: some paths are no one's
    owner_of = {}
    for line in done.stdout.splitlines():
        owner, _, path = line.partition(": ")
        owner_of[path] = owner.split(":", 1)[0]
    wrong = []
    for packages, libs in entries():
        for lib in libs:
            owners = {owner_of[str(p)] for p in wanted[lib] if str(p) in owner_of}
            if not owners or not owners <= set(packages):
                wrong.append(f"{lib}: from {sorted(owners) or 'no package'}, not {packages}")
    assert not wrong, wrong
