"""Fixtures of the command-line tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def zh_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a Chinese terminal (LANG=zh_CN.UTF-8, no LC_* overrides),
    a fresh data dir, and a model address where nothing listens."""
    e = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    e["LANG"] = "zh_CN.UTF-8"
    e["DL_DATA_DIR"] = str(tmp_path / "data")
    e["DL_LLM_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens: no model needed here
    return e
