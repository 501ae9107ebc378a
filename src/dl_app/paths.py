"""Where Digital Life keeps its data."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "DigitalLife"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``DL_DATA_DIR`` if set, else the platform's user data dir."""
    env = os.environ if env is None else env
    override = env.get("DL_DATA_DIR")
    path = Path(override).expanduser() if override else Path(
        platformdirs.user_data_dir(APP_NAME, appauthor=False)
    )
    path.mkdir(parents=True, exist_ok=True)
    return path
