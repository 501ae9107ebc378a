"""The settings form, described from the ``Settings`` model for the page.

Each leaf field becomes ``{path, type, nullable, default, choices, min, max,
label: {en, zh}, help: {en, zh}, desktop}`` (``desktop``: only the desktop app acts
on it); help comes from the field description (``"English || 中文"``), the label
from the field's ``title`` when it has one (same ``en || zh`` form), else from the
short labels below.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..settings import ENV_SECRETS, ENV_SETTINGS, Settings
from ..wiring import provider_variable

__all__ = ["describe_settings", "env_names", "env_overrides", "split_text"]

# Short labels for fields without a ``title`` (path -> (en, zh)).
_LABELS: dict[str, tuple[str, str]] = {
    "language": ("Language", "语言"),
    "llm": ("Chat model", "推理服务"),
    "llm.base_url": ("Service address", "服务地址"),
    "llm.model": ("Model", "模型"),
    "llm.timeout_s": ("Timeout (seconds)", "超时（秒）"),
    "llm.max_retries": ("Retries", "重试次数"),
    "llm.temperature": ("Temperature", "温度"),
    "llm.recall_mode": ("Memory recall", "记忆回想方式"),
    "llm.vision": ("The model sees pictures", "模型能看图"),
    "embed": ("Embeddings", "嵌入服务"),
    "embed.base_url": ("Embedding service address", "嵌入服务地址"),
    "embed.model": ("Embedding model", "嵌入模型"),
    "embed.dimensions": ("Vector dimensions", "向量维度"),
    "memory": ("Memory", "记忆"),
    "memory.token_budget": ("Token budget per request", "每次请求的 token 预算"),
    "memory.reply_tokens": ("Tokens for the answer", "回答的 token 数"),
    "memory.idle_hours": ("Hours until a diary entry", "多少小时后写日记"),
    "memory.recall_rounds": ("Memory searches per message", "每条消息的检索次数"),
    "memory.recall_k": ("Memories per search", "每次检索的记忆数"),
    "plugins": ("Plugins", "插件"),
    "plugins.weather_enabled": ("Weather", "天气"),
    "plugins.weather_location": ("Weather location", "天气地点"),
    "plugins.weather_api_base": ("QWeather API address", "和风天气 API 地址"),
    "plugins.weather_geo_base": ("QWeather GeoAPI address", "和风天气 GeoAPI 地址"),
    "plugins.greet_after_hours": ("Greet after hours away", "离开多少小时后问候"),
    "plugins.checkins_enabled": ("Check-ins", "回访"),
    "plugins.checkins_per_day": ("Check-ins per day", "每天最多回访"),
    "plugins.quiet_start": ("Quiet hours from", "免打扰开始"),
    "plugins.quiet_end": ("Quiet hours until", "免打扰结束"),
    "backup": ("Cloud backup", "云备份"),
    "backup.endpoint": ("S3 endpoint", "S3 服务地址"),
    "backup.region": ("Region", "区域"),
    "backup.bucket": ("Bucket", "存储桶"),
    "backup.prefix": ("Folder in the bucket", "存储桶中的目录"),
    "backup.auto_after_diary": ("Back up after each diary entry", "写日记后自动备份"),
    "backup.encrypt": ("Encrypt backups", "加密备份"),
    "images": ("Pictures", "图片"),
    "images.enabled": ("Send pictures", "发送图片"),
    "images.base_url": ("Image service address", "图片服务地址"),
    "images.model": ("Image model", "图片模型"),
    "images.size": ("Picture size", "图片尺寸"),
}

# Not shown on the settings page: the format's version, and where the desktop pet was
# left, per screen (saved by the desktop when the pet stops moving).
_HIDDEN = {"schema_version", "app.pet_x", "app.pet_y", "app.pet_screen", "app.pet_places"}

# The groups only the desktop app acts on (its tray icon, closing to the tray, starting
# on login, the desktop pet): a page in a browser (``dl-app serve``) shows them disabled,
# with a note that they are the desktop app's.
_DESKTOP = {"app"}


def split_text(text: str | None) -> dict[str, str]:
    """``"English || 中文"`` -> ``{"en": ..., "zh": ...}`` (one language: both)."""
    en, sep, zh = (text or "").partition("||")
    en, zh = en.strip(), zh.strip()
    return {"en": en, "zh": zh if sep and zh else en}


def env_overrides(env: typing.Mapping[str, str]) -> list[str]:
    """Paths of settings that a ``DL_*`` variable currently overrides; the model
    source too when the service's address or model is given (``wiring.llm_provider``)."""
    decided = provider_variable(env) is not None
    return [path for path, var in ENV_SETTINGS.items()
            if env.get(var) or (path == "llm.provider" and decided)]


def env_names(env: typing.Mapping[str, str] | None = None) -> dict[str, str]:
    """Setting path or secret name -> the ``DL_*`` variable that overrides it (for the
    page, which keeps no copy of the table); with ``env``, the model source's is the
    variable that decides it there."""
    names = {**ENV_SETTINGS, **ENV_SECRETS}
    if env is not None and (deciding := provider_variable(env)):
        names["llm.provider"] = deciding
    return names


def _label(path: str, info: FieldInfo) -> dict[str, str]:
    if info.title:
        return split_text(info.title)
    if path in _LABELS:
        en, zh = _LABELS[path]
        return {"en": en, "zh": zh}
    name = path.rsplit(".", 1)[-1].replace("_", " ").capitalize()
    return {"en": name, "zh": name}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` was allowed."""
    origin = get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), nullable
    return annotation, False


def _kind(annotation: Any) -> tuple[str, list[Any] | None]:
    if get_origin(annotation) is Literal:
        return "choice", list(get_args(annotation))
    if annotation is bool:
        return "boolean", None
    if annotation is int:
        return "integer", None
    if annotation is float:
        return "number", None
    return "string", None


def _bounds(info: FieldInfo) -> tuple[Any, Any]:
    low = high = None
    for m in info.metadata:
        if isinstance(m, at.Ge | at.Gt):
            low = m.ge if isinstance(m, at.Ge) else m.gt
        elif isinstance(m, at.Le | at.Lt):
            high = m.le if isinstance(m, at.Le) else m.lt
    return low, high


def _default(info: FieldInfo) -> Any:
    value = info.get_default(call_default_factory=True)
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def describe_settings(
    model: type[BaseModel] = Settings, prefix: str = ""
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(leaf fields, groups) of ``model``, in declaration order."""
    fields: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if path in _HIDDEN:
            continue
        annotation, nullable = _unwrap(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            groups.append(
                {"path": path, "label": _label(path, info), "help": split_text(info.description)}
            )
            sub_fields, sub_groups = describe_settings(annotation, f"{path}.")
            fields.extend(sub_fields)
            groups.extend(sub_groups)
            continue
        kind, choices = _kind(annotation)
        low, high = _bounds(info)
        fields.append(
            {
                "path": path,
                "type": kind,
                "nullable": nullable,
                "default": _default(info),
                "choices": choices,
                "min": low,
                "max": high,
                "label": _label(path, info),
                "help": split_text(info.description),
                "desktop": path.split(".", 1)[0] in _DESKTOP,
            }
        )
    return fields, groups
