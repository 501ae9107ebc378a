"""Built-in embedder speed for a turn index: turns per second and query latency.

    python bench/embed_speed.py                       # as wiring builds it
    python bench/embed_speed.py --repeat 3 --batch-sizes 8,16,32,64
    python bench/embed_speed.py --threads 2           # num_threads=2
    python bench/embed_speed.py --bulk-threads 1      # no extra bulk threads

Turns are LoCoMo's conv-26 and conv-30 from ``--data`` (locomo-dev.json),
each as "Speaker: text" (419 and 369 turns), and a generated Chinese set of
chat turns. Each is embedded the way an indexer does it: one
``embed_passages`` call over the whole conversation (the embedder batches).
The batch-size sweep embeds the first ``--sweep-turns`` turns of conv-26.
Query latency is measured alone and while another thread indexes conv-30
(what a chat during a reindex sees). The machine is shared: the load average
is printed beside every figure; each figure is the median of ``--repeat`` runs.
To measure the code of another checkout, point PYTHONPATH at its ``src``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dl_app.adapters.embed_builtin import BuiltinEmbedder

DATA = Path("/work/shared/data/locomo-dev.json")
QUERIES = [
    "What did Caroline say about the LGBTQ support group?",
    "When did Melanie go camping with her kids?",
    "Jon's dance studio opening",
    "我们上次去哪里吃饭了？",
    "小林上周说的那本书叫什么",
    "5月份体检的结果",
]
ZH_WHO = ["小雨", "阿杰", "妈妈", "小林", "老王", "室友", "同事小陈", "我"]
ZH_WHEN = ["昨天", "上周六", "5月3号", "前天晚上", "今天早上", "去年夏天", "周末", "刚才"]
ZH_WHAT = [
    "去西湖边吃了醋鱼，花了{n}块",
    "在图书馆复习考研，做了{n}道题",
    "带小橘去宠物医院打疫苗，医生说它{n}斤了",
    "跑了{n}公里，膝盖有点疼",
    "看了一场电影，排队排了{n}分钟",
    "和朋友视频聊了{n}个小时，说到以前的事情都笑了",
    "买了一把二手吉他，才{n}块钱，音色还不错",
    "加班到{n}点，回家路上下起了大雨",
]
ZH_TAIL = [
    "",
    "真的好开心！",
    "有点累但是很值得。",
    "你觉得我下次要不要也叫上她？",
    "说实话我有点担心。",
]


def locomo_turns(path: Path, sample_id: str) -> list[str]:
    """The turns of one LoCoMo conversation, in order, as "Speaker: text"."""
    samples = json.loads(path.read_text(encoding="utf-8"))
    conv = next(s["conversation"] for s in samples if s["sample_id"] == sample_id)
    sessions = sorted(
        (k for k in conv if k.startswith("session_") and not k.endswith("date_time")),
        key=lambda k: int(k.split("_")[1]),
    )
    return [f"{t['speaker']}: {t['text']}" for k in sessions for t in conv[k]]


def chinese_turns(n: int, seed: int = 7) -> list[str]:
    """``n`` generated Chinese chat turns of 15-60 characters ("说话人: 内容")."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        what = rng.choice(ZH_WHAT).format(n=rng.randint(2, 300))
        text = f"{rng.choice(ZH_WHEN)}{rng.choice(ZH_WHO)}{what}，{rng.choice(ZH_TAIL)}"
        out.append(f"{rng.choice(['小雨', '数字生命'])}: {text}")
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def embedder(args: argparse.Namespace, batch_size: int | None = None) -> BuiltinEmbedder:
    """A fresh embedder as configured on the command line (model loaded)."""
    kwargs: dict[str, Any] = {"num_threads": args.threads}
    if batch_size is not None:
        kwargs["batch_size"] = batch_size
    if args.bulk_threads is not None:
        kwargs["bulk_threads"] = args.bulk_threads
    emb = BuiltinEmbedder(**kwargs)
    emb.embed_query("warm up")
    return emb


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_runs(label: str, n: int, runs: list[tuple[float, str]]) -> None:
    """Print every run and the median of ``runs`` (seconds, load at start)."""
    secs = [s for s, _ in runs]
    each = ", ".join(f"{n / s:.1f} ({ld})" for s, ld in runs)
    med = statistics.median(secs)
    print(
        f"  {label:<24} {n:4d} turns  median {med:6.2f} s = {n / med:5.1f} turns/s   runs: {each}"
    )


def query_latency(emb: BuiltinEmbedder, rounds: int) -> list[float]:
    out = []
    for i in range(rounds):
        query = QUERIES[i % len(QUERIES)]
        out.append(timed(lambda q=query: emb.embed_query(q)))
    return out


def query_during_indexing(emb: BuiltinEmbedder, turns: list[str]) -> tuple[list[float], float]:
    """Query latencies (one every 0.3 s) while another thread indexes ``turns``."""
    done = threading.Event()
    took: list[float] = []

    def index() -> None:
        took.append(timed(lambda: emb.embed_passages(turns)))
        done.set()

    worker = threading.Thread(target=index)
    worker.start()
    latencies = []
    while not done.wait(0.3):
        latencies.append(timed(lambda: emb.embed_query(QUERIES[len(latencies) % len(QUERIES)])))
    worker.join()
    return latencies, took[0]


def ms(values: list[float]) -> str:
    if not values:
        return "no queries"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    med, top = statistics.median(ordered), ordered[-1]
    n = len(ordered)
    return f"median {med * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms, max {top * 1e3:.0f} ms (n={n})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help="LoCoMo JSON with conv-26 and conv-30"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="num_threads (wiring uses 1)")
    parser.add_argument(
        "--bulk-threads", type=int, default=None, help="bulk_threads (if the embedder has it)"
    )
    parser.add_argument("--batch-sizes", default="1,8,16,32,64")
    parser.add_argument("--sweep-turns", type=int, default=128)
    parser.add_argument("--chinese", type=int, default=200, help="generated Chinese turns")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument(
        "--skip", default="", help="comma list of parts to skip: corpus,sweep,query,contention"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    corpora = {
        "conv-26": locomo_turns(args.data, "conv-26"),
        "conv-30": locomo_turns(args.data, "conv-30"),
        "zh": chinese_turns(args.chinese),
    }
    print(
        f"embed_speed: cpus {os.cpu_count()}, num_threads {args.threads}, "
        f"bulk_threads {args.bulk_threads}, {load()}"
    )
    emb = embedder(args)
    chars = {name: [len(t) for t in turns] for name, turns in corpora.items()}
    for name, lengths in chars.items():
        print(
            f"  {name}: {len(lengths)} turns, "
            f"{statistics.mean(lengths):.0f} chars mean, {max(lengths)} max"
        )

    if "corpus" not in skip:
        print("Indexing whole conversations (embed_passages over all turns, default batch size):")
        runs: dict[str, list[tuple[float, str]]] = {name: [] for name in corpora}
        for _ in range(args.repeat):
            for name, turns in corpora.items():
                ld = load()
                runs[name].append((timed(lambda t=turns: emb.embed_passages(t)), ld))
        for name, turns in corpora.items():
            median_runs(name, len(turns), runs[name])

    if "sweep" not in skip:
        sample = corpora["conv-26"][: args.sweep_turns]
        print(f"Batch size sweep (first {len(sample)} turns of conv-26):")
        sized = {int(b): embedder(args, int(b)) for b in args.batch_sizes.split(",")}
        sweep: dict[int, list[tuple[float, str]]] = {b: [] for b in sized}
        for _ in range(args.repeat):
            for b, e in sized.items():
                ld = load()
                sweep[b].append((timed(lambda e=e: e.embed_passages(sample)), ld))
        for b in sized:
            median_runs(f"batch_size {b}", len(sample), sweep[b])

    if "query" not in skip:
        ld = load()
        print(f"Query latency alone ({ld}): {ms(query_latency(emb, args.queries))}")

    if "contention" not in skip:
        ld = load()
        latencies, took = query_during_indexing(emb, corpora["conv-30"])
        rate = len(corpora["conv-30"]) / took
        print(
            f"Query latency while indexing conv-30 ({ld}): {ms(latencies)}; "
            f"indexing {rate:.1f} turns/s"
        )
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
