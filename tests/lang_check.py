"""Words of the wrong language: Latin words in Chinese text, CJK in English text,
outside an allow-list (names of formats, tools and models; addresses, file
names, ``dl-app`` commands, numbers) and the user's own data."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Names that stay as they are in Chinese text.
ALLOWED = {
    "JSON", "API", "UTF", "HTTP", "TLS", "MB", "KB", "GB", "ollama", "TA", "token", "tokens",
    "OpenAI", "DeepSeek", "SiliconFlow", "LM", "Studio", "Live2D", "Live", "S3", "Amazon", "R2",
    "Cloudflare", "QWeather", "GeoAPI", "Web", "Speech", "Fish", "F5", "TTS", "whisper", "Host",
    "GitHub", "Qwen", "Coder", "Instruct", "SmolLM", "llama", "cpp", "python", "GGUF", "CPU",
    "GPU", "WAV", "MP3", "FLAC", "Ogg", "PNG", "JPEG", "WebP", "SVG", "svg", "haru", "shizuku",
    "hijiki", "Haru", "Shizuku", "Hijiki", "Apache", "MIT", "BSD", "Esc", "Enter", "Shift",
    "Ctrl", "Cmd", "ID", "AI", "URL", "UI", "http", "https", "PDF", "Word", "Markdown", "HTML",
    "AWS", "MinIO", "Cubism", "SDK", "Inc", "alloy", "builtin", "Linux", "Wayland", "X11",
    "Windows", "macOS", "GIF", "WebM", "MP4", "base64", "XWayland", "picom",
}
_KEEP = [
    re.compile(r"https?://\S+"),  # addresses
    re.compile(r"\b[\w-]+\.(?:com|org|io|cn|ai|net)\b"),  # domains
    re.compile(r"(?:dl-app|ollama)(?: -{0,2}[a-z][a-z-]*)*"),  # commands and their options
    re.compile(r"(?:[\w.-]*[/\\])+[\w.-]+"),  # paths and file names
    re.compile(r"[\w.-]+\.(?:json|md|txt|png|jpg|wav|gguf|enc|js|css|html)\b"),
    re.compile(r"\b[\w.-]+:[\w.-]+\b"),  # model tags (qwen2.5:7b, builtin:e5)
    re.compile(r"「[^」]*」"),  # quoted words of a service or a file
    re.compile(r"\{\w+(?::[^}]*)?\}"),  # catalogue placeholders
    re.compile(r"\b[a-z]+_[a-z_]+\b"),  # names in code or a file (num_ctx)
    re.compile(r"\b[A-Za-z0-9.]+(?:-[A-Za-z0-9.]+)+\b"),  # model and package names
]
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def _strip(text: str, data: Iterable[str]) -> str:
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    for pattern in _KEEP:
        text = pattern.sub(" ", text)
    return text


def latin_words(text: str, data: Iterable[str] = (), allowed: Iterable[str] = ()) -> list[str]:
    """The Latin words of Chinese ``text`` outside the allow-list and ``data``."""
    ok = ALLOWED | set(allowed)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", _strip(text, data))
            if w not in ok and not w[1:].isdigit()]


def cjk_chars(text: str, data: Iterable[str] = ()) -> list[str]:
    """The CJK characters (and full-width punctuation) of English ``text``
    outside ``data`` and the language names (中文)."""
    return _CJK.findall(_strip(text, [*data, "中文", "简体中文"]))
