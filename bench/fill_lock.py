"""How long filling in missing vectors holds the call lock (a reply waits that
long at most), after the embedding service comes back: each round reads under
the lock, asks the embedder without it, and writes under it again.

    .venv/bin/python bench/fill_lock.py [--entries 300] [--delay 0.2]

The embedding service is the scripted OpenAI-compatible server, answering
each request after ``--delay`` seconds (a remote service's latency); the
memory is a real one (LanceDB, SQLite) in a temp dir. Prints the longest and
total time the lock was held, the time the service was asked, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from dl_app.adapters.embed_openai import OpenAIEmbedder
from dl_app.memory import Memory
from dl_app.service_watch import ServiceWatch
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import EmbeddingReply

T0 = 1_700_000_000_000


class TimedLock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held: list[float] = []
        self._since = 0.0

    def acquire(self, timeout: float = -1) -> bool:
        got = self._lock.acquire(timeout=timeout)
        if got:
            self._since = time.perf_counter()
        return got

    def release(self) -> None:
        self.held.append(time.perf_counter() - self._since)
        self._lock.release()


def export(n: int) -> bytes:
    diary = [{"uuid": f"e{i}", "title": f"Day {i}", "summary": f"The user did thing {i}.",
              "startTime": T0 + i * 86_400_000, "endTime": T0 + i * 86_400_000 + 600_000}
             for i in range(n)]
    archive = [{"id": f"m{i}-{j}", "belongTo": f"e{i}", "role": "user" if j % 2 == 0 else
                "assistant", "content": f"Message {j} of day {i}.",
                "timestamp": T0 + i * 86_400_000 + j * 60_000} for i in range(n) for j in range(4)]
    return json.dumps({"selfName": "Leaf", "userName": "Ming", "memoryAboutSelf": "",
                       "memoryAboutUser": "", "currentSummary": "", "longTermMemory": diary,
                       "shortTermMemory": [], "archivedMemory": archive}).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=300)
    ap.add_argument("--delay", type=float, default=0.2)
    args = ap.parse_args()
    with OpenAICompatServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.embedding_error = 503  # down while the memory is imported
        embedder = OpenAIEmbedder(server.base_url, "", "remote-embed", max_retries=0)
        with Memory.open(Path(tmp) / "data", embedder=embedder) as mem:
            mem.import_bytes(export(args.entries))
            server.embedding_error = None
            lock = TimedLock()
            done: list[int] = []
            watch = ServiceWatch(mem, lock, on_filled=done.append)
            # Each embedding request waits ``delay`` (queued ahead of it).
            for _ in range(args.entries * 5):
                server.enqueue_embedding(EmbeddingReply(delay=args.delay))
            before = len(server.embedding_requests)
            start = time.perf_counter()
            watch.first_check()
            wall = time.perf_counter() - start
            watch.stop()
            requests = len(server.embedding_requests) - before
    print(f"vectors filled: {sum(done)} ({args.entries} entries, {args.entries * 4} turns)")
    print(f"embedding requests: {requests} (the probe and the fill) at {args.delay:.2f} s each")
    print(f"lock held: longest {max(lock.held) * 1000:.0f} ms, total {sum(lock.held):.2f} s "
          f"in {len(lock.held)} holds; wall {wall:.2f} s")


if __name__ == "__main__":
    main()
