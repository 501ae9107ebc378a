"""The composition root: settings and data dir in, a ready engine out.

Only this module knows which adapter implements which port.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import messages
from . import prompts as prompt_files
from .adapters.clock import SystemClock
from .adapters.documents import AttachmentStore
from .adapters.lance_stores import LanceStores
from .adapters.secrets import SecretStore
from .adapters.state_sqlite import SqliteStateStore
from .adapters.tokenizer import counter_for_model, exact_counter
from .adapters.weather_qweather import QWeather
from .core.calibration import CalibratedCounter, CalibratingChat, Calibration
from .core.context import Budget
from .core.engine import EngineConfig, MemoryEngine
from .core.errors import ServiceUnreachable, msg
from .core.health import EMBEDDINGS, WEATHER, Health, WatchedEmbedder
from .core.models import Attachment, Profile
from .core.ports import ChatModel, Clock, Embedder, ImageMaker, TokenCounter
from .datadir import check_format
from .paths import data_dir as default_data_dir
from .prompts import Lang, PromptSet
from .service_probes import watch_pictures
from .settings import ENV_SETTINGS, PROVIDER_VARIABLE, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from .adapters.llm_local import LocalChatModel


def resolve_lang(setting: str, env: Mapping[str, str] | None = None) -> Lang:
    """``zh`` or ``en``: the setting, or the system locale (``messages.resolve_lang``)."""
    return messages.resolve_lang(setting, env)  # type: ignore[return-value]


def default_profile(p: PromptSet) -> Profile:
    return Profile(
        self_name=p.label("default_self_name"),
        user_name=p.label("default_user_name"),
        memory_about_self=p.label("default_memory_about_self"),
        memory_about_user="",
    )


def _secrets(env: Mapping[str, str] | None, secrets: SecretStore | None) -> SecretStore:
    return secrets if secrets is not None else SecretStore(default_data_dir(env), env)


DEMO = "demo"


def llm_provider(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """``demo`` or ``openai``: ``DL_LLM_PROVIDER``, else ``openai`` when
    ``DL_LLM_BASE_URL``/``DL_LLM_MODEL`` name a service, else the setting
    (not chosen yet: ``openai``, the service address in the settings)."""
    env = os.environ if env is None else env
    deciding = provider_variable(env)
    if deciding == PROVIDER_VARIABLE:
        forced = env[PROVIDER_VARIABLE].strip().lower()
        if forced in (DEMO, "openai"):
            return forced
        raise SettingsError(msg("settings.provider", var=PROVIDER_VARIABLE, value=forced))
    if deciding is not None:  # the service's address or model
        return "openai"
    return settings.llm.provider or "openai"


def provider_variable(env: Mapping[str, str] | None = None) -> str | None:
    """The ``DL_*`` variable that decides ``llm_provider`` (``DL_LLM_PROVIDER``, else
    the service's address or model), or None when the setting does."""
    env = os.environ if env is None else env
    if env.get(PROVIDER_VARIABLE, "").strip():
        return PROVIDER_VARIABLE
    return next((v for v in (ENV_SETTINGS["llm.base_url"], ENV_SETTINGS["llm.model"])
                 if env.get(v)), None)


def make_chat(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    secrets: SecretStore | None = None,
) -> ChatModel:
    from .adapters.llm_openai import OpenAIChatModel

    if llm_provider(settings, env) == DEMO:
        from .adapters.llm_local import LocalChatModel

        return LocalChatModel(settings.memory.token_budget)
    s = settings.llm
    keys = _secrets(env, secrets)
    return OpenAIChatModel(
        base_url=s.base_url,
        api_key=lambda: keys.get("llm_api_key"),  # read on the first request, not here
        model=s.model,
        timeout=s.timeout_s,
        max_retries=s.max_retries,
    )


def make_embedder(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    secrets: SecretStore | None = None,
) -> Embedder:
    s = settings.embed
    if not s.base_url:
        from .adapters.embed_builtin import BuiltinEmbedder

        # One thread: steady query latency on a machine shared with a local model
        # (two spinning threads stalled queries by 100-600 ms under load).
        return BuiltinEmbedder(num_threads=1)
    from .adapters.embed_openai import OpenAIEmbedder

    return OpenAIEmbedder(
        base_url=s.base_url,
        api_key=_secrets(env, secrets).get("embed_api_key"),
        model=s.model,
        dimensions=s.dimensions,
    )


@dataclass
class App:
    data_dir: Path
    settings: Settings
    lang: Lang
    prompts: PromptSet
    engine: MemoryEngine
    state: SqliteStateStore
    weather: QWeather | None
    health: Health
    stores: LanceStores  # the diary and the turn index: opened by ``Memory`` (now or later)

    def close(self, *, wait: bool = False) -> None:
        """``wait``: also for an opening of the stores under way (else it ends alone)."""
        self.stores.close(wait=wait)
        self.state.close()


def build(
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    chat: ChatModel | None = None,
    embedder: Embedder | None = None,
    clock: Clock | None = None,
    lang: Lang | None = None,
) -> App:
    """Open the memory in ``data_dir`` (default: ``DL_DATA_DIR`` or the
    platform's data dir) with the configured services. The diary and the turn
    index are not opened yet: ``App.stores`` opens them (``lance_stores.py``).
    ``lang``: the language the companion speaks (``Context.companion_lang``); by
    default the setting, or the system's."""
    root = data_dir or default_data_dir(env)
    check_format(root)  # a newer app's data dir is refused before anything is touched
    settings = load_settings(root, env)
    lang = lang or resolve_lang(settings.language, env)
    prompts = prompt_files.load(lang)
    state = SqliteStateStore(root / "state.sqlite3", default_profile(prompts))
    stores = LanceStores(root / "diary.lance")
    m = settings.memory
    keys = SecretStore(root, env)
    chat = chat or make_chat(settings, env, keys)
    local = _local(chat)
    config = EngineConfig(
        budget=Budget(total=m.token_budget, reply=min(m.reply_tokens, m.token_budget // 3)),
        idle_hours=m.idle_hours,
        # The tiny demo model cannot call tools: the app recalls with each message.
        recall_mode="auto" if local is not None else settings.llm.recall_mode,
        recall_rounds=m.recall_rounds,
        recall_k=m.recall_k,
        temperature=settings.llm.temperature,
        vision=settings.llm.vision,
        # Nothing goes to a model for check-ins unless they are on; not the demo model.
        followups_model=settings.plugins.checkins_enabled and local is None,
        memory_updates=local is None,
        placeholder_names=tuple(prompt_files.load(lang).label("default_user_name")
                                for lang in ("zh", "en")),
    )
    counter = _counter(chat, local, settings)
    if local is None:  # a service: its own token counts correct ours
        chat, counter = _calibrated(chat, counter, state, settings, config.budget.total)
    clock = clock or SystemClock()
    health = Health(clock)  # the optional services that are down now (core/health.py)
    weather = make_weather(settings, lang, clock, keys)

    report_weather = _watch_weather(weather, health)

    def world_extra() -> list[str]:
        # Lines only when the weather is on and a key is set; a failure is no line.
        lines = weather.lines()
        report_weather()
        return [prompts.label("world_weather", weather=w) for w in lines]

    watched = WatchedEmbedder(embedder or make_embedder(settings, env, keys), health)
    if embedder is not None or settings.embed.base_url:  # not the built-in: can be down
        health.watch(EMBEDDINGS, watched.probe)
    engine = MemoryEngine(
        chat=chat,
        embedder=watched,
        diary=stores.diary,
        state=state,
        turns=stores.turns,
        clock=clock,
        counter=counter,
        prompts=prompts,
        config=config,
        world_extra=world_extra,
        images=watch_pictures(make_images(settings, keys), health),
        save_attachment=lambda data, mime, name: _save_picture(root, data, mime, name),
    )
    return App(root, settings, lang, prompts, engine, state, weather, health, stores)


def _local(chat: ChatModel) -> LocalChatModel | None:
    from .adapters.llm_local import LocalChatModel

    return chat if isinstance(chat, LocalChatModel) else None


def _counter(chat: ChatModel, local: LocalChatModel | None, settings: Settings) -> TokenCounter:
    """The local model's own tokenizer for it; for a service, Qwen's (exact for
    Qwen models, a conservative estimate for other families)."""
    if local is not None:
        from .adapters.llm_local import LocalCounter

        return LocalCounter(local, counter_for_model(chat.model_name))
    return counter_for_model(settings.llm.model)


def _calibrated(
    chat: ChatModel,
    estimate: TokenCounter,
    state: SqliteStateStore,
    settings: Settings,
    budget: int,
) -> tuple[ChatModel, TokenCounter]:
    """The chat model wrapped to learn the service's token counts, and the
    counter that applies what it learned (kept per address and model)."""
    address = str(getattr(chat, "base_url", "") or settings.llm.base_url).rstrip("/")
    calibration = Calibration(state.load_calibration(address, chat.model_name))
    wrapped = CalibratingChat(
        chat, calibration, estimate=estimate, exact=exact_counter(), store=state,
        address=address, budget=budget,
    )
    return wrapped, CalibratedCounter(estimate, calibration)


def make_weather(settings: Settings, lang: Lang, clock: Clock, keys: SecretStore) -> QWeather:
    """The QWeather provider of the ``plugins`` settings (inactive when off)."""
    p = settings.plugins
    return QWeather(
        key=keys.get("weather_api_key") if p.weather_enabled else "",
        location=p.weather_location,
        lang=lang,
        clock=clock,
        base=p.weather_api_base,
        geo_base=p.weather_geo_base,
        enabled=p.weather_enabled,
    )


def _watch_weather(weather: QWeather, health: Health) -> Callable[[], None]:
    """Let ``health`` ask the weather again while it fails (when it is on); returns
    what tells ``health`` how the weather's last use went."""

    def report() -> None:
        if weather.active:
            error = weather.status()["error"]
            if error:
                health.failed(WEATHER, ServiceUnreachable(error))
            else:
                health.ok(WEATHER)

    def probe() -> None:
        weather.refresh()
        if weather.current() is None:
            raise ServiceUnreachable(weather.status()["error"] or "")

    if weather.active:
        health.watch(WEATHER, probe)
    return report


def make_images(settings: Settings, keys: SecretStore) -> ImageMaker | None:
    """The image service of the ``images`` settings (None when off or unset)."""
    s = settings.images
    if not s.enabled or not s.base_url.strip():
        return None
    from .adapters.images_openai import OpenAIImageMaker

    return OpenAIImageMaker(
        s.base_url.strip(), keys.get("images_api_key"), s.model, s.size,
        timeout=settings.llm.timeout_s,
    )


def _save_picture(root: Path, data: bytes, mime: str, name: str) -> Attachment:
    return AttachmentStore(root).save_image(name, mime, data)
