"""Reading and patching ``settings.json`` (the settings page, the setup, the backup).

A patch is merged into the file's own content, not into the effective
settings, so values that ``DL_*`` variables override are never written to the
file. Nothing is written unless the merged settings validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .settings import SCHEMA_VERSION, Settings, load_settings, read_settings_file
from .settings import save_settings as _save

__all__ = ["apply_patch", "effective", "merge"]


def effective(data_dir: Path, env: Mapping[str, str]) -> Settings:
    """The settings in force: the file plus ``DL_*`` overrides."""
    return load_settings(data_dir, env)


def merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` applied: nested objects merge, other values replace."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_patch(data_dir: Path, patch: Mapping[str, Any]) -> Settings:
    """Validate the file's settings with ``patch`` applied and save them.
    Raises pydantic's ``ValidationError`` (nothing written) or ``SettingsError``."""
    merged = merge(read_settings_file(data_dir), patch)
    merged["schema_version"] = SCHEMA_VERSION
    settings = Settings.model_validate(merged)
    _save(data_dir, settings)
    return settings
