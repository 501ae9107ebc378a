"""First-run setup, shared by the window/browser (``bridge/setup_api.py``) and
``dl-app chat`` (``cli/setup.py``): is a chat model chosen yet, what does
ollama on this computer offer, and saving a choice.

Setup is needed when nothing names a model: no ``DL_LLM_PROVIDER``,
``DL_LLM_BASE_URL`` or ``DL_LLM_MODEL``, no ``llm.provider`` in
``settings.json``, and the service address and model still at their defaults
(a settings file from before setup existed, with another service, counts as
chosen). Choosing writes ``llm.provider`` (and the address and model for a
service); an API key goes to the secret store, never to the settings file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings_io
from .adapters import demo_model
from .adapters.secrets import SecretStore
from .connection import Check, check_llm
from .core.errors import Text, msg
from .messages import render
from .settings import ENV_SETTINGS, LLMSettings, SettingsError, read_settings_file

__all__ = [
    "DEMO_NOTE",
    "OLLAMA_URL",
    "PRESETS",
    "SUGGESTED_OLLAMA_MODEL",
    "DemoStatus",
    "OllamaProbe",
    "apply_demo",
    "apply_service",
    "demo_status",
    "env_names_model",
    "probe_ollama",
    "setup_needed",
]

OLLAMA_URL = "http://127.0.0.1:11434"
SUGGESTED_OLLAMA_MODEL = "qwen2.5:7b"
PROBE_TIMEOUT = 2.0
TEST_TIMEOUT = 20.0

# Services people commonly use: (key, label, base URL, suggested model).
PRESETS: tuple[tuple[str, str, str, str], ...] = (
    ("deepseek", "DeepSeek", "https://api.deepseek.com/v1", "deepseek-chat"),
    ("openai", "OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
    ("siliconflow", "SiliconFlow", "https://api.siliconflow.cn/v1", "Qwen/Qwen2.5-7B-Instruct"),
)

DEMO_NOTE = {
    "en": "demo model — tiny, for trying the app",
    "zh": "演示模型——很小，仅供试用",
}


def env_names_model(env: Mapping[str, str]) -> bool:
    return any(env.get(ENV_SETTINGS[p]) for p in ("llm.provider", "llm.base_url", "llm.model"))


def setup_needed(data_dir: Path, env: Mapping[str, str] | None = None) -> bool:
    """True when no chat model has been chosen (see the module text)."""
    env = os.environ if env is None else env
    if env_names_model(env):
        return False
    try:
        raw = read_settings_file(data_dir)
    except SettingsError:
        return False  # a broken file is reported where it is loaded
    llm = raw.get("llm")
    if not isinstance(llm, dict):
        llm = {}
    if llm.get("provider"):
        return False
    d = LLMSettings()
    return bool(llm.get("base_url", d.base_url) == d.base_url
                and llm.get("model", d.model) == d.model)


# -- ollama -------------------------------------------------------------------


@dataclass
class OllamaProbe:
    running: bool
    base_url: str  # the OpenAI-compatible address (``.../v1``) to use
    models: list[str] = field(default_factory=list)
    message: Text | str = ""

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"running": self.running, "base_url": self.base_url, "models": self.models,
                "message": render(self.message, lang), "suggested": SUGGESTED_OLLAMA_MODEL}


def ollama_root(env: Mapping[str, str] | None = None, url: str | None = None) -> str:
    env = os.environ if env is None else env
    root = (url or env.get("DL_OLLAMA_URL") or OLLAMA_URL).strip().rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def probe_ollama(url: str | None = None, env: Mapping[str, str] | None = None,
                 timeout: float = PROBE_TIMEOUT) -> OllamaProbe:
    """Ask ollama (``GET /api/tags``) which models it has. Never raises."""
    import httpx  # when asked, not when the app starts

    root = ollama_root(env, url)
    base = f"{root}/v1"
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
            response = client.get(f"{root}/api/tags")
    except (httpx.HTTPError, OSError, ValueError) as e:
        return OllamaProbe(False, base, message=msg(
            "ollama.not_running", url=root, error=type(e).__name__, model=SUGGESTED_OLLAMA_MODEL))
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        return OllamaProbe(False, base, message=msg(
            "ollama.not_ollama", url=root, status=response.status_code))
    models = [str(m.get("name") or m.get("model")) for m in body.get("models") or []
              if isinstance(m, dict) and (m.get("name") or m.get("model"))]
    if not models:
        return OllamaProbe(True, base, [], msg(
            "ollama.no_models", url=root, model=SUGGESTED_OLLAMA_MODEL))
    return OllamaProbe(True, base, models, msg("ollama.models", url=root, n=len(models)))


# -- the demo model -------------------------------------------------------------


@dataclass
class DemoStatus:
    available: bool
    name: str
    size_mb: int
    problem: Text | str | None

    def as_dict(self, lang: str) -> dict[str, Any]:
        problem = None if self.problem is None else render(self.problem, lang)
        return {"available": self.available, "name": self.name, "size_mb": self.size_mb,
                "problem": problem, "note": DEMO_NOTE.get(lang, DEMO_NOTE["en"])}


def demo_status(env: Mapping[str, str] | None = None) -> DemoStatus:
    try:
        spec = demo_model.spec_for(None, env)
    except demo_model.DemoUnavailable as e:
        return DemoStatus(False, "demo model", 0, e.text or str(e))
    problem = demo_model.check(env)
    return DemoStatus(problem is None, spec.name, round(spec.size / 1_000_000), problem)


# -- saving a choice --------------------------------------------------------------


def apply_demo(data_dir: Path, env: Mapping[str, str] | None = None) -> DemoStatus:
    """Choose the demo model (only when it can run here)."""
    status = demo_status(env)
    if status.available:
        settings_io.apply_patch(data_dir, {"llm": {"provider": "demo"}})
    return status


def apply_service(
    data_dir: Path,
    env: Mapping[str, str],
    base_url: str,
    model: str,
    api_key: str | None,
    *,
    test: bool = True,
) -> Check:
    """Test the service, then (only if it answers) save it; the key goes to
    the secret store. ``api_key`` None keeps the stored key."""
    secrets = SecretStore(data_dir, env)
    key = secrets.get("llm_api_key") if api_key is None else api_key.strip()
    if test:
        check = check_llm(base_url, key, model, TEST_TIMEOUT)
        if not check.ok:
            return check
    else:
        check = Check(True, msg("setup.saved_untested", url=base_url, model=model))
    if api_key is not None and api_key.strip():
        secrets.set("llm_api_key", api_key.strip())
    settings_io.apply_patch(
        data_dir, {"llm": {"provider": "openai", "base_url": base_url, "model": model}}
    )
    return check
