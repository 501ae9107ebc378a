"""The bridge: the page's one API, for the window (pywebview ``js_api``) and the
browser (``dl-app serve`` posts to the same methods). See ``docs/bridge-api.md``.

Every public method takes one optional ``params`` object and returns a JSON
dict ``{"ok": true, ...}`` or ``{"ok": false, "error": {"type", "message"}}``;
nothing is raised to the caller. Calls that touch the memory or the model run
one at a time (pywebview runs each call on its own thread). Python pushes
events with ``emit(name, payload)``. Secrets never leave Python.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import __version__, settings_io
from ..adapters.documents import decode_base64
from ..adapters.secrets import SECRET_NAMES, SecretStore
from ..connection import check_embed, check_llm
from ..core.emotion import emotion_of
from ..core.errors import DLError, ServiceError
from ..core.ports import ChatDelta
from ..memory import Memory
from ..paths import data_dir as default_data_dir
from . import views
from .avatar_api import AVATAR_METHODS, AvatarApi
from .backup_api import BACKUP_METHODS, BackupApi
from .fields import describe_settings, env_overrides
from .memory_api import MEMORY_METHODS, MemoryApi
from .params import (
    AttachmentParams,
    ChatParams,
    ConnectionParams,
    InvalidInput,
    NoParams,
    PatchParams,
    PreviewParams,
    RebuildParams,
    SecretNameParams,
    SecretSetParams,
    failure,
    invalid,
)
from .plugins_api import PLUGIN_METHODS, PluginsApi
from .setup_api import SETUP_METHODS, SetupApi
from .voice_api import VOICE_METHODS, VoiceApi

__all__ = ["API_METHODS", "Api", "InvalidInput"]

log = logging.getLogger(__name__)

EmitFn = Callable[[str, dict[str, Any]], None]

API_METHODS = (
    "app_info", "chat_history", "chat_send", "chat_clear", "memory_consolidate",
    "budget_gauge", "context_preview", "settings_get", "settings_set", "secret_set",
    "secret_delete", "test_connection", "index_status", "index_rebuild", "page_ready",
    "attachment_get",
    *MEMORY_METHODS, *BACKUP_METHODS, *PLUGIN_METHODS, *AVATAR_METHODS, *VOICE_METHODS,
    *SETUP_METHODS,
)
TEST_TIMEOUT = 20.0  # seconds, at most, for test_connection

_BACK_ONLINE = {"en": "The model service answers again.", "zh": "模型服务已恢复。"}


# -- the API ---------------------------------------------------------------


class Api(MemoryApi, BackupApi, PluginsApi, AvatarApi, VoiceApi, SetupApi):
    """The page's API. ``emit(name, payload)`` pushes events to the page.
    The memory pages' and backup methods come from the mixins."""

    def __init__(
        self,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        emit: EmitFn | None = None,
    ) -> None:
        self._env: Mapping[str, str] = os.environ if env is None else env
        self._data_dir = Path(data_dir) if data_dir is not None else default_data_dir(self._env)
        self._emit_fn = emit
        self._lock = threading.RLock()
        self._memory: Memory | None = None
        self._secrets = SecretStore(self._data_dir, self._env)
        self._service_down = False
        self._page_ready = threading.Event()
        self._backup_lock = threading.Lock()  # one backup upload or restore at a time
        self._auto_thread: threading.Thread | None = None

    # -- plumbing (not exposed: pywebview skips names starting with "_")

    def _run(
        self,
        params: Any,
        model: type[NoParams],
        fn: Callable[[Any], dict[str, Any]],
        *,
        locked: bool = True,
    ) -> dict[str, Any]:
        try:
            if params is not None and not isinstance(params, dict):
                raise InvalidInput("The parameters must be a JSON object.")
            try:
                parsed = model.model_validate(params or {})
            except ValidationError as e:
                raise invalid(e, "parameters") from e
            if locked:
                with self._lock:
                    out = fn(parsed)
            else:
                out = fn(parsed)
        except DLError as e:
            return failure(e)
        except Exception as e:
            log.exception("bridge call failed")
            return failure(e)
        return out if "ok" in out else {"ok": True, **out}

    def _emit(self, name: str, payload: dict[str, Any]) -> None:
        if self._emit_fn is None:
            return
        try:
            self._emit_fn(name, payload)
        except Exception:  # a closing window must not break a turn
            log.exception("emitting %s failed", name)

    def _mem(self) -> Memory:
        """The open memory (opened on first use). Call with the lock held."""
        if self._memory is None:
            self._memory = Memory.open(self._data_dir, env=self._env)
        return self._memory

    def _reset(self) -> None:
        """Close the memory; the next call reopens it with fresh settings and keys."""
        with self._lock:
            mem, self._memory = self._memory, None
            if mem is not None:
                mem.close(clients=True)

    def _progress(self, task: str) -> Callable[[int, int], None]:
        def step(done: int, total: int) -> None:
            self._emit("task.progress", {"task": task, "done": done, "total": total})

        return step

    def _service_failed(self, error: DLError) -> None:
        if isinstance(error, ServiceError):
            self._service_down = True
            self._emit("service.status", {"ok": False, "message": str(error)})

    def _service_ok(self, lang: str) -> None:
        if self._service_down:
            self._service_down = False
            self._emit("service.status", {"ok": True, "message": _BACK_ONLINE[lang]})

    def close(self) -> None:
        """Close the memory (for the app shell and the server; not exposed to JS)."""
        thread = self._auto_thread
        if thread is not None:
            thread.join(timeout=60)  # let an automatic backup finish its upload
        self._reset()

    close._serializable = False  # type: ignore[attr-defined]

    # -- the page's methods

    def app_info(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._app_info)

    def _app_info(self, _p: NoParams) -> dict[str, Any]:
        mem = self._mem()
        s = mem.settings
        profile = mem.profile()
        ui = getattr(s, "ui", None)
        return {
            "version": __version__,
            "lang": mem.lang,
            "ui_lang_setting": s.language,
            "theme": getattr(ui, "theme", "system"),
            "model": s.llm.model,
            "base_url": s.llm.base_url,
            "data_dir": str(self._data_dir),
            "self_name": profile.self_name,
            "user_name": profile.user_name,
            "inspector": bool(getattr(ui, "inspector", False)),
            **self._model_info(mem),  # which model answers; a note for the demo model
        }

    def chat_history(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._chat_history)

    def _chat_history(self, _p: NoParams) -> dict[str, Any]:
        mem = self._mem()
        return {"messages": views.history(mem.conversation(), mem.find_diary_entry)}

    def chat_send(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, ChatParams, self._chat_send)

    def _chat_send(self, p: ChatParams) -> dict[str, Any]:
        mem = self._mem()

        def on_delta(d: ChatDelta) -> None:
            self._emit("chat.delta", {"kind": d.kind, "text": d.text})

        wrote_diary = False

        def on_event(name: str, data: dict[str, Any]) -> None:
            nonlocal wrote_diary
            if name == "recall":
                self._emit("chat.recall", {"titles": list(data.get("hits", []))})
            elif name == "consolidating":  # an idle conversation becomes a diary entry
                wrote_diary = True
            elif name == "notice":  # ... unless writing it failed
                wrote_diary = False

        try:
            images = [(i.name, i.mime, decode_base64(i.name, i.data_base64)) for i in p.images]
            files = [(f.name, decode_base64(f.name, f.data_base64)) for f in p.files]
            result = mem.send(
                p.text, on_delta=on_delta, on_event=on_event, images=images, files=files
            )
        except DLError as e:
            self._emit("chat.error", {"type": type(e).__name__, "message": str(e)})
            self._service_failed(e)
            raise
        self._service_ok(mem.lang)
        if wrote_diary:
            self._after_diary(mem)
        out = {
            "reply": result.reply,
            "reasoning": result.reasoning,
            "message_id": result.messages[-1].id,
            "recalled": [{"uuid": h.entry.uuid, "title": h.entry.title} for h in result.recalled],
            "gauge": self._gauge_or_none(mem),
            "notices": list(result.notices),
            "user_message_id": result.messages[0].id,
            "attachments": views.attachments(result.messages[0]),
            "reply_attachments": views.attachments(result.messages[-1]),
            "images_unseen": result.images_unseen,
        }
        self._emit("chat.emotion", {"name": emotion_of(result.reply) or "neutral"})
        self._emit("chat.done", {"ok": True, **out})
        return out

    def attachment_get(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, AttachmentParams, self._attachment_get)

    def _attachment_get(self, p: AttachmentParams) -> dict[str, Any]:
        att, path = self._mem().attachment(p.id)
        out: dict[str, Any] = {"id": att.id, "kind": att.kind, "name": att.name, "mime": att.mime}
        if att.kind == "image":
            data = base64.b64encode(path.read_bytes()).decode()
            out["data_url"] = f"data:{att.mime};base64,{data}"
        return out

    def chat_clear(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._chat_clear)

    def _chat_clear(self, _p: NoParams) -> dict[str, Any]:
        self._mem().clear_conversation()
        return {}

    def memory_consolidate(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._consolidate)

    def _consolidate(self, _p: NoParams) -> dict[str, Any]:
        mem = self._mem()
        try:
            entry = mem.consolidate(self._progress("consolidate"))
        except DLError as e:
            self._service_failed(e)
            raise
        self._service_ok(mem.lang)
        auto = self._after_diary(mem) if entry else False
        return {
            "entry": {"uuid": entry.uuid, "title": entry.title} if entry else None,
            "auto_backup": auto,
        }

    def budget_gauge(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, lambda _p: self._gauge(self._mem()))

    @staticmethod
    def _gauge(mem: Memory) -> dict[str, Any]:
        plan = mem.context_preview().plan
        used, budget = plan.request_tokens, plan.budget.total
        return {"used": used, "budget": budget, "ratio": round(used / budget, 4)}

    def _gauge_or_none(self, mem: Memory) -> dict[str, Any] | None:
        try:
            return self._gauge(mem)
        except DLError:
            return None

    def context_preview(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, PreviewParams, self._context_preview)

    def _context_preview(self, p: PreviewParams) -> dict[str, Any]:
        return views.preview(self._mem().context_preview(p.text))

    def settings_get(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._settings_get, locked=False)

    def _settings_get(self, _p: NoParams) -> dict[str, Any]:
        settings = settings_io.effective(self._data_dir, self._env)
        fields, groups = describe_settings()
        return {
            "settings": settings.model_dump(mode="json"),
            "fields": fields,
            "groups": groups,
            "env_overrides": env_overrides(self._env),
            "secrets": self._secrets.status(),
            "secrets_from_env": [n for n in SECRET_NAMES if self._secrets.from_env(n)],
            "secret_store": self._secrets.info().as_dict(),
        }

    def settings_set(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, PatchParams, self._settings_set)

    def _settings_set(self, p: PatchParams) -> dict[str, Any]:
        try:
            settings_io.apply_patch(self._data_dir, p.patch)
        except ValidationError as e:
            raise invalid(e, "settings") from e
        self._reset()  # the next call rebuilds the engine with the new adapters
        settings = settings_io.effective(self._data_dir, self._env)
        self._emit("settings.changed", {"settings": settings.model_dump(mode="json")})
        return {
            "settings": settings.model_dump(mode="json"),
            "env_overrides": env_overrides(self._env),
        }

    def secret_set(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, SecretSetParams, self._secret_set)

    def _secret_set(self, p: SecretSetParams) -> dict[str, Any]:
        self._secrets.set(p.name, p.value)
        self._reset()
        return {"secrets": self._secrets.status()}

    def secret_delete(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, SecretNameParams, self._secret_delete)

    def _secret_delete(self, p: SecretNameParams) -> dict[str, Any]:
        self._secrets.delete(p.name)
        self._reset()
        return {"secrets": self._secrets.status()}

    def test_connection(self, params: Any = None) -> dict[str, Any]:
        # Not behind the lock: it uses its own clients, and must answer during a turn.
        return self._run(params, ConnectionParams, self._test_connection, locked=False)

    def _test_connection(self, p: ConnectionParams) -> dict[str, Any]:
        s = settings_io.effective(self._data_dir, self._env)
        if p.kind == "llm":
            check = check_llm(
                p.base_url or s.llm.base_url, self._secrets.get("llm_api_key"),
                p.model or s.llm.model, min(s.llm.timeout_s, TEST_TIMEOUT),
            )
        else:
            base = s.embed.base_url if p.base_url is None else p.base_url
            check = check_embed(
                base, self._secrets.get("embed_api_key"), p.model or s.embed.model,
                s.embed.dimensions, min(s.llm.timeout_s, TEST_TIMEOUT),
            )
        out: dict[str, Any] = {"message": check.message, "models": check.models}
        if check.error is not None:
            return {**failure(check.error), **out}
        return {"ok": True, **out}

    def index_status(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._index_status)

    def _index_status(self, _p: NoParams) -> dict[str, Any]:
        indexed, total, model = self._mem().index_status()
        return {"indexed": indexed, "total": total, "model": model}

    def index_rebuild(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, RebuildParams, self._index_rebuild)

    def _index_rebuild(self, p: RebuildParams) -> dict[str, Any]:
        mem = self._mem()
        return {"indexed": mem.reindex(self._progress("index"), everything=p.everything)}

    def page_ready(self, params: Any = None) -> dict[str, Any]:
        return self._run(params, NoParams, self._set_page_ready, locked=False)

    def _set_page_ready(self, _p: NoParams) -> dict[str, Any]:
        self._page_ready.set()
        return {}
