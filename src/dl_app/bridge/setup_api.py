"""First-run setup for the page: is a model chosen, what ollama offers, and
saving a choice (ollama, an OpenAI-compatible service with its key, or the
offline demo model). A mixin of ``Api`` (same plumbing: ``_run``, ``_mem``,
``_reset``). See ``docs/bridge-api.md`` and ``dl_app/first_run.py``.

Also the model line's facts for ``app_info``: which model answers, where, and
a note when it is the tiny demo model.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from .. import first_run, settings_io
from ..core.errors import ModelNotFound
from ..wiring import llm_provider, resolve_lang
from .fields import env_overrides
from .params import InvalidInput, NoParams, failure

__all__ = ["SETUP_METHODS", "SetupApi"]

SETUP_METHODS = ("setup_status", "setup_probe_ollama", "setup_apply")


class ProbeParams(NoParams):
    base_url: str | None = Field(default=None, max_length=2000)


class ApplyParams(NoParams):
    choice: Literal["demo", "ollama", "service"]
    base_url: str | None = Field(default=None, max_length=2000)
    model: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=4000)


class SetupApi:
    _run: Any
    _mem: Any
    _reset: Any
    _data_dir: Path
    _env: Mapping[str, str]

    def _lang(self) -> str:
        try:
            s = settings_io.effective(self._data_dir, self._env)
        except Exception:
            return resolve_lang("auto", self._env)
        return resolve_lang(s.language, self._env)

    def _model_info(self, mem: Any) -> dict[str, Any]:
        """``model``/``base_url``/``model_note``/``setup_needed`` for app_info."""
        model = mem.model()
        needed = first_run.setup_needed(self._data_dir, self._env)
        if model.demo:
            note = first_run.DEMO_NOTE.get(mem.lang, first_run.DEMO_NOTE["en"])
            return {"model": model.name, "base_url": "", "model_note": note,
                    "provider": "demo", "setup_needed": needed}
        return {"model": model.name, "model_note": "", "provider": "openai",
                "setup_needed": needed}

    def setup_status(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._setup_status, locked=False)

    def _setup_status(self, _p: NoParams) -> dict[str, Any]:
        s = settings_io.effective(self._data_dir, self._env)
        lang = self._lang()
        return {
            "needed": first_run.setup_needed(self._data_dir, self._env),
            "provider": llm_provider(s, self._env),
            "base_url": s.llm.base_url,
            "model": s.llm.model,
            "env_overrides": env_overrides(self._env)
            + (["llm.provider"] if self._env.get("DL_LLM_PROVIDER") else []),
            "demo": first_run.demo_status(self._env).as_dict(lang),
            "ollama_url": first_run.ollama_root(self._env),
            "suggested_ollama_model": first_run.SUGGESTED_OLLAMA_MODEL,
            "presets": [
                {"key": k, "label": label, "base_url": url, "model": model}
                for k, label, url, model in first_run.PRESETS
            ],
        }

    def setup_probe_ollama(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ProbeParams, self._setup_probe, locked=False)

    def _setup_probe(self, p: ProbeParams) -> dict[str, Any]:
        return {"ollama": first_run.probe_ollama(p.base_url, self._env).as_dict()}

    def setup_apply(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ApplyParams, self._setup_apply)

    def _setup_apply(self, p: ApplyParams) -> dict[str, Any]:
        if p.choice == "demo":
            status = first_run.apply_demo(self._data_dir, self._env)
            if not status.available:
                error = ModelNotFound(f"The demo model is unavailable: {status.problem}")
                return {**failure(error),
                        "demo": status.as_dict(self._lang())}
            self._reset()
            return {"message": status.name, "demo": status.as_dict(self._lang())}
        if p.choice == "ollama":
            base = first_run.probe_ollama(p.base_url, self._env).base_url
            key: str | None = None
        else:
            base = (p.base_url or "").strip()
            key = p.api_key
        model = (p.model or "").strip()
        if not base or not model:
            raise InvalidInput("Give the service address and the model name.")
        check = first_run.apply_service(self._data_dir, self._env, base, model, key)
        out = {"message": check.message, "models": check.models}
        if check.error is not None:
            return {**failure(check.error), **out}
        self._reset()
        return out

