"""The code passes the linter (ruff is a dev dependency, so CI has it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from where import ROOT


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    out = subprocess.run(
        [ruff, "check", "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_domain_passes_mypy_strict() -> None:
    """The pure core is fully typed (mypy found a live bug there once: a keyword
    clash in ``PromptSet.label`` for unknown tool names)."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    out = subprocess.run(
        [mypy, "--strict", "--no-incremental", "src/dl_app/core"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_package_passes_mypy() -> None:
    """Everything outside core is checked too, less strictly (pyproject's
    ``[tool.mypy]``: untyped third-party packages are Any)."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    out = subprocess.run(
        [mypy, "--no-incremental", "src/dl_app"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
