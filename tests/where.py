"""Where the tests find the repository: its root, the test data, the page."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
FRONTEND = ROOT / "frontend"
SRC = ROOT / "src" / "dl_app"


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py`` imported as the module ``name`` (registered in
    ``sys.modules``: dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
