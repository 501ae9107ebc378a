"""The GitHub workflows (.github/workflows), which never run here, linted with actionlint:
syntax, expressions, runner labels, the actions' inputs and runtimes (an action on a
Node version GitHub has removed fails the job), and the `run:` scripts through
ShellCheck when it is installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from where import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
    "actionlint")
pytestmark = pytest.mark.skipif(ACTIONLINT is None, reason="needs actionlint (locks/dev.txt)")


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_workflows_lint_clean() -> None:
    assert {w.name for w in WORKFLOWS} >= {"build.yml", "latest.yml"}
    done = lint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_catches_what_it_is_here_for(tmp_path: Path) -> None:
    # An action on Node 20 (removed from GitHub's runners), an unknown property and, when
    # ShellCheck is there, an unquoted variable: the check above can fail.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.no_such_property }}\n"
        "      - run: f=$(ls); cat $f\n")
    done = lint(bad)
    assert done.returncode == 1
    assert 'runtime "node20" is deprecated' in done.stdout
    assert "no_such_property" in done.stdout
    if shutil.which("shellcheck"):
        assert "SC2086" in done.stdout
