"""The settings groups of what the user sees and hears: the avatar, voice, and the
desktop app (tray, start on login, the desktop pet)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .field import _f


class AvatarSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = _f(
        "Show the avatar beside the chat (hidden in windows narrower than 800 px).",
        "在聊天旁显示形象（窗口宽度小于 800 像素时隐藏）。",
        default=True, title="Show the avatar || 显示形象",
    )
    model: str = _f(
        "Which avatar is shown beside the chat: a bundled Live2D model, the simple "
        "drawing, or one you imported (import it on the avatar's panel, the gear beside it).",
        "聊天旁显示哪个形象：内置 Live2D 模型、简笔头像，或你导入的模型"
        "（在形象面板导入，即形象旁的齿轮）。",
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
        "Size of the model (100% fits the area).", "模型大小（100% = 适应区域）。",
        default=1.0, ge=0.2, le=4.0, title="Scale || 缩放",
    )
    background: str = _f(
        "A picture behind the avatar or the whole window (where: the next setting).",
        "形象或整个窗口后面的图片（放在哪里：见下一项）。",
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
        "Reference voice clip for F5-TTS and Fish Speech: a few seconds of speech (WAV, "
        "MP3, FLAC or Ogg, at most 30 s), kept in the data dir's voice folder.",
        "F5-TTS 与 Fish Speech 的参考音频：几秒钟的说话录音（WAV、MP3、FLAC 或 Ogg，"
        "最长 30 秒），保存在数据目录的「voice」文件夹。",
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


class PetPlace(BaseModel):
    """Where the desktop pet was left on one screen (relative to its top-left corner)."""

    model_config = ConfigDict(extra="forbid")

    screen: str = Field(min_length=1, max_length=200)
    x: int
    y: int


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
        "lets no app stay on top or choose its place, so the app uses X11 there), and clicks "
        "beside the avatar pass through to the desktop where the system allows it; the "
        "desktop app says below what this desktop allows.",
        "桌宠：只显示形象和对话气泡，置顶的无边框窗口（托盘菜单、右键菜单或 `dl-app --pet`）。"
        "系统允许时背景透明（Linux 需要窗口合成器；Wayland 不允许应用置顶或自选位置，因此在"
        "那里使用 X11），系统允许时点击形象以外的地方会穿透到桌面；桌面应用会在下方说明这个"
        "桌面支持哪些。",
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
    pet_screen: str | None = _f(
        "The screen the pet was on last (its name, or its size and place).",
        "桌宠上次所在的屏幕（名称，或尺寸和位置）。",
        default=None, max_length=200, title="Pet screen || 桌宠所在屏幕",
    )
    pet_places: list[PetPlace] = _f(
        "Where the pet was left on each screen (at most 8 screens).",
        "桌宠在每个屏幕上的位置（最多 8 个屏幕）。",
        default_factory=list, max_length=8, title="Pet places || 桌宠位置",
    )
