"""Where Digital Life keeps its data and finds its own files.

    data_dir()      ``DL_DATA_DIR`` or the platform's user data dir (made if missing)
    frontend_dir()  the page files: ``<repo>/frontend`` in a dev checkout, else the
                    ``dl_app/frontend`` folder shipped inside the package (PyInstaller)
    icons_dir()     the window and tray icons inside the package
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "data_dir", "frontend_dir", "icons_dir"]

APP_NAME = "DigitalLife"
_PACKAGE = Path(__file__).resolve().parent


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``DL_DATA_DIR`` if set, else the platform's user data dir."""
    env = os.environ if env is None else env
    override = env.get("DL_DATA_DIR")
    path = Path(override).expanduser() if override else Path(
        platformdirs.user_data_dir(APP_NAME, appauthor=False)
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def frontend_dir() -> Path:
    """``<repo>/frontend`` in a dev checkout (next to ``src/``), else ``dl_app/frontend``
    inside the package. Raises FileNotFoundError when neither has an ``index.html``."""
    dev = _PACKAGE.parents[1] / "frontend"
    for candidate in (dev, _PACKAGE / "frontend"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError(f"The page files are missing (looked in {dev} and the package).")


def icons_dir() -> Path:
    """``dl_app/icons``: the window icon and the tray icon."""
    return _PACKAGE / "icons"
