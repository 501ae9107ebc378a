"""Do two versions of the turn index (and the diary store) answer alike? Run on a store kept by
``search_latency.py --turns N --keep DIR`` once per version (``--label``):
each run's answers go to ``--results``, compared with every earlier run.

    PYTHONPATH=OLD/src python bench/turn_store_same.py DIR/turns_200000 --label before
    PYTHONPATH=src python bench/turn_store_same.py DIR/turns_200000 --label after

Per question (the bench's, three times, each excluding 3 other turns as recall does): the full-text
matches (depth 50) as their scores, and the ids of those above the lowest
score (LanceDB returns equal scores in no fixed order, and the replicated
corpus has many); the nearest turns (ids and similarities to 1e-5); every
turn of their entries (``of_entries``, ids and text). Then the diary store's:
every entry by ``get_many`` (all fields), ``count``, and the first page of ``list``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from dl_app.adapters.diary_lancedb import LanceDiaryStore
from dl_app.adapters.turns_lancedb import LanceTurnStore

DEPTH = 50


def answers(store: LanceTurnStore, qvec: dict[str, list[float]], model: str) -> list[Any]:
    rng = random.Random(0)
    ids = [r.id for r in store.of_entries(sorted(store.entries())[:500])]
    out = []
    for q, v in [*qvec.items()] * 3:  # each question with three sets of exclusions
        exclude = rng.sample(ids, 3)
        text = store.search_text(q, DEPTH, exclude)
        low = min((s for _, s in text), default=0.0)
        near = store.search_vector(v, model, DEPTH, exclude)
        turns = store.of_entries(sorted({r.entry for r, _ in near[:5]}))
        out.append({
            "text": [round(s, 4) for _, s in text],
            "text above the lowest": sorted(r.id for r, s in text if s > low),
            "vector": [[r.id, round(s, 5)] for r, s in near],
            "of_entries": [[t.id, t.text] for t in turns],
        })
    return out


def diary_answers(store: LanceDiaryStore, uuids: list[str]) -> dict[str, Any]:
    found = store.get_many(uuids)
    return {
        "diary entries": [found[u].model_dump() if u in found else None for u in uuids],
        "diary count": store.count(),
        "diary list": [e.uuid for e in store.list(0, 20)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a kept store (with its kept.json)")
    parser.add_argument("--results", type=Path, default=Path("/tmp/dl_turn_store_same.json"))
    parser.add_argument("--label", required=True)
    parser.add_argument("--model", default="builtin:multilingual-e5-small-q4")
    args = parser.parse_args()
    qvec = json.loads((args.store / "kept.json").read_text())["qvec"]
    turns = LanceTurnStore(args.store)
    now = answers(turns, qvec, args.model)
    # every entry the turn index names, and some that do not exist
    uuids = [*sorted(turns.entries()), "no-such-entry", "another-missing"]
    diary = diary_answers(LanceDiaryStore(args.store), uuids)
    runs = json.loads(args.results.read_text()) if args.results.exists() else {}
    for label, old in runs.items():
        for part in now[0]:
            same = sum(a[part] == b[part] for a, b in zip(now, old["turns"], strict=True))
            print(f"{part:22s} same as '{label}': {same}/{len(now)}")
        for part, value in diary.items():
            print(f"{part:22s} same as '{label}': {value == old['diary'][part]}")
    runs[args.label] = {"turns": now, "diary": diary}
    args.results.write_text(json.dumps(runs))


if __name__ == "__main__":
    main()
