"""The app's bridge methods: what the page shows first (``app_info``,
``page_ready``), the settings, the API keys and the connection test.
See ``docs/bridge-api.md``."""

from __future__ import annotations

import contextlib
from importlib import metadata
from typing import Any

from pydantic import ValidationError

from .. import __version__, settings_io
from ..adapters.secrets import SECRET_NAMES
from ..connection import check_embed, check_llm
from ..messages import render
from ..notices import meta_field
from ..settings import SettingsError
from ..wiring import llm_provider, provider_variable, resolve_lang
from .context import Context
from .fields import describe_settings, env_names, env_overrides
from .memory_api import DELETE_PHRASES
from .params import (
    ConnectionParams,
    NoParams,
    PatchParams,
    SecretNameParams,
    SecretSetParams,
    failure,
    invalid,
)
from .registry import Methods
from .setup_api import model_info
from .shell_api import shell_notes

__all__ = ["TEST_TIMEOUT", "methods"]

TEST_TIMEOUT = 20.0  # seconds, at most, for test_connection

methods = Methods()


@methods.expose()
def app_info(ctx: Context, _p: NoParams) -> dict[str, Any]:
    mem = ctx.mem()
    s = mem.settings
    profile = mem.profile()
    ui = getattr(s, "ui", None)
    return {
        "version": __version__,
        "lang": mem.lang,
        "ui_lang_setting": s.language,
        "theme": s.theme,
        "model": s.llm.model,
        "base_url": s.llm.base_url,
        "data_dir": str(ctx.data_dir),
        "self_name": profile.self_name,
        "user_name": profile.user_name,
        "inspector": bool(getattr(ui, "inspector", False)),
        "delete_phrases": DELETE_PHRASES,  # what memory_delete_all checks, per language
        **model_info(ctx, mem),  # which model answers; a note for the demo model
        **_project(),  # About: the licence and the links of the project
    }


def _project() -> dict[str, Any]:
    """The app's own licence and links, from its package metadata (``pyproject.toml``);
    empty where a bundle carries no metadata."""
    try:
        md = metadata.metadata("dl-app")
    except metadata.PackageNotFoundError:
        return {"license": "", "links": []}
    links = []
    for item in md.get_all("Project-URL") or []:
        label, _, url = item.partition(",")
        if url.strip():
            links.append({"label": label.strip(), "url": url.strip()})
    licence = meta_field(md, "License-Expression") or meta_field(md, "License") or ""
    return {"license": licence, "links": links}


@methods.expose(locked=False)
def page_ready(ctx: Context, _p: NoParams) -> dict[str, Any]:
    ctx.ready()
    return {}


def _shown(ctx: Context) -> dict[str, Any]:
    """The settings as the page shows them: with the model source a ``DL_*`` variable
    decides (``wiring.llm_provider``), not "not chosen yet"."""
    settings = ctx.settings()
    shown = settings.model_dump(mode="json")
    if provider_variable(ctx.env):
        with contextlib.suppress(SettingsError):  # a wrong DL_LLM_PROVIDER: said elsewhere
            shown["llm"]["provider"] = llm_provider(settings, ctx.env)
    return shown


@methods.expose(locked=False)
def settings_get(ctx: Context, _p: NoParams) -> dict[str, Any]:
    fields, groups = describe_settings()
    return {
        "settings": _shown(ctx),
        "lang": ctx.app_lang(),  # the app's language now (the setting, or the system's)
        "fields": fields,
        "groups": groups,
        "env_overrides": env_overrides(ctx.env),
        "env_names": env_names(ctx.env),
        "secrets": ctx.secrets.status(),
        "secrets_from_env": [n for n in SECRET_NAMES if ctx.secrets.from_env(n)],
        "secret_store": ctx.secrets.info().as_dict(),
        "field_notes": shell_notes(ctx),  # the desktop's: what the pet can do here
    }


@methods.expose(PatchParams)
def settings_set(ctx: Context, p: PatchParams) -> dict[str, Any]:
    try:
        settings_io.apply_patch(ctx.data_dir, p.patch)
    except ValidationError as e:
        raise invalid(e, "settings") from e
    ctx.reset()  # the next call rebuilds the engine with the new adapters
    shown = _shown(ctx)
    ctx.emit("settings.changed", {"settings": shown})
    return {
        "settings": shown,
        "env_overrides": env_overrides(ctx.env),
    }


@methods.expose(SecretSetParams)
def secret_set(ctx: Context, p: SecretSetParams) -> dict[str, Any]:
    ctx.secrets.set(p.name, p.value)
    ctx.reset()
    return {"secrets": ctx.secrets.status()}


@methods.expose(SecretNameParams)
def secret_delete(ctx: Context, p: SecretNameParams) -> dict[str, Any]:
    ctx.secrets.delete(p.name)
    ctx.reset()
    return {"secrets": ctx.secrets.status()}


# Not behind the lock: it uses its own clients, and must answer during a turn.
@methods.expose(ConnectionParams, locked=False)
def test_connection(ctx: Context, p: ConnectionParams) -> dict[str, Any]:
    s = ctx.settings()
    if p.kind == "llm":
        check = check_llm(
            p.base_url or s.llm.base_url, ctx.secrets.get("llm_api_key"),
            p.model or s.llm.model, min(s.llm.timeout_s, TEST_TIMEOUT),
            budget=s.memory.token_budget, lang=resolve_lang(s.language, ctx.env),
        )
    else:
        base = s.embed.base_url if p.base_url is None else p.base_url
        check = check_embed(
            base, ctx.secrets.get("embed_api_key"), p.model or s.embed.model,
            s.embed.dimensions, min(s.llm.timeout_s, TEST_TIMEOUT),
        )
    lang = ctx.lang()
    out: dict[str, Any] = {"message": render(check.message, lang), "models": check.models}
    if check.error is not None:
        return {**failure(check.error, lang), **out}
    return {"ok": True, **out}
