"""The build and installer scripts name only files and folders that exist in the repo.

The Windows and macOS builds cannot run here (unverified on Windows/macOS), so a
renamed icon, licence folder or script would only show on the release runner. Each
script is parsed for the repo paths it names (PyInstaller spec: its ``ROOT / ...``
expressions; shell: ``$ROOT/...`` and variables made from it; PowerShell:
``Join-Path $Root ...``; Inno Setup: ``..\\..\\...`` relative to the script) and for
the ``dl_app`` modules it runs or imports. Paths under ``build/out/`` are what the
build generates and are exempt.
"""

from __future__ import annotations

import ast
import posixpath
import re
from pathlib import Path

import pytest

from where import ROOT

# What the scripts make: the build's output, and ci-package.sh's build venv.
GENERATED = ("build/out", ".venv-build")

SCRIPTS = [
    "build/dl-app.spec",
    "build/build.sh",
    "build/build.ps1",
    "build/selftest_bundle.sh",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "installer/windows").glob("*.iss")),
    "installer/macos/build_dmg.sh",
    "installer/linux/build_deb.sh",
    "scripts/ci-package.sh",
]

# What each parser must find at least (so a parser that finds nothing cannot pass).
EXPECTED = {
    "build/dl-app.spec": {
        "frontend",
        "src/dl_app/prompts",
        "src/dl_app/messages",
        "src/dl_app/icons",
        "src/dl_app/licenses",
        "build/dl_app_main.py",
        "build/icons/icon.ico",
        "build/icons/icon.icns",
        "build/icons/icon.png",
        "build/out/THIRD_PARTY_NOTICES.txt",
        "module:dl_app.desktop.tray",
    },
    "build/build.sh": {
        "build/icons/make_icons.py",
        "build/dl-app.spec",
        "build/out",
        "module:dl_app.notices",
    },
    "build/build.ps1": {"build/icons/make_icons.py", "build/dl-app.spec", "build/out/dist"},
    "build/selftest_bundle.sh": {"build/build.sh", "installer/linux/build_deb.sh"},
    "scripts/ci-package.sh": {
        "locks/build.txt",
        "scripts/pip-locked.sh",
        "build/build.sh",
        "installer/linux/build_deb.sh",
        "build/selftest_bundle.sh",
    },
    "installer/windows/digital-life.iss": {"build/icons/icon.ico", "build/out/dist/dl-app"},
    "installer/macos/build_dmg.sh": {"src/dl_app/__init__.py", "build/out"},
    "installer/linux/build_deb.sh": {
        "installer/linux/digital-life.desktop",
        "build/icons/icon-256.png",
        "build/icons/icon.svg",
        "src/dl_app/__init__.py",
        "pyproject.toml",
        "build/out/dist/dl-app",
    },
}

MODULE = re.compile(r"^dl_app(?:\.\w+)*$")


def _norm(path: str) -> str:
    path = posixpath.normpath(path.replace("\\", "/"))
    return "" if path == "." else path


def _join(base: str, rest: str) -> str:
    return _norm(posixpath.join(base, rest.replace("\\", "/")))


def _spec_refs(text: str) -> set[str]:
    """``ROOT / "a" / "b"`` (and names bound to such paths, with ``x if c else y``
    alternatives), plus ``dl_app`` module names in string constants."""
    tree = ast.parse(text)
    names: dict[str, list[str]] = {}

    def strings(node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            a, b = strings(node.body), strings(node.orelse)
            return None if a is None or b is None else a + b
        return None

    def paths(node: ast.expr) -> list[str] | None:
        if isinstance(node, ast.Name):
            return names.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = paths(node.left), strings(node.right)
            if left is not None and right is not None:
                return [_join(a, b) for a in left for b in right]
        return None

    refs: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "ROOT":
                # ROOT = Path(SPECPATH).resolve().parent: the spec lives in build/.
                assert "SPECPATH" in ast.unparse(node.value)
                assert ast.unparse(node.value).endswith(".parent")
                names["ROOT"] = [""]
            elif isinstance(target, ast.Name) and (found := paths(node.value)):
                names[target.id] = found
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and (found := paths(node)):
            refs.update(found)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and MODULE.match(node.value)
        ):
            refs.add("module:" + node.value)
    return refs


SH_ROOT = re.compile(r'^ROOT="\$\(cd "\$\(dirname "\$0"\)/([./]+)" && pwd\)"', re.M)
SH_ASSIGN = re.compile(r'^\s*(\w+)="(?:\$\{\d+:-)?\$\{?(\w+)\}?/([^"}$]+)', re.M)
SH_REF = re.compile(r'\$\{?(\w+)\}?"?/([^\s"\'}):;|$]+)')
SH_MODULE = re.compile(r"-m (dl_app(?:\.\w+)*)")


def _shell_refs(text: str, script: str) -> set[str]:
    """``$ROOT/...`` where ROOT is the script's ``$(dirname "$0")/..``, and variables
    assigned from it (``OUT="$ROOT/build/out"``, ``BUNDLE="${1:-$ROOT/...}"``)."""
    m = SH_ROOT.search(text)
    assert m, f"{script}: no ROOT=... line"
    names = {"ROOT": _join(posixpath.dirname(script), m.group(1))}
    for m in SH_ASSIGN.finditer(text):
        if m.group(2) in names and m.group(1) != "ROOT":
            names[m.group(1)] = _join(names[m.group(2)], m.group(3))
    refs = {_join(names[v], p) for v, p in SH_REF.findall(text) if v in names}
    refs |= {"module:" + m for m in SH_MODULE.findall(text)}
    return refs


PS_JOIN = re.compile(r'Join-Path \$(\w+) "([^"]+)"')
PS_ASSIGN = re.compile(r"^\s*\$(\w+)\s*=")


def _powershell_refs(text: str, script: str) -> set[str]:
    """``Join-Path $Var "a\\b"``, with $PSScriptRoot the script's folder and
    variables assigned from such joins followed line by line."""
    names = {"PSScriptRoot": posixpath.dirname(script)}
    refs: set[str] = set()
    for line in text.splitlines():
        found = [_join(names[v], p) for v, p in PS_JOIN.findall(line) if v in names]
        refs.update(found)
        assign = PS_ASSIGN.match(line)
        if assign and found:
            names[assign.group(1)] = found[0]
    return refs


ISS_PATH = re.compile(r'(\.\.\\[^"\s;]+)')


def _inno_refs(text: str, script: str) -> set[str]:
    """Inno Setup resolves relative paths from the script's folder."""
    base = posixpath.dirname(script)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(";")]
    return {_join(base, p) for p in ISS_PATH.findall("\n".join(lines))}


def references(script: str) -> set[str]:
    """Repo-relative paths (and ``module:dl_app...`` names) the script relies on."""
    text = (ROOT / script).read_text(encoding="utf-8")
    if script.endswith(".spec"):
        refs = _spec_refs(text)
    elif script.endswith(".sh"):
        refs = _shell_refs(text, script)
    elif script.endswith(".ps1"):
        refs = _powershell_refs(text, script)
    elif script.endswith(".iss"):
        refs = _inno_refs(text, script)
    else:
        raise AssertionError(f"no parser for {script}")
    assert not any(r.startswith("..") for r in refs), f"{script} reaches outside the repo"
    return refs - {""}  # the repo root itself


def is_generated(ref: str) -> bool:
    return any(ref == g or ref.startswith(g + "/") for g in GENERATED)


def exists(ref: str) -> bool:
    if ref.startswith("module:"):
        parts = ref.removeprefix("module:").split(".")
        base = ROOT / "src" / Path(*parts)
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()
    if any(c in ref for c in "*?["):
        return any(ROOT.glob(ref))
    return (ROOT / ref).exists()


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_references_only_files_that_exist(script: str) -> None:
    refs = references(script)
    missing = EXPECTED.get(script, set()) - refs
    assert not missing, f"{script}: the parser no longer finds {sorted(missing)}"
    absent = sorted(r for r in refs if not is_generated(r) and not exists(r))
    assert not absent, f"{script} names what is not in the repo: {absent}"
    assert any(not is_generated(r) for r in refs), f"{script}: checks nothing"


def test_every_script_has_its_expectations() -> None:
    assert set(SCRIPTS) == set(EXPECTED)
    assert all((ROOT / s).is_file() for s in SCRIPTS)


def test_generated_paths_are_recognised_and_nothing_else() -> None:
    assert is_generated("build/out")
    assert is_generated("build/out/dist/dl-app")
    assert not is_generated("build/outside")
    assert not is_generated("build/icons/icon.ico")
    assert is_generated(".venv-build/bin/python") and not is_generated(".venv")
    generated = {r for s in SCRIPTS for r in references(s) if is_generated(r)}
    # The bundle, the notices the build writes and the installers' output folder.
    assert {"build/out/dist/dl-app", "build/out/THIRD_PARTY_NOTICES.txt", "build/out"} <= generated
    # build/out/ is not in the repo: it is ignored, so nothing there can be relied on.
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "build/out/" in ignored and any(line.startswith(".venv-build") for line in ignored)


def test_a_missing_file_is_reported() -> None:
    assert not exists("build/icons/icon-renamed.ico")
    assert not exists("module:dl_app.no_such_module")
    assert exists("module:dl_app.notices")
    assert exists("src/dl_app/licenses")
