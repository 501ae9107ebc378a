"""What every bridge method gets: one ``Context`` per ``Api``.

It holds the data dir, the environment and the key store, the memory (opened on
first use; use it with ``lock`` held, as locked methods are), events to the page,
and the little state some methods share: whether the model service is down, the
backup's lock and thread, the avatar's file routes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .. import settings_io
from ..adapters.secrets import SecretStore
from ..core.errors import DLError, ServiceError
from ..core.ports import ProgressFn
from ..memory import Memory
from ..messages import error_text, say
from ..paths import data_dir as default_data_dir
from ..prompts import Lang
from ..settings import Settings
from ..wiring import resolve_lang
from .avatar_files import AvatarFiles
from .params import failure
from .stops import Stops

# The language of the page making the current call, when it says (browser mode sends
# it with each call: ``X-DL-Lang``). Until the user chooses a language, a page in a
# browser speaks the browser's and the app the system's; the bridge's messages then
# follow the page. Unset: the app's language (the window, events, background work).
PAGE_LANG: ContextVar[str | None] = ContextVar("dl_page_lang", default=None)

__all__ = ["PAGE_LANG", "Context", "EmitFn"]

log = logging.getLogger(__name__)

EmitFn = Callable[[str, dict[str, Any]], None]


class Context:
    def __init__(
        self,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        emit: EmitFn | None = None,
    ) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir(self.env)
        self.secrets = SecretStore(self.data_dir, self.env)
        self.lock = threading.RLock()  # the memory and the model: one call at a time
        self.page_ready = threading.Event()
        self.stops = Stops()  # the stop button of the reply in flight (chat_stop)
        # The S3 backup: one upload or restore at a time; the automatic one's thread.
        self.backup_lock = threading.Lock()
        self.auto_thread: threading.Thread | None = None
        self.backup_part_size = 8 * 1024 * 1024  # multipart threshold and part size
        self.backup_timeout = 30.0
        self._emit_fn = emit
        self._memory: Memory | None = None
        self._stores_failed = False  # the last opening of the stores failed: open them now
        self._service_down = False
        self._avatar_files: AvatarFiles | None = None
        self._files_lock = threading.Lock()
        self.shell: Any = None  # the desktop app's windows (shell_api); None in a browser
        # What starts with the memory: the services' watch (Api sets health_api.start_watch).
        self.on_open: Callable[[Memory], Any] | None = None
        self.watch: Any = None  # what on_open returned, while the memory is open

    def mem(self) -> Memory:
        """The open memory (opened on first use). Call with the lock held.

        Its diary and turn index open once the page is ready (``page_ready``: the chat
        shows without them), or when first used; what uses them waits. If their opening
        failed, the memory is opened again here, the stores too, so that this call
        reports the error (the page heard of it at once: ``memory.status``)."""
        if self._memory is not None and self._memory.stores_error() is not None:
            self._drop()
            self._stores_failed = True
        page = self._page_lang()
        if (self._memory is not None and page is not None and page != self._memory.lang
                and self.companion_lang() != self._memory.lang):
            self._drop()  # a page in another language asks: the companion speaks its reader's
        if self._memory is None:
            self._memory = Memory.open(self.data_dir, env=self.env, lang=self.companion_lang(),
                                       stores_later=not self._stores_failed)
            self._stores_failed = False
            if self.on_open is not None:
                self.watch = self.on_open(self._memory)
            if self.page_ready.is_set():
                self._memory.open_stores_in_background(self._stores_opened)
        return self._memory

    def ready(self) -> None:
        """The page is ready: open the memory's stores now (not under the lock: the page
        does not wait for a call in progress)."""
        self.page_ready.set()
        memory = self._memory
        if memory is not None:
            memory.open_stores_in_background(self._stores_opened)

    def await_stores(self) -> None:
        """Wait, without the lock, until the memory's diary and turn index have opened
        (or failed to: the call that follows, under the lock, reports it). Only once
        the page is ready: before, the first use opens them, under the lock as always."""
        if not self.page_ready.is_set():
            return
        while True:
            try:
                with self.lock:
                    memory = self.mem()  # begins the opening on a thread if none has
            except Exception:  # the call itself reports why the memory cannot open
                return
            while self._memory is memory:  # else closed meanwhile: wait for the next
                if memory.stores_opened(0.25):
                    return

    def _stores_opened(self, error: BaseException | None) -> None:
        if error is not None:  # what the page would have heard when the memory opened
            self.emit("memory.status", failure(error, self.lang()))

    def reset(self) -> None:
        """Close the memory; the next call reopens it with fresh settings and keys."""
        with self.lock:
            self._drop()

    def _drop(self, *, wait: bool = False) -> None:
        mem, self._memory = self._memory, None
        watch, self.watch = self.watch, None
        if watch is not None:
            watch.stop()
        if mem is not None:
            mem.close(clients=True, wait=wait)

    def settings(self) -> Settings:
        """The settings in force now (the file plus ``DL_*`` overrides)."""
        return settings_io.effective(self.data_dir, self.env)

    def lang(self) -> str:
        """The language of what this call says (``zh``/``en``): the asking page's when
        it named one (:data:`PAGE_LANG`), else :meth:`app_lang`."""
        return self._page_lang() or self.app_lang()

    def app_lang(self) -> str:
        """The app's language now (``zh``/``en``): the setting, or the system's."""
        return resolve_lang(self._language_setting(), self.env)

    def companion_lang(self) -> Lang:
        """The language the companion speaks for this call (its prompts, its voice): the
        setting; under "auto", the asking page's in a browser (its reader's, not the
        server's locale), else the system's."""
        setting = self._language_setting()
        page = self._page_lang()
        return page if setting == "auto" and page is not None else resolve_lang(setting, self.env)

    def _language_setting(self) -> str:
        try:
            return self.settings().language
        except Exception:  # a broken settings file must not hide an error's words
            return "auto"

    @staticmethod
    def _page_lang() -> Lang | None:
        page = PAGE_LANG.get()
        return "zh" if page == "zh" else "en" if page == "en" else None

    def emit(self, name: str, payload: dict[str, Any]) -> None:
        if self._emit_fn is None:
            return
        try:
            self._emit_fn(name, payload)
        except Exception:  # a closing window must not break a turn
            log.exception("emitting %s failed", name)

    def progress(self, task: str) -> ProgressFn:
        def step(done: int, total: int) -> None:
            self.emit("task.progress", {"task": task, "done": done, "total": total})

        return step

    def service_failed(self, error: DLError) -> None:
        if isinstance(error, ServiceError):
            self._service_down = True
            message = error_text(error, self.lang())
            self.emit("service.status", {"ok": False, "type": type(error).__name__,
                                         "message": message})

    def service_ok(self, lang: str) -> None:
        if self._service_down:
            self._service_down = False
            self.emit("service.status", {"ok": True, "message": say(lang, "service.back")})

    def avatar_files(self) -> AvatarFiles:
        """The file routes for imported models and backgrounds (made on first use)."""
        with self._files_lock:
            if self._avatar_files is None:
                self._avatar_files = AvatarFiles(self.data_dir)
            return self._avatar_files

    def close(self) -> None:
        thread = self.auto_thread
        if thread is not None:
            thread.join(timeout=60)  # let an automatic backup finish its upload
        with self.lock:  # the app ends: nothing may still be writing the diary after this
            self._drop(wait=True)
