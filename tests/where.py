"""Where the tests find the repository: its root, the test data, the page."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
FRONTEND = ROOT / "frontend"
SRC = ROOT / "src" / "dl_app"
