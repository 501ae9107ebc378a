"""The settings groups of the memory and the services it talks to: the chat model,
embeddings, the memory's budget, cloud backup, plugins (weather, greetings) and
pictures."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .field import _f


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
