"""What ``dl-app chat`` says on stderr of a service that is down (the embedder,
the image service): once when it is found down, once when it is back, and how
many missing vectors were filled in after (``service_watch.ServiceWatch``
probes and fills in the background)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..core.errors import DLError
from ..core.health import EMBEDDINGS, PICTURES
from ..memory import Memory
from ..service_watch import ServiceWatch
from .progress import say

__all__ = ["Limits"]

# What the terminal says of each service it uses (down, back); the others it does not use.
_SAID = {EMBEDDINGS: ("cli.embed_down", "cli.embed_back"),
         PICTURES: ("cli.pictures_down", "cli.pictures_back")}


class Limits:
    def __init__(self, err: Callable[[str], None]) -> None:
        self._err = err
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def changed(self, service: str, error: DLError | None) -> None:
        if service not in _SAID:  # the terminal uses no other optional service
            return
        down, back = _SAID[service]
        with self._lock:
            if error is not None and service not in self._said:
                self._said.add(service)
                self._err(say(down, problem=error))
            elif error is None and service in self._said:
                self._said.discard(service)
                self._err(say(back))

    def filled(self, n: int) -> None:
        self._err(say("cli.vectors_filled", n=n))

    def said_down(self, mem: Memory) -> bool:
        """Say whether the embedding service is down now; True if it is."""
        if (problem := mem.embedding_problem()) is None:
            return False
        self.changed(EMBEDDINGS, problem)
        return True

    def watch(self, mem: Memory) -> ServiceWatch:
        """Watch in the background: probes with backoff, fills vectors, says changes."""
        return ServiceWatch(mem, on_change=self.changed, on_filled=self.filled).start()
