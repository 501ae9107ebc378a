"""Evidence recall of the diary search on a LoCoMo-format file (no LLM involved).

    python bench/locomo_recall.py locomo10.json                      # unit=session
    python bench/locomo_recall.py locomo10.json --unit observation --k 1,3,5,10
    python bench/locomo_recall.py tests/data/locomo_mini.json --unit chunk --json

The real LoCoMo data (``locomo10.json``, snap-research/locomo on GitHub) is not
bundled and cannot be fetched offline; bring your own copy. The file may be the
list of samples or one sample dict (also the ``locomo10_v2`` layout, where the
conversation keys sit at the top level). ``tests/data/locomo_mini.json`` is a
small hand-written file in the same schema: its figures only show the script
works and are not comparable to the BM25 baseline, which was measured on the
real file.

For each conversation a fresh memory is opened in a temp dir (no chat model is
ever called) and filled with diary entries that keep, in ``source_ids``, the
dialogue ids (``D<session>:<turn>``) they were written from:

- ``session``: one entry per session, its ``session_N_summary`` (the joined
  turns when missing); it covers every turn of the session.
- ``chunk``: consecutive windows of ``--chunk-turns`` turns as "Speaker: text".
- ``observation``: one entry per observation fact, covering its dia_id(s).

Every question is then asked with ``Memory.search(question, k=max k)``, the
recall search itself (hybrid; ``--fts-only`` makes the embedder fail, so the
search falls back to full text as the engine does). A retrieved entry covers
its source turns. Per question:

- turn recall@k: |gold turns covered by the top k| / |gold turns|;
- session recall@k: the same over sessions (the ``D<n>`` prefix);
- hit@k: at least one gold turn covered; MRR: 1/rank of the first such entry;
- budget recall: a second search (k=64) whose hits are taken in rank order
  while their memory lines, as recall shows them, total at most
  ``--token-budget`` Qwen tokens.

Coarse units cover many turns, so their turn recall@k flatters them; the
token-budget figures are the fair comparison between units. Figures are means
over the questions of a category; the "1-4" row pools categories 1-4 (the
headline, as in the baseline table); category 5 (adversarial) is separate.
Evidence ids are split on ``;``, ``,`` and spaces; malformed ids and ids of
turns absent from the conversation are dropped and counted, and questions left
without evidence are skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dl_app  # noqa: F401  (first: numpy's BLAS on one thread, as in the app)

# isort: split
import numpy as np

from dl_app.adapters.embed_builtin import BuiltinEmbedder
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.context import memory_lines
from dl_app.core.errors import ServiceError
from dl_app.core.models import DiaryEntry, SearchHit
from dl_app.core.ports import ChatRequest, ChatResult, Embedder
from dl_app.memory import Memory

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
HEADLINE = (1, 2, 3, 4)
BUDGET_DEPTH = 64  # hits fetched for the token-budget figure
EMBED_BATCH = 64
NOT_BUNDLED = (
    "The real LoCoMo file (locomo10.json) is not bundled; figures from any other "
    "file are not comparable to the BM25 baseline."
)
_DIA_ID = re.compile(r"D(\d+):(\d+)")
_DATE = re.compile(
    r"(\d{1,2}):(\d{2})\s*([ap])\.?m\.?\s+on\s+(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})", re.I
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


# -- reading the file -----------------------------------------------------------


@dataclass
class Session:
    n: int
    time_ms: int
    turns: list[tuple[str, str]]  # (dia_id, "Speaker: text")
    summary: str
    facts: list[tuple[str, str, list[str]]]  # (speaker, fact, dia_ids)


@dataclass
class Question:
    text: str
    category: int
    gold: list[str]


@dataclass
class Conversation:
    sample_id: str
    sessions: list[Session]
    questions: list[Question]
    evidence: Counter[str] = field(default_factory=Counter)


def parse_date(text: str) -> int | None:
    """'1:56 pm on 8 May, 2023' as epoch ms (UTC), or None."""
    m = _DATE.search(text or "")
    month = _MONTHS.get(m[5][:3].lower()) if m else None
    if m is None or month is None:
        return None
    hour = int(m[1]) % 12 + (12 if m[3].lower() == "p" else 0)
    try:
        when = datetime(int(m[6]), month, int(m[4]), hour, int(m[2]), tzinfo=UTC)
    except ValueError:
        return None
    return int(when.timestamp() * 1000)


def split_ids(raw: Any) -> list[str]:
    """Evidence tokens: lists, packed "D8:6; D9:17" strings, stray spaces."""
    items = raw if isinstance(raw, list) else [raw]
    return [tok for item in items for tok in re.split(r"[;,\s]+", str(item)) if tok]


def clean_ids(raw: Any, valid: set[str], counts: Counter[str]) -> list[str]:
    """Canonical turn ids present in the conversation; the rest are counted."""
    out: list[str] = []
    for tok in split_ids(raw):
        counts["ids"] += 1
        m = _DIA_ID.fullmatch(tok)
        tid = f"D{int(m[1])}:{int(m[2])}" if m else ""
        if not m or tid not in valid:
            counts["dangling" if m else "malformed"] += 1
        elif tid not in out:
            out.append(tid)
    return out


def _turn_text(turn: dict[str, Any]) -> str:
    text = f"{turn.get('speaker', '?')}: {turn.get('text', '')}".strip()
    caption = turn.get("blip_caption")
    return f"{text} [shares {caption}]" if caption else text


def parse_sample(sample: dict[str, Any], index: int) -> Conversation:
    conv = sample.get("conversation") or sample  # locomo10_v2: keys at the top level
    summaries = sample.get("session_summary") or {}
    observations = sample.get("observation") or {}
    numbers = sorted(
        int(m[1]) for key, value in conv.items()
        if (m := re.fullmatch(r"session_(\d+)", key)) and isinstance(value, list) and value
    )
    valid = {str(t.get("dia_id")) for n in numbers for t in conv[f"session_{n}"]}
    counts: Counter[str] = Counter()
    sessions: list[Session] = []
    last_ms = 0
    for n in numbers:
        turns = [(str(t.get("dia_id")), _turn_text(t)) for t in conv[f"session_{n}"]]
        time_ms = parse_date(str(conv.get(f"session_{n}_date_time", "")))
        counts["bad_dates"] += time_ms is None
        last_ms = time_ms if time_ms is not None else last_ms  # else the previous date
        key = f"session_{n}_summary"
        summary = str(summaries.get(key) or sample.get(key) or "").strip()
        key = f"session_{n}_observation"
        per_speaker = observations.get(key) or sample.get(key) or {}
        facts = [
            (str(speaker), str(item[0]), clean_ids(item[1], valid, Counter()))
            for speaker, items in per_speaker.items()
            for item in items or []
            if isinstance(item, list | tuple) and len(item) >= 2 and item[0]
        ]
        sessions.append(Session(n, last_ms, turns, summary, facts))
    questions = []
    for qa in sample.get("qa") or []:
        try:
            category = int(qa.get("category"))
        except (TypeError, ValueError):
            continue
        gold = clean_ids(qa.get("evidence") or [], valid, counts)
        if category not in CATEGORIES:
            counts["other_category"] += 1
        elif not gold:
            counts["no_evidence"] += 1
        else:
            questions.append(Question(str(qa.get("question", "")), category, gold))
    name = str(sample.get("sample_id") or f"sample-{index + 1}")
    return Conversation(name, sessions, questions, counts)


def load(path: Path) -> list[Conversation]:
    data = json.loads(path.read_text(encoding="utf-8"))
    samples = data if isinstance(data, list) else [data]
    if not samples or not all(isinstance(s, dict) for s in samples):
        raise SystemExit(f"{path}: expected a LoCoMo sample or a list of them")
    return [parse_sample(s, i) for i, s in enumerate(samples)]


def _entry(s: Session, title: str, summary: str, ids: list[str]) -> DiaryEntry:
    return DiaryEntry(title=title, summary=summary, source_ids=ids,
                      start_time=s.time_ms, end_time=s.time_ms)


def entries_for(conv: Conversation, unit: str, chunk_turns: int) -> list[DiaryEntry]:
    """The diary entries of one conversation, each with the turns it covers."""
    out: list[DiaryEntry] = []
    for s in conv.sessions:
        if unit == "session":
            text = s.summary or "\n".join(t for _, t in s.turns)
            out.append(_entry(s, f"Session {s.n}", text, [i for i, _ in s.turns]))
        elif unit == "chunk":
            for j in range(0, len(s.turns), chunk_turns):
                part = s.turns[j : j + chunk_turns]
                title = f"Session {s.n}, part {j // chunk_turns + 1}"
                out.append(_entry(s, title, "\n".join(t for _, t in part), [i for i, _ in part]))
        else:
            out += [_entry(s, f"Session {s.n}, {who}", fact, ids) for who, fact, ids in s.facts]
    return out


# -- the memory -------------------------------------------------------------------


class _NoChat:
    """The chat port; the benchmark never talks."""

    model_name = "none"

    def stream(self, request: ChatRequest) -> Iterator[ChatResult]:
        raise RuntimeError("the recall benchmark never calls the chat model")

    def complete(self, request: ChatRequest) -> ChatResult:
        raise RuntimeError("the recall benchmark never calls the chat model")


class _NoEmbedder:
    """An embedder that always fails: recall falls back to full-text search."""

    name, dimensions = "none", 0

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        raise ServiceError("full-text only run")

    def embed_query(self, text: str) -> list[float]:
        raise ServiceError("full-text only run")


class _LastQuery:
    """The embedder, remembering the last query (the budget search repeats it)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dimensions = inner.name, inner.dimensions
        self._last: tuple[str, list[float]] | None = None

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        if self._last is None or self._last[0] != text:
            self._last = (text, self.inner.embed_query(text))
        return list(self._last[1])


class _LineTokens:
    """Tokens of an entry's memory line as recall shows it (cached per entry)."""

    def __init__(self, mem: Memory, counter: QwenCounter) -> None:
        self.prompts, self.counter = mem._app.prompts, counter
        self.cache: dict[str, int] = {}

    def __call__(self, entry: DiaryEntry) -> int:
        if entry.uuid not in self.cache:
            line = memory_lines([entry], self.prompts, 0)[0]
            self.cache[entry.uuid] = self.counter.count(line)
        return self.cache[entry.uuid]


def _progress(text: str, *, final: bool = False) -> None:
    """A status line on stderr: redrawn on a terminal, final lines only otherwise."""
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="\n" if final else "", file=sys.stderr, flush=True)
    elif final:
        print(text, file=sys.stderr, flush=True)


def ingest(mem: Memory, entries: list[DiaryEntry], hybrid: bool, label: str) -> float:
    """Embed and store the entries, then fold them into the indexes (as the
    app's store does over time); returns the time spent embedding."""
    embedder = mem._engine.embedder if hybrid else None
    embed_s = 0.0
    for i in range(0, len(entries), EMBED_BATCH):
        batch = entries[i : i + EMBED_BATCH]
        if embedder is None:
            mem._engine.diary.upsert(batch)
        else:
            start = time.perf_counter()
            vectors = embedder.embed_passages([f"{e.title}\n{e.summary}" for e in batch])
            embed_s += time.perf_counter() - start
            mem._engine.diary.upsert(batch, vectors, embedder.name)
        _progress(f"{label}: stored {min(i + EMBED_BATCH, len(entries))}/{len(entries)} entries")
    if (optimize := getattr(mem._engine.diary, "optimize", None)) is not None:
        optimize()
    return embed_s


# -- scoring ----------------------------------------------------------------------


def _session(turn_id: str) -> str:
    return turn_id.split(":", 1)[0]


def score(hits: list[SearchHit], deep: list[SearchHit], gold: list[str], ks: list[int],
          line_tokens: _LineTokens, budget: int) -> dict[str, float]:
    """One question's figures: recall@k, hit@k, MRR, recall within the budget."""
    gold_t, gold_s = set(gold), {_session(t) for t in gold}
    covered = [set(h.entry.source_ids) for h in hits]
    row: dict[str, float] = {}
    for k in ks:
        turns = set().union(*covered[:k])
        row[f"turn_recall@{k}"] = len(gold_t & turns) / len(gold_t)
        row[f"session_recall@{k}"] = len(gold_s & {_session(t) for t in turns}) / len(gold_s)
        row[f"any_hit@{k}"] = float(bool(gold_t & turns))
    first = next((r for r, c in enumerate(covered, start=1) if gold_t & c), None)
    row["mrr"] = 1.0 / first if first else 0.0
    used, taken = 0, 0
    turns = set()
    for h in deep:
        cost = line_tokens(h.entry)
        if used + cost > budget:
            break
        used, taken = used + cost, taken + 1
        turns |= set(h.entry.source_ids)
    row["budget_turn_recall"] = len(gold_t & turns) / len(gold_t)
    row["budget_session_recall"] = len(gold_s & {_session(t) for t in turns}) / len(gold_s)
    row["budget_entries"], row["budget_tokens"] = float(taken), float(used)
    return row


def summarize(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Means over the questions (null when there are none)."""
    keys = rows[0].keys() if rows else []
    return {"n": len(rows), **{key: float(np.mean([r[key] for r in rows])) for key in keys}}


# -- the run ------------------------------------------------------------------------


@dataclass
class _Totals:
    rows: dict[int, list[dict[str, float]]] = field(
        default_factory=lambda: {c: [] for c in CATEGORIES})
    latencies: list[float] = field(default_factory=list)
    evidence: Counter[str] = field(default_factory=Counter)
    sessions: int = 0
    turns: int = 0
    entries: int = 0
    ingest_s: float = 0.0
    embed_s: float = 0.0


def evaluate(conv: Conversation, entries: list[DiaryEntry], embedder: Embedder, hybrid: bool,
             ks: list[int], token_budget: int, totals: _Totals, label: str) -> None:
    """One conversation in a fresh memory: store its entries, ask its questions."""
    counter, max_k = QwenCounter(), max(ks)
    with tempfile.TemporaryDirectory(prefix="locomo-", ignore_cleanup_errors=True) as tmp:
        mem = Memory.open(tmp, env={"LANG": "en_US.UTF-8"}, chat=_NoChat(), embedder=embedder)
        try:
            start = time.perf_counter()
            totals.embed_s += ingest(mem, entries, hybrid, label)
            totals.ingest_s += time.perf_counter() - start
            line_tokens = _LineTokens(mem, counter)
            for qi, q in enumerate(conv.questions, start=1):
                start = time.perf_counter()
                hits = mem.search(q.text, k=max_k)
                totals.latencies.append((time.perf_counter() - start) * 1000)
                deep = mem.search(q.text, k=max(BUDGET_DEPTH, max_k))
                row = score(hits, deep, q.gold, ks, line_tokens, token_budget)
                totals.rows[q.category].append(row)
                _progress(f"{label}: question {qi}/{len(conv.questions)}")
        finally:
            if (close := getattr(mem._engine.diary, "close", None)) is not None:
                close()
            mem.close()
    _progress(f"{label}: {len(entries)} entries, {len(conv.questions)} questions", final=True)


def run(path: Path, *, ks: list[int], unit: str, token_budget: int, limit: int | None,
        fts_only: bool, chunk_turns: int = 6) -> dict[str, Any]:
    convs = load(path)[:limit]
    embedder: Embedder = _NoEmbedder() if fts_only else _LastQuery(BuiltinEmbedder())
    t = _Totals()
    for ci, conv in enumerate(convs, start=1):
        t.evidence.update(conv.evidence)
        entries = entries_for(conv, unit, chunk_turns)
        t.entries += len(entries)
        t.sessions += len(conv.sessions)
        t.turns += sum(len(s.turns) for s in conv.sessions)
        label = f"[{ci}/{len(convs)}] {conv.sample_id}"
        evaluate(conv, entries, embedder, not fts_only, ks, token_budget, t, label)
    categories = {str(c): {"name": CATEGORIES[c], **summarize(t.rows[c])} for c in CATEGORIES}
    headline = [r for c in HEADLINE for r in t.rows[c]]
    categories["1-4"] = {"name": "headline", **summarize(headline)}
    lat = {f"p{q}": float(np.percentile(t.latencies, q)) if t.latencies else None
           for q in (50, 95)}
    return {
        "data": str(path), "note": NOT_BUNDLED, "unit": unit,
        "chunk_turns": chunk_turns if unit == "chunk" else None,
        "ks": ks, "token_budget": token_budget,
        "search": "full-text only" if fts_only else f"hybrid (full-text + {embedder.name})",
        "conversations": len(convs), "sessions": t.sessions, "turns": t.turns,
        "entries": t.entries, "questions": sum(len(r) for r in t.rows.values()),
        "evidence": {k: t.evidence[k] for k in
                     ("ids", "malformed", "dangling", "no_evidence", "other_category",
                      "bad_dates")},
        "categories": categories,
        "latency_ms": {**lat, "searches": len(t.latencies)},
        "ingest_s": t.ingest_s, "embed_s": t.embed_s,
    }


def _fmt(x: float | None, spec: str = ".3f") -> str:
    text = "—" if x is None else f"{x:{spec}}"
    return text[1:] if text.startswith("0.") else text


def table(result: dict[str, Any]) -> str:
    ks, max_k = result["ks"], max(result["ks"])
    cols = [(f"turn R@{k}" if i == 0 else f"R@{k}", f"turn_recall@{k}") for i, k in enumerate(ks)]
    cols += [(f"session R@{k}" if i == 0 else f"R@{k}", f"session_recall@{k}")
             for i, k in enumerate(ks)]
    cols += [(f"hit@{max_k}", f"any_hit@{max_k}"), ("MRR", "mrr"),
             ("budget turn R", "budget_turn_recall"), ("session R", "budget_session_recall"),
             ("entries", "budget_entries"), ("tokens", "budget_tokens")]
    lines = [f"LoCoMo evidence recall: unit={result['unit']}, {result['search']}, "
             f"token budget {result['token_budget']}",
             f"data: {result['data']} ({result['conversations']} conversations, "
             f"{result['sessions']} sessions, {result['turns']} turns, "
             f"{result['entries']} diary entries, {result['questions']} questions)",
             f"note: {result['note']}", "",
             "| Category | n | " + " | ".join(c for c, _ in cols) + " |",
             "|" + "---|" * (len(cols) + 2)]
    for key, cat in result["categories"].items():
        name = f"**{key}**" if key == "1-4" else f"{key} {cat['name']}"
        spec = {"budget_entries": ".1f", "budget_tokens": ".0f"}
        cells = [_fmt(cat.get(c), spec.get(c, ".3f")) for _, c in cols]
        lines.append(f"| {name} | {cat['n']} | " + " | ".join(cells) + " |")
    ev, lat = result["evidence"], result["latency_ms"]
    lines += [
        "",
        f"evidence ids: {ev['ids']} read, {ev['malformed']} malformed and {ev['dangling']} "
        f"dangling dropped; {ev['no_evidence']} questions without usable evidence skipped",
        f"ingestion: {result['entries']} entries in {result['ingest_s']:.2f} s "
        f"(embedding {result['embed_s']:.2f} s)",
        f"search (k={max_k}, query embedding included): p50 {_fmt(lat['p50'], '.1f')} ms, "
        f"p95 {_fmt(lat['p95'], '.1f')} ms over {lat['searches']} searches",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="locomo10.json or one sample's JSON")
    parser.add_argument("--k", default="1,3,5,10", help="comma-separated cut-offs")
    parser.add_argument("--unit", choices=["session", "chunk", "observation"], default="session")
    parser.add_argument("--chunk-turns", type=int, default=6)
    parser.add_argument("--token-budget", type=int, default=800)
    parser.add_argument("--limit-conversations", type=int, default=None)
    parser.add_argument("--fts-only", action="store_true", help="full-text search only")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    try:
        ks = sorted({int(k) for k in args.k.split(",") if k.strip()})
    except ValueError:
        parser.error("--k takes comma-separated integers, e.g. 1,3,5,10")
    if not ks or ks[0] < 1 or args.chunk_turns < 1:
        parser.error("--k values and --chunk-turns must be at least 1")
    result = run(args.path, ks=ks, unit=args.unit, token_budget=args.token_budget,
                 limit=args.limit_conversations, fts_only=args.fts_only,
                 chunk_turns=args.chunk_turns)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
