"""A fast harness for tuning the evidence search's scoring (no LLM).

    python bench/locomo_rerank.py ../shared/data/locomo-dev.json tests/data/zh_recall.json

Each conversation is imported once (as ``bench/locomo_evidence.py`` does) into
a data dir kept under ``--dirs`` and reused afterwards. The stores' answers
(full text, vectors, the query embedding, entries, turns) are cached in a
pickle beside it, so a run asks ``Recaller.evidence`` — the app's own code —
with stores that answer from memory, and only a query the cache lacks goes to
LanceDB. Figures: session R@5 and evidence R at ``--budget`` per category,
pooled over 1-4, per conversation; they equal ``locomo_evidence.py``'s.

``--no-summaries`` empties the summaries, ``--fts-only`` runs without an
embedder (each its own data dir). The scoring is
what the code says; to compare variants, change ``core/evidence.py`` (or set
its constants with ``--set NAME=VALUE``, another core module's with
``--set recall.NAME=VALUE``) and run again.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dl_app.adapters.clock import FixedClock
from dl_app.core import evidence as ev_mod
from dl_app.memory import Memory
from locomo_evidence import _pool, _raw_samples, _recall, _session, build_export
from locomo_recall import CATEGORIES, _NoEmbedder, load, parse_date


class Cached:
    """A store whose answers are remembered by (method, arguments)."""

    def __init__(self, inner: Any, cache: dict[Any, Any], name: str) -> None:
        self._inner, self._cache, self._name = inner, cache, name

    def __getattr__(self, attr: str) -> Any:
        real = getattr(self._inner, attr)
        if not callable(real) or attr in {"close"}:
            return real

        def call(*args: Any, **kw: Any) -> Any:
            key = (self._name, attr, _freeze(args), _freeze(tuple(sorted(kw.items()))))
            if key not in self._cache:
                self._cache[key] = real(*args, **kw)
            return self._cache[key]

        return call


def _freeze(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return tuple(_freeze(v) for v in x)
    if isinstance(x, set | frozenset):
        return frozenset(x)
    return x


def _home(dirs: Path, sample_id: str, summaries: bool, fts_only: bool) -> Path:
    return dirs / f"{sample_id}-{'s' if summaries else 'ns'}{'-fts' if fts_only else ''}"


def open_conv(path: Path, index: int, dirs: Path, summaries: bool, fts_only: bool = False
              ) -> tuple[Memory, Any, dict[str, int]]:
    sample = _raw_samples(path)[index]
    conv = load(path)[index]
    export, sessions = build_export(sample, summaries)
    home = _home(dirs, conv.sample_id, summaries, fts_only)
    asked = parse_date(str(sample.get("asked_at") or ""))
    clock = FixedClock(asked, 0) if asked else None
    fresh = not (home / "data").exists()
    mem = Memory.open(home / "data", env={"LANG": "en_US.UTF-8"}, clock=clock,
                      embedder=_NoEmbedder() if fts_only else None)
    if fresh:
        home.mkdir(parents=True, exist_ok=True)
        file = home / "export.json"
        file.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
        mem.import_file(file)
    return mem, conv, sessions


def run(paths: Sequence[Path], dirs: Path, budget: int, summaries: bool, *,
        fts_only: bool = False, limit: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        for index in range(len(_raw_samples(path))):
            mem, conv, sessions = open_conv(path, index, dirs, summaries, fts_only)
            store = _home(dirs, conv.sample_id, summaries, fts_only) / "cache.pickle"
            cache: dict[Any, Any] = pickle.loads(store.read_bytes()) if store.exists() else {}
            size = len(cache)
            rec = mem._engine.recaller
            real = (rec.turns, rec.diary, rec.embedder)
            rec.turns = Cached(real[0], cache, "turns")
            rec.diary = Cached(real[1], cache, "diary")
            rec.embedder = Cached(real[2], cache, "embedder") if real[2] else None
            rows: dict[int, list[dict[str, float]]] = {c: [] for c in CATEGORIES}
            try:
                for q in conv.questions[:limit]:
                    hits = mem.search_evidence(q.text, k=5, budget=budget)
                    ids = {e.turn.id for h in hits for e in h.evidence}
                    gold_s = {_session(t) for t in q.gold}
                    rows[q.category].append({
                        "sess5": _recall(gold_s, {sessions.get(h.entry.uuid, -1) for h in hits}),
                        "ev": _recall(set(q.gold), ids)})
            finally:
                rec.turns, rec.diary, rec.embedder = real
                mem.close()
            if len(cache) != size:
                store.write_bytes(pickle.dumps(cache))
            out[conv.sample_id] = _pool(rows)
    return out


def table(result: dict[str, Any]) -> str:
    lines = []
    for conv, cats in result.items():
        cells = [f"{c} {f['sess5']:.3f}/{f['ev']:.3f}" for c, f in cats.items() if c != "5"]
        lines.append(f"{conv}: " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--dirs", type=Path, default=Path("/tmp/locomo-rerank"))
    parser.add_argument("--budget", type=int, default=800)
    parser.add_argument("--no-summaries", action="store_true")
    parser.add_argument("--fts-only", action="store_true")
    parser.add_argument("--set", action="append", default=[],
                        help="NAME=VALUE in core/evidence, MODULE.NAME=VALUE elsewhere in core")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    for item in args.set:
        name, value = item.split("=", 1)
        module, _, name = name.rpartition(".")
        mod = importlib.import_module(f"dl_app.core.{module}") if module else ev_mod
        setattr(mod, name, type(getattr(mod, name))(value))
    result = run(args.paths, args.dirs, args.budget, not args.no_summaries,
                 fts_only=args.fts_only)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
