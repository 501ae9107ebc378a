"""Progress of a long task on stderr (indexing, uploads, downloads), and the
language of the terminal's words: the locale's (LC_ALL/LC_MESSAGES/LANG zh* -> zh)."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from ..messages import locale_lang, msg, render

__all__ = ["Progress", "cli_lang", "say"]


def cli_lang() -> str:
    return locale_lang(os.environ)  # not through wiring: the parser asks it, remote.py stays light


def say(key: str, /, **params: Any) -> str:
    """A catalogue message in the terminal's language."""
    return render(msg(key, **params), cli_lang())


class Progress:
    """``label: done/total`` on stderr, redrawn in place on a terminal (``label``
    in the terminal's language: ``say("cli.indexing")``)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label + (": " if label.isascii() else "：")
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label}{done}/{total}{end}")
            self.stream.flush()
        elif done >= total or done == 0 or done * 10 // max(total, 1) != self.last:
            self.last = done * 10 // max(total, 1)
            self.stream.write(f"{self.label}{done}/{total}\n")
