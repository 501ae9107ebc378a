"""What automatic recall puts in the prompt, on LoCoMo and the Chinese fixture (no LLM).

    python bench/locomo_autorecall.py ../shared/data/locomo-dev.json
    python bench/locomo_autorecall.py tests/data/zh_recall.json --no-summaries

Models that call no tools (the small local ones, the demo model) recall only
through automatic recall (``recall_mode: auto``): with each message the app
searches the memory itself and puts what it found into the system message's
recalled section, within that section's cap. This bench measures that section.

Each conversation is imported as ``bench/locomo_evidence.py`` does (a session
is a diary entry with its turns as archived messages), then every question is
sent as the first message of a fresh conversation up to the request the model
would get (``MemoryEngine.plan``, the engine's own path; no model is called).
Per question, pooled over categories 1-4:

- verbatim evidence: share of the gold turns whose words (the stored content)
  stand in the recalled section;
- session recall: share of the gold sessions among the recalled entries;
- section tokens: size of the recalled section (its cap is the budget's
  ``recalled_cap``);
- auto recall ms: the time of the recall step (search and packing), p50/p95.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from dl_app.adapters.clock import FixedClock
from dl_app.core import evidence
from dl_app.core.context import Budget
from dl_app.core.engine import MemoryEngine
from dl_app.core.models import Message
from dl_app.memory import Memory
from locomo_evidence import _raw_samples, _session, build_export
from locomo_recall import HEADLINE, _NoEmbedder, load, parse_date


def recalled_section(engine: MemoryEngine, text: str) -> tuple[str, list[str], int]:
    """The recalled section of the first request for ``text`` in a fresh
    conversation, the uuids of the entries recalled, and its tokens."""
    state = engine.state.load()
    user = Message(role="user", content=text, timestamp=engine.clock.now_ms())
    user, hits = engine.recaller.auto_recall(user, set())  # as ``MemoryEngine.send`` does
    view = state.model_copy(update={"recalled": [*state.recalled, *(h.entry for h in hits)]})
    plan = engine.plan(view, [user])
    section = next((s for s in plan.sections if s.name == "recalled"), None)
    entries = [h.entry.uuid for h in hits]
    return (section.text if section else ""), entries, (section.tokens if section else 0)


def _pct(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def run(path: Path, *, summaries: bool, fts_only: bool, limit: int | None) -> dict[str, Any]:
    rows: list[dict[str, float]] = []
    per_conv: dict[str, dict[str, float]] = {}
    lat: list[float] = []
    cap = 0
    for sample, conv in zip(_raw_samples(path), load(path), strict=True):
        export, sessions = build_export(sample, summaries)
        content = {a["id"]: a["content"] for a in export["archivedMemory"]}
        with tempfile.TemporaryDirectory(prefix="locomo-auto-", ignore_cleanup_errors=True) as tmp:
            file = Path(tmp) / "export.json"
            file.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
            asked = parse_date(str(sample.get("asked_at") or ""))
            clock = FixedClock(asked, 0) if asked else None
            mem = Memory.open(Path(tmp) / "data", env={"LANG": "en_US.UTF-8"}, clock=clock,
                              embedder=_NoEmbedder() if fts_only else None)
            try:
                mem.import_file(file)
                engine = mem._engine
                cap = engine.config.budget.recalled_cap
                conv_rows = []
                for q in conv.questions[:limit]:
                    if q.category not in HEADLINE:
                        continue
                    t0 = time.perf_counter()
                    text, entries, tokens = recalled_section(engine, q.text)
                    lat.append((time.perf_counter() - t0) * 1000)
                    gold = set(q.gold)
                    said = {t for t in gold if t in content and content[t] in text}
                    got_s = {sessions.get(u, -1) for u in entries}
                    gold_s = {_session(t) for t in gold}
                    conv_rows.append({
                        "verbatim": len(said) / len(gold) if gold else 0.0,
                        "session": len(gold_s & got_s) / len(gold_s) if gold_s else 0.0,
                        "tokens": float(tokens), "recalled": float(bool(entries)),
                    })
                rows += conv_rows
                per_conv[conv.sample_id] = _mean(conv_rows)
            finally:
                mem.close()
    return {"data": str(path), "summaries": summaries, "cap": cap,
            "search": "full text only" if fts_only else "hybrid (built-in embedder)",
            "all": _mean(rows), "per_conversation": per_conv,
            "auto_recall_ms": {"p50": _pct(lat, 0.5), "p95": _pct(lat, 0.95)}}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {"n": 0}
    return {"n": len(rows), **{k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}}


def table(result: dict[str, Any]) -> str:
    lines = [f"Automatic recall in the prompt: {result['search']}, recalled cap {result['cap']} "
             f"tokens, summaries {'kept' if result['summaries'] else 'emptied'}",
             f"data: {result['data']}", "",
             "| set | n | verbatim evidence | session recall | section tokens | any recall |",
             "|---|---|---|---|---|---|"]
    for name, f in [("all (1-4)", result["all"]), *result["per_conversation"].items()]:
        if f.get("n"):
            lines.append(f"| {name} | {f['n']:.0f} | {f['verbatim']:.3f} | {f['session']:.3f} "
                         f"| {f['tokens']:.0f} | {f['recalled']:.2f} |")
    ms = result["auto_recall_ms"]
    lines += ["", f"auto recall + plan: p50 {ms['p50']:.1f} ms, p95 {ms['p95']:.1f} ms"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--no-summaries", action="store_true", help="empty every summary")
    parser.add_argument("--fts-only", action="store_true", help="no embedder")
    parser.add_argument("--cap", type=int, default=None,
                        help="try another recalled-section cap (tokens) instead of the budget's")
    parser.add_argument("--neighbours", type=int, default=None,
                        help="what-if: turns before and after a match (evidence.NEIGHBOURS)")
    parser.add_argument("--close-up", type=int, default=None,
                        help="what-if: best matches whose neighbours come first "
                             "(evidence.CLOSE_UP)")
    parser.add_argument("--limit-questions", type=int, default=None, help="smoke runs only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.cap is not None:  # a what-if: every Budget answers this cap
        Budget.recalled_cap = property(lambda _self: args.cap)  # type: ignore[method-assign,assignment]
    if args.neighbours is not None:
        evidence.NEIGHBOURS = args.neighbours
    if args.close_up is not None:
        evidence.CLOSE_UP = args.close_up
    result = run(args.path, summaries=not args.no_summaries, fts_only=args.fts_only,
                 limit=args.limit_questions)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
