"""Settings: pydantic models, a JSON file in the data dir, ``DL_*`` overrides.

Secrets (API keys) are never stored here: they come from the environment or
the OS keyring (``dl_app.adapters.secrets``). Every field has a description in
English and Chinese, which the settings UI shows as its help line.

Environment variables (a contract; they win over the file): ``ENV_SETTINGS`` and
``ENV_SECRETS`` below are their one table, which the secret store, the bridge and
(through the bridge) the page read; ``DL_DATA_DIR`` is in ``paths.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .core.errors import DLError
from .fsutil import atomic_write_text

SCHEMA_VERSION = 1
SETTINGS_FILE = "settings.json"


def _f(en: str, zh: str, **kw: Any) -> Any:
    """A field whose description carries both languages: ``en || zh``."""
    return Field(description=f"{en} || {zh}", **kw)


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai", "demo"] | None = _f(
        "Which model answers: an OpenAI-compatible service (the address below: ollama, "
        "DeepSeek, OpenAI, ...) or the offline demo model (tiny, runs on this computer; "
        "for trying the app). Empty: not chosen yet (first-run setup).",
        "由哪个模型回答：兼容 OpenAI 的服务（下面的地址：ollama、DeepSeek、OpenAI 等），"
        "或离线演示模型（很小，在本机运行，仅供试用）。留空：尚未选择（首次运行设置）。",
        default=None,
        title="Model source || 模型来源",
    )
    base_url: str = _f(
        "OpenAI-compatible endpoint of the chat model (ollama by default).",
        "兼容 OpenAI 的推理服务地址（默认 ollama）。",
        default="http://127.0.0.1:11434/v1",
    )
    model: str = _f("Model name.", "模型名称。", default="qwen2.5:7b")
    timeout_s: float = _f(
        "Seconds to wait for the service before giving up.",
        "等待服务响应的秒数。",
        default=120.0,
        gt=0,
    )
    max_retries: int = _f(
        "Retries on rate limits and server errors.", "限流或服务出错时的重试次数。",
        default=2, ge=0, le=10,
    )
    temperature: float | None = _f(
        "Sampling temperature (empty: the service's default).",
        "采样温度（留空则用服务默认值）。",
        default=None,
    )
    recall_mode: Literal["tool", "auto", "off"] = _f(
        "How memories are recalled: the model calls a tool, or the app searches "
        "with each message (for models without tool support).",
        "记忆回想方式：模型调用工具，或每条消息自动检索（适合不支持工具的模型）。",
        default="tool",
    )
    vision: bool = _f(
        "The model can see images (a vision model): attached pictures are sent to it. "
        "Off: pictures are kept in the chat but the model is told it cannot see them.",
        "模型能看图（视觉模型）：附带的图片会发给它。关闭时图片仍保存在聊天中，"
        "但会告诉模型它看不到图片。",
        default=False,
    )


class EmbedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = _f(
        "OpenAI-compatible /embeddings endpoint. Empty: the built-in embedder "
        "(no service, no network).",
        "兼容 OpenAI 的嵌入服务地址。留空则使用内置嵌入模型（无需服务和网络）。",
        default="",
    )
    model: str = _f("Embedding model name.", "嵌入模型名称。", default="")
    dimensions: int | None = _f(
        "Vector dimension to request (empty: the model's own).",
        "请求的向量维度（留空则用模型默认）。",
        default=None, ge=1, le=8192,
    )


class MemorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_budget: int = _f(
        "Tokens per request, prompt and answer together. Every request fits it.",
        "每次请求的 token 上限（提示词与回答合计），所有请求都不会超出。",
        default=3000, ge=1500, le=1_000_000,
    )
    reply_tokens: int = _f(
        "Tokens reserved for the answer inside the budget.",
        "预算中留给回答的 token 数。",
        default=400, ge=64, le=32_000,
    )
    idle_hours: float = _f(
        "Hours of silence after which the conversation becomes a diary entry.",
        "对话沉寂多少小时后写成日记。",
        default=8.0, gt=0,
    )
    recall_rounds: int = _f(
        "Most memory searches the model may make per message.",
        "每条消息模型最多检索记忆的次数。",
        default=2, ge=0, le=5,
    )
    recall_k: int = _f(
        "Memories returned per search.", "每次检索返回的记忆数。", default=3, ge=1, le=10,
    )


class BackupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = _f(
        "S3-compatible endpoint URL (empty: Amazon S3). Keys go in the key store, "
        "never here.",
        "兼容 S3 的服务地址（留空则为 Amazon S3）。密钥保存在密钥库中，不在这里。",
        default="",
    )
    region: str = _f(
        "Region of the bucket (\"auto\" for Cloudflare R2).",
        "存储桶所在区域（Cloudflare R2 填「auto」）。",
        default="us-east-1",
    )
    bucket: str = _f("Bucket name.", "存储桶名称。", default="")
    prefix: str = _f(
        "Folder (key prefix) for the backups inside the bucket.",
        "备份在存储桶中的目录（键前缀）。",
        default="digital-life/",
    )
    auto_after_diary: bool = _f(
        "Upload a backup each time a diary entry is written.",
        "每写一篇日记就自动上传一次备份。",
        default=False,
    )
    encrypt: bool = _f(
        "Encrypt backups with the backup passphrase before upload.",
        "上传前用备份密码加密。",
        default=False,
    )


class PluginSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weather_enabled: bool = _f(
        "Tell the companion the current weather (QWeather; the API key goes in the "
        "key store).",
        "把当前天气告诉 TA（和风天气；API 密钥保存在密钥库中）。",
        default=False,
    )
    weather_location: str = _f(
        "Where: a city name (e.g. Beijing) or \"longitude,latitude\".",
        "地点：城市名（如 北京）或“经度,纬度”。",
        default="", max_length=200,
    )
    weather_api_base: str = _f(
        "QWeather weather API address (your own API host, if you have one).",
        "和风天气 API 地址（如有专属 API Host 可填写）。",
        default="https://devapi.qweather.com",
    )
    weather_geo_base: str = _f(
        "QWeather city lookup (GeoAPI) address.",
        "和风天气城市搜索（GeoAPI）地址。",
        default="https://geoapi.qweather.com",
    )
    greet_after_hours: float = _f(
        "Greet the user when they come back after this many hours away.",
        "用户离开多少小时后回来时，TA 会主动打招呼。",
        default=8.0, gt=0,
    )
    checkins_enabled: bool = _f(
        "Check-ins: after something you said would happen (\"exam on Friday\"), the "
        "companion may ask how it went, first. Off: nothing about it is sent to the model.",
        "回访：你提到的事（如“周五考试”）过去之后，TA 可能会主动问你怎么样了。"
        "关闭时不会为此向模型发送任何内容。",
        default=False,
    )
    checkins_per_day: int = _f(
        "At most this many check-ins a day.", "每天最多回访几次。", default=2, ge=1, le=10,
    )
    quiet_start: str = _f(
        "Quiet hours start (HH:MM, local time): no check-ins until they end.",
        "免打扰开始时间（HH:MM，本地时间）：到结束前不回访。",
        default="23:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
    )
    quiet_end: str = _f(
        "Quiet hours end (HH:MM, local time).", "免打扰结束时间（HH:MM，本地时间）。",
        default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
    )


class ImageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = _f(
        "Let the companion send pictures when asked (needs an image service; the API "
        "key goes in the key store).",
        "允许 TA 在被要求时发送图片（需要图片生成服务；API 密钥保存在密钥库中）。",
        default=False,
    )
    base_url: str = _f(
        "OpenAI-compatible endpoint with /images/generations (e.g. https://api.openai.com/v1).",
        "兼容 OpenAI 的图片生成服务地址（提供 /images/generations，如 https://api.openai.com/v1）。",
        default="",
    )
    model: str = _f("Image model name.", "图片模型名称。", default="")
    size: str = _f(
        "Picture size, width x height (e.g. 512x512).", "图片尺寸，宽x高（如 512x512）。",
        default="512x512", pattern=r"^\d{2,5}x\d{2,5}$",
    )


class AvatarSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = _f(
        "Show the avatar beside the chat (hidden in windows narrower than 800 px).",
        "在聊天旁显示形象（窗口宽度小于 800 像素时隐藏）。",
        default=True, title="Show the avatar || 显示形象",
    )
    model: str = _f(
        "Which avatar: a bundled Live2D model (haru, shizuku, hijiki), the simple built-in "
        "one (svg) or the id of a model you imported.",
        "使用哪个形象：内置 Live2D 模型（haru、shizuku、hijiki）、简易内置形象（svg）"
        "或你导入的模型的编号。",
        default="haru", pattern=r"^[A-Za-z0-9_-]{1,64}$", title="Model || 模型",
    )
    offset_x: float = _f(
        "Horizontal offset of the model, as a share of the avatar area's width.",
        "模型的水平偏移（占形象区域宽度的比例）。",
        default=0.0, ge=-1.0, le=1.0, title="Horizontal offset || 水平偏移",
    )
    offset_y: float = _f(
        "Vertical offset of the model, as a share of the avatar area's height.",
        "模型的垂直偏移（占形象区域高度的比例）。",
        default=0.0, ge=-1.0, le=1.0, title="Vertical offset || 垂直偏移",
    )
    scale: float = _f(
        "Size of the model (1 = fit the area).", "模型大小（1 = 适应区域）。",
        default=1.0, ge=0.2, le=4.0, title="Scale || 缩放",
    )
    background: str = _f(
        "Background picture (uploaded on the avatar's panel; empty: none).",
        "背景图片（在形象面板上传；留空则无）。",
        default="", pattern=r"^(|bg-[A-Za-z0-9_-]{1,64}\.(png|jpg|webp|gif))$",
        title="Background picture || 背景图片",
    )
    background_area: Literal["window", "avatar"] = _f(
        "Where the background picture goes: behind the whole window or the avatar area.",
        "背景图片的位置：整个窗口后面，或仅形象区域。",
        default="avatar", title="Background area || 背景区域",
    )


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tts_enabled: bool = _f(
        "Speak replies aloud as they arrive (needs a speech service below).",
        "回复时朗读出来（需要下面的语音合成服务）。",
        default=False,
        title="Read replies aloud || 朗读回复",
    )
    tts_provider: Literal["f5", "fish", "openai"] = _f(
        "Speech service: F5-TTS API, Fish Speech API, or an OpenAI-compatible /audio/speech.",
        "语音合成服务：F5-TTS API、Fish Speech API，或兼容 OpenAI 的 /audio/speech。",
        default="f5",
        title="Speech service || 语音合成服务",
    )
    f5_url: str = _f(
        "F5-TTS API address (jianchang512/f5-tts-api).",
        "F5-TTS API 地址（jianchang512/f5-tts-api）。",
        default="http://127.0.0.1:5010/api",
        title="F5-TTS address || F5-TTS 地址",
    )
    fish_url: str = _f(
        "Fish Speech API address (the app posts to /v1/tts).",
        "Fish Speech API 地址（请求发往 /v1/tts）。",
        default="http://127.0.0.1:8080",
        title="Fish Speech address || Fish Speech 地址",
    )
    openai_tts_url: str = _f(
        "OpenAI-compatible endpoint with /audio/speech (e.g. https://api.openai.com/v1). "
        "Its key goes in the key store.",
        "兼容 OpenAI 的语音合成地址（提供 /audio/speech，如 https://api.openai.com/v1）。"
        "密钥保存在密钥库中。",
        default="",
        title="OpenAI-compatible speech address || 兼容 OpenAI 的语音合成地址",
    )
    openai_tts_model: str = _f(
        "Speech model.", "语音合成模型。", default="tts-1",
        title="Speech model || 语音合成模型",
    )
    openai_tts_voice: str = _f(
        "Voice name.", "音色名称。", default="alloy",
        title="Voice || 音色",
    )
    reference_file: str = _f(
        "Reference voice clip for F5-TTS and Fish Speech (uploaded below; kept in the "
        "data dir's voice folder).",
        "F5-TTS 与 Fish Speech 的参考音频（在下方上传，保存在数据目录的「voice」文件夹）。",
        default="", max_length=200,
        title="Reference clip || 参考音频",
    )
    reference_text: str = _f(
        "What the reference clip says, word for word.",
        "参考音频里说的话（逐字）。",
        default="", max_length=2000,
        title="Reference clip text || 参考音频文本",
    )
    stt_provider: Literal["off", "browser", "openai"] = _f(
        "Speech recognition: the browser's own (Web Speech API, where the window has "
        "it), or an OpenAI-compatible /audio/transcriptions service (whisper servers).",
        "语音识别：浏览器自带（Web Speech API，窗口支持时），或兼容 OpenAI 的 "
        "/audio/transcriptions 服务（whisper 服务）。",
        default="browser",
        title="Speech recognition || 语音识别",
    )
    stt_url: str = _f(
        "OpenAI-compatible endpoint with /audio/transcriptions (e.g. http://127.0.0.1:8000/v1). "
        "Also used when the window has no Web Speech API.",
        "兼容 OpenAI 的语音识别地址（提供 /audio/transcriptions，如 http://127.0.0.1:8000/v1）。"
        "窗口不支持 Web Speech API 时也用它。",
        default="",
        title="Transcription address || 语音识别地址",
    )
    stt_model: str = _f(
        "Transcription model.", "语音识别模型。", default="whisper-1",
        title="Transcription model || 语音识别模型",
    )
    silence_ms: int = _f(
        "Voice conversation: this much silence ends what you say (milliseconds).",
        "连续语音对话：静音多久算你说完（毫秒）。",
        default=1200, ge=300, le=10_000,
        title="Silence that ends a turn (ms) || 说完判定静音（毫秒）",
    )


class AppSettings(BaseModel):
    """The desktop app: tray icon, closing to the tray, starting on login, the desktop pet."""

    model_config = ConfigDict(extra="forbid")

    tray_enabled: bool = _f(
        "Show an icon in the system tray (open, quick chat, mute voice, quit).",
        "在系统托盘显示图标（打开、快速聊天、静音、退出）。",
        default=True, title="Tray icon || 托盘图标",
    )
    close_to_tray: bool = _f(
        "Closing the window keeps Digital Life running in the tray (needs the tray icon).",
        "关闭窗口后数字生命继续在托盘中运行（需要托盘图标）。",
        default=False, title="Close to tray || 关闭时最小化到托盘",
    )
    start_on_login: bool = _f(
        "Start Digital Life in the tray when you log in.",
        "登录系统时在托盘中启动数字生命。",
        default=False, title="Start on login || 开机登录时启动",
    )
    pet: bool = _f(
        "Desktop pet: only the avatar and its speech bubble, in a frameless window that "
        "stays on top (tray menu, right-click menu, or `dl-app --pet`). The background is "
        "transparent where the system allows it (on Linux it needs a compositor; Wayland "
        "lets no app stay on top or choose its place, so the app uses X11 there); clicks "
        "on the transparent part do not pass through to the desktop.",
        "桌宠：只显示形象和对话气泡，置顶的无边框窗口（托盘菜单、右键菜单或 `dl-app --pet`）。"
        "系统允许时背景透明（Linux 需要窗口合成器；Wayland 不允许应用置顶或自选位置，因此在"
        "那里使用 X11）；点击透明部分不会穿透到桌面。",
        default=False, title="Desktop pet || 桌宠模式",
    )
    pet_x: int | None = _f(
        "Where the pet was left on the screen (left edge, pixels; empty: bottom right).",
        "桌宠上次在屏幕上的位置（左边缘，像素；空：右下角）。",
        default=None, title="Pet position x || 桌宠位置 x",
    )
    pet_y: int | None = _f(
        "Where the pet was left on the screen (top edge, pixels; empty: bottom right).",
        "桌宠上次在屏幕上的位置（上边缘，像素；空：右下角）。",
        default=None, title="Pet position y || 桌宠位置 y",
    )


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = _f("Settings format version.", "设置格式版本。", default=SCHEMA_VERSION)
    language: Literal["auto", "zh", "en"] = _f(
        "Language of prompts and UI (auto: follow the system).",
        "提示词与界面语言（自动：跟随系统）。",
        default="auto",
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
        raise SettingsError(f"Cannot read settings file {path}: {e}") from e
    if not isinstance(raw, dict):
        raise SettingsError(f"Settings file {path} must hold a JSON object.")
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
                raise SettingsError(f"Settings file {path}: '{section}' must be an object.")
            raw[section][key] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise SettingsError(f"Invalid settings ({path} or DL_* variables): {problems}") from e


def save_settings(data_dir: Path, settings: Settings) -> None:
    """Write settings atomically (a crash leaves the old or the new file)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(data_dir / SETTINGS_FILE, settings.model_dump_json(indent=2))
