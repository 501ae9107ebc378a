"""The library's public surface is exactly what ``dl_app.memory`` states (as httpx's
``tests/library/test_exported_members.py`` does), and ``Memory`` keeps its parts private:
the bridge, the command line, the desktop and outside scripts use only these names."""

from __future__ import annotations

import inspect

import dl_app
import dl_app.core.errors
import dl_app.memory
from dl_app.memory import Memory

EXPORTED = [
    "ContextPreview",
    "DiaryPage",
    "EvidenceHit",
    "ImportReport",
    "IndexStatus",
    "Memory",
    "MemorySnapshot",
    "ModelInfo",
    "SearchHit",
    "TurnResult",
]

# What Memory offers; outside scripts rely on open, close, send, consolidate, search,
# show, export, export_dict, preview_import and import_bytes.
MEMORY_SURFACE = {
    "archived_messages", "attachment", "clear_conversation", "close", "consolidate",
    "context_preview", "conversation", "data_dir", "delete_all", "delete_diary_entry",
    "delete_follow_up", "diary_entry", "diary_page", "embedding_problem", "follow_ups", "health",
    "recent_checkins", "export", "export_bytes", "export_dict",
    "find_diary_entry", "greet", "import_bytes", "import_file", "index_status", "is_idle",
    "lang", "local_backups", "model", "open", "preview_import", "profile",
    "profile_history", "reindex", "restore_local_backup", "restore_profile", "search",
    "search_evidence", "count_tokens", "regenerate", "edit_last",
    "can_regenerate", "text_fit",
    # Filling in missing vectors in rounds, the embedder asked without the caller's
    # lock (service_watch.py): plan under it, embed, write under it again.
    "plan_fill", "embed_fill", "write_fill",
    # The diary and the turn index opened after the memory (``open(stores_later=True)``:
    # the window's chat shows before LanceDB is imported), and why they could not be.
    "open_stores", "open_stores_in_background", "stores_error", "stores_opened",
    "send", "set_profile", "settings", "show", "snapshot", "timeline",
    "update_diary_entry", "utc_offset_minutes", "weather_status",
}


def test_memory_exports_exactly_its_public_names() -> None:
    assert dl_app.memory.__all__ == EXPORTED
    for name in EXPORTED:
        assert getattr(dl_app.memory, name) is not None


def test_the_package_exports_only_its_version() -> None:
    # ``import dl_app`` stays light (the command line imports it first).
    assert dl_app.__all__ == ["__version__"]
    public = {n for n, v in vars(dl_app).items()
              if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == set()


def test_memory_has_exactly_its_public_surface() -> None:
    public = {n for n in dir(Memory) if not n.startswith("_")}
    assert public == MEMORY_SURFACE


def test_memory_hides_the_engine_and_the_app() -> None:
    init = inspect.getsource(Memory.__init__)
    assert "self._engine" in init and "self._app" in init
    assert "self.engine" not in inspect.getsource(Memory)
    assert "self.app" not in inspect.getsource(Memory)


def test_the_errors_keep_their_import_path() -> None:
    for name in ("DLError", "ImportFailed", "NotFound", "PassphraseRequired", "StoreError"):
        assert issubclass(getattr(dl_app.core.errors, name), Exception)
