"""What every ``dl-app`` command shares: exit codes, the memory it works on,
how it reports an error."""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..core.errors import DLError
from . import remote
from .progress import cli_lang

if TYPE_CHECKING:
    from ..memory import Memory

EXIT_ERROR = 1


def open_memory(env: Mapping[str, str] | None = None) -> Memory:
    """The memory of the data dir; in the running app answering a command, its own."""
    mem = remote.borrowed()
    if mem is not None:
        return mem
    # Opening builds some 180,000 objects that live as long as the process
    # (LanceDB's import alone builds hundreds of pydantic validators): the cycle
    # collector would walk them again and again for nothing (a tenth of a search).
    # It waits until the memory is open, and leaves what was built out of later walks.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ..memory import Memory

        return Memory.open(env=env)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def err(message: str) -> None:
    print(f"dl-app: {message}", file=sys.stderr)


def fail(error: DLError) -> None:
    from ..messages import error_text

    err(error_text(error, cli_lang()))
