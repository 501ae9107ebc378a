"""Import speed: a file of long diary entries, with the built-in embedder and
with an embedding service (the scripted server), showing the two phases:
replacing memory (validation, backup, write) and indexing (embedding).

    .venv/bin/python bench/import_speed.py [--entries 300] [--chars 3000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dl_app.memory import Memory
from servers.openai_compat import OpenAICompatServer

WORDS_ZH = list("今天我们一起去了公园看到很多花天气很好心情愉快朋友吃饭聊天工作学习电影")
WORDS_EN = "today we went to the park and saw many flowers with friends after work".split()  # noqa: SIM905


def make_file(path: Path, entries: int, chars: int, rng: random.Random) -> None:
    diary = []
    for i in range(entries):
        words = WORDS_ZH if i % 2 else WORDS_EN
        sep = "" if i % 2 else " "
        text = ""
        while len(text) < chars:
            text += sep.join(rng.choice(words) for _ in range(20)) + ("。" if i % 2 else ". ")
        diary.append(
            {
                "uuid": f"{i:08d}-0000-4000-8000-000000000000",
                "title": f"Entry {i}",
                "summary": text[:chars],
                "startTime": 1_700_000_000_000 + i * 86_400_000,
                "endTime": 1_700_000_000_000 + i * 86_400_000 + 3_600_000,
            }
        )
    data = {
        "selfName": "A",
        "userName": "B",
        "memoryAboutSelf": "x",
        "memoryAboutUser": "",
        "longTermMemory": diary,
        "shortTermMemory": [],
        "archivedMemory": [],
        "currentSummary": "",
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def run(label: str, env: dict[str, str], raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        mem = Memory.open(Path(tmp), env=env)
        marks: list[float] = []
        t0 = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == 0:
                marks.append(time.perf_counter())

        report = mem.import_bytes(raw, progress)
        end = time.perf_counter()
        replaced = (marks[0] if marks else end) - t0
        indexed, total, _model = mem.index_status()
        mem.close()
    print(
        f"{label}: {report.entries} entries; memory replaced in {replaced:.2f} s, "
        f"indexed {indexed}/{total} in {end - t0 - replaced:.1f} s more"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=300)
    ap.add_argument("--chars", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.json"
        make_file(path, args.entries, args.chars, random.Random(1))
        raw = path.read_bytes()
    print(f"file: {len(raw) / 1e6:.1f} MB, {args.entries} entries of {args.chars} characters")
    run("built-in embedder (1 thread)", {"LANG": "en_US.UTF-8"}, raw)
    with OpenAICompatServer(embed_dimensions=256) as server:
        env = {
            "LANG": "en_US.UTF-8",
            "DL_EMBED_BASE_URL": server.base_url,
            "DL_EMBED_MODEL": "test-embed",
        }
        run("embedding service (scripted, loopback)", env, raw)
        sizes = [len(r.body["input"]) for r in server.embedding_requests]
        print(f"  embedding requests: {len(sizes)}, inputs per request: max {max(sizes)}")


if __name__ == "__main__":
    main()
