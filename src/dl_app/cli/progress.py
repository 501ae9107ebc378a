"""Progress of a long task on stderr (indexing, uploads, downloads)."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``label: done/total`` on stderr, redrawn in place on a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label}: {done}/{total}{end}")
            self.stream.flush()
        elif done >= total or done == 0 or done * 10 // max(total, 1) != self.last:
            self.last = done * 10 // max(total, 1)
            self.stream.write(f"{self.label}: {done}/{total}\n")
