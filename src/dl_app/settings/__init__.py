"""Settings: pydantic models, a JSON file in the data dir, ``DL_*`` overrides.

Secrets (API keys) are never stored here: they come from the environment or
the OS keyring (``dl_app.adapters.secrets``). Every field has a description in
English and Chinese, which the settings UI shows as its help line.

Environment variables (a contract; they win over the file): ``ENV_SETTINGS`` and
``ENV_SECRETS`` below are their one table, which the secret store, the bridge and
(through the bridge) the page read; ``DL_DATA_DIR`` is in ``paths.py``.

The groups live by concept: ``services.py`` (chat model, embeddings, memory,
backup, plugins, pictures), ``desktop.py`` (avatar, voice, the desktop app),
``field.py`` (a field with its help line in both languages).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..core.errors import DLError, msg
from ..fsutil import atomic_write_text
from ..messages import os_reason
from .desktop import AppSettings, AvatarSettings, VoiceSettings
from .field import _f
from .services import (
    BackupSettings,
    EmbedSettings,
    ImageSettings,
    LLMSettings,
    MemorySettings,
    PluginSettings,
)

__all__ = [
    "ENV_SECRETS",
    "ENV_SETTINGS",
    "PROVIDER_VARIABLE",
    "SCHEMA_VERSION",
    "SETTINGS_FILE",
    "AppSettings",
    "AvatarSettings",
    "BackupSettings",
    "EmbedSettings",
    "ImageSettings",
    "LLMSettings",
    "MemorySettings",
    "PluginSettings",
    "Settings",
    "SettingsError",
    "VoiceSettings",
    "load_settings",
    "read_settings_file",
    "save_settings",
]

SCHEMA_VERSION = 1
SETTINGS_FILE = "settings.json"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = _f("Settings format version.", "设置格式版本。", default=SCHEMA_VERSION)
    language: Literal["auto", "zh", "en"] = _f(
        "Language of prompts and UI (auto: follow the system).",
        "提示词与界面语言（自动：跟随系统）。",
        default="auto",
    )
    theme: Literal["system", "light", "dark"] = _f(
        "Light, dark, or follow the system.", "浅色、深色，或跟随系统。",
        default="system", title="Theme || 主题",
    )
    llm: LLMSettings = _f("Chat model.", "推理服务。", default_factory=LLMSettings)
    embed: EmbedSettings = _f("Embeddings.", "嵌入服务。", default_factory=EmbedSettings)
    memory: MemorySettings = _f("Memory.", "记忆。", default_factory=MemorySettings)
    backup: BackupSettings = _f(
        "Cloud backup (S3).", "云备份（S3）。", default_factory=BackupSettings
    )
    plugins: PluginSettings = _f(
        "Plugins: weather and greetings.", "插件：天气与问候。",
        default_factory=PluginSettings,
    )
    images: ImageSettings = _f(
        "Pictures the companion sends.", "TA 发送的图片。", default_factory=ImageSettings
    )
    avatar: AvatarSettings = _f(
        "The avatar beside the chat.", "聊天旁的形象。", default_factory=AvatarSettings,
        title="Avatar || 形象",
    )
    voice: VoiceSettings = _f(
        "Voice: speech output and input.", "语音：朗读与语音输入。",
        default_factory=VoiceSettings, title="Voice || 语音",
    )
    app: AppSettings = _f(
        "Desktop app: tray and start on login.", "桌面应用：托盘与开机启动。",
        default_factory=AppSettings, title="Desktop app || 桌面应用",
    )


class SettingsError(DLError):
    """The settings file or a DL_* variable is invalid."""


# The DL_* variables that stand for a setting: setting path -> variable. The page
# receives it (with ENV_SECRETS) as settings_get's and setup_status's ``env_names``.
ENV_SETTINGS: dict[str, str] = {
    "llm.base_url": "DL_LLM_BASE_URL",
    "llm.model": "DL_LLM_MODEL",
    "llm.provider": "DL_LLM_PROVIDER",
    "embed.base_url": "DL_EMBED_BASE_URL",
    "embed.model": "DL_EMBED_MODEL",
    "embed.dimensions": "DL_EMBED_DIMENSIONS",
    "memory.token_budget": "DL_TOKEN_BUDGET",
}
# The one of them that ``wiring.llm_provider`` reads and checks itself; it is not
# written into ``Settings``.
PROVIDER_VARIABLE = ENV_SETTINGS["llm.provider"]
# The DL_* variables that stand for a secret: secret name -> variable.
ENV_SECRETS: dict[str, str] = {
    "llm_api_key": "DL_LLM_API_KEY",
    "embed_api_key": "DL_EMBED_API_KEY",
}


def read_settings_file(data_dir: Path) -> dict[str, Any]:
    """The raw content of ``settings.json`` (``{}`` when there is none)."""
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SettingsError(msg("settings.cannot_read", path=str(path), error=os_reason(e))) from e
    if not isinstance(raw, dict):
        raise SettingsError(msg("settings.not_object", path=str(path)))
    return raw


def load_settings(data_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``settings.json`` (missing file: defaults), then apply ``DL_*``."""
    env = os.environ if env is None else env
    path = data_dir / SETTINGS_FILE
    raw = read_settings_file(data_dir)
    for setting, var in ENV_SETTINGS.items():
        value = env.get(var)
        if value and var != PROVIDER_VARIABLE:
            section, key = setting.split(".")
            raw.setdefault(section, {})
            if not isinstance(raw[section], dict):
                raise SettingsError(msg("settings.section", path=str(path), section=section))
            raw[section][key] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        from .problems import problems_text

        problems = problems_text(e.errors())
        raise SettingsError(msg("settings.invalid", path=str(path), problems=problems)) from e


def save_settings(data_dir: Path, settings: Settings) -> None:
    """Write settings atomically (a crash leaves the old or the new file)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(data_dir / SETTINGS_FILE, settings.model_dump_json(indent=2))
