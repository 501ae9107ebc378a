"""First-run setup for the page: is a model chosen, what ollama offers, and
saving a choice (ollama, an OpenAI-compatible service with its key, or the
offline demo model). See ``docs/bridge-api.md`` and ``dl_app/first_run.py``.

Also the model line's facts for ``app_info``: which model answers, where, and
a note when it is the tiny demo model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .. import first_run
from ..core.errors import ModelNotFound, msg
from ..memory import Memory
from ..messages import render
from ..wiring import llm_provider
from .context import Context
from .fields import env_names, env_overrides
from .params import InvalidInput, NoParams, failure
from .registry import Methods

__all__ = ["methods", "model_info"]

methods = Methods()


class ProbeParams(NoParams):
    base_url: str | None = Field(default=None, max_length=2000)


class ApplyParams(NoParams):
    choice: Literal["demo", "ollama", "service"]
    base_url: str | None = Field(default=None, max_length=2000)
    model: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=4000)


def model_info(ctx: Context, mem: Memory) -> dict[str, Any]:
    """``model``/``base_url``/``model_note``/``setup_needed`` for app_info."""
    model = mem.model()
    needed = first_run.setup_needed(ctx.data_dir, ctx.env)
    if model.demo:
        note = first_run.DEMO_NOTE.get(ctx.lang(), first_run.DEMO_NOTE["en"])
        return {"model": model.name, "base_url": "", "model_note": note,
                "provider": "demo", "setup_needed": needed}
    return {"model": model.name, "model_note": "", "provider": "openai",
            "setup_needed": needed}


@methods.expose(locked=False)
def setup_status(ctx: Context, _p: NoParams) -> dict[str, Any]:
    s = ctx.settings()
    lang = ctx.lang()
    return {
        "needed": first_run.setup_needed(ctx.data_dir, ctx.env),
        "provider": llm_provider(s, ctx.env),
        "base_url": s.llm.base_url,
        "model": s.llm.model,
        "env_overrides": env_overrides(ctx.env),
        "env_names": env_names(ctx.env),
        "demo": first_run.demo_status(ctx.env).as_dict(lang),
        "ollama_url": first_run.ollama_root(ctx.env),
        "suggested_ollama_model": first_run.SUGGESTED_OLLAMA_MODEL,
        "presets": [
            {"key": k, "label": label, "base_url": url, "model": model}
            for k, label, url, model in first_run.PRESETS
        ],
    }


@methods.expose(ProbeParams, locked=False)
def setup_probe_ollama(ctx: Context, p: ProbeParams) -> dict[str, Any]:
    return {"ollama": first_run.probe_ollama(p.base_url, ctx.env).as_dict(ctx.lang())}


@methods.expose(ApplyParams)
def setup_apply(ctx: Context, p: ApplyParams) -> dict[str, Any]:
    lang = ctx.lang()  # the asking page's (X-DL-Lang), else the app's
    if p.choice == "demo":
        status = first_run.apply_demo(ctx.data_dir, ctx.env)
        if not status.available:
            error = ModelNotFound(msg("setup.demo_unavailable", problem=status.problem or ""))
            return {**failure(error, lang), "demo": status.as_dict(lang)}
        ctx.reset()
        return {"message": status.name, "demo": status.as_dict(lang)}
    if p.choice == "ollama":
        base = first_run.probe_ollama(p.base_url, ctx.env).base_url
        key: str | None = None
    else:
        base = (p.base_url or "").strip()
        key = p.api_key
    model = (p.model or "").strip()
    if not base or not model:
        return failure(InvalidInput(msg("setup.need_address")), lang)
    check = first_run.apply_service(ctx.data_dir, ctx.env, base, model, key)
    out = {"message": render(check.message, lang), "models": check.models}
    if check.error is not None:
        return {**failure(check.error, lang), **out}
    ctx.reset()
    return out
