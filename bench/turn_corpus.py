"""A turn index of years of real conversation, for ``search_latency.py --turns``.

The text is real: the sessions of LoCoMo's conv-26 and conv-30
(``--data``, locomo-dev.json), ``tests/data/locomo_mini.json``,
``tests/data/zh_recall.json`` and ``tests/data/zh_conversation.json``. It is
replicated: each diary entry is one source session's turns (a window of
``turns_per_entry``, cycled when the session is shorter), its speakers renamed
from a pool of names in the same script, dated one after another over ten
years (one minute per turn). The entry's title and summary are the session's
summary (or its first turns when it has none), renamed too.

Vectors: every distinct source turn (and summary) is embedded once with the
built-in embedder (cached under ``--cache``); a replicated turn gets its
source's vector plus a little noise (so no two rows are equal). At a size
marked synthetic the vectors are random unit vectors instead.

Queries are the data's own questions (LoCoMo's ``qa`` and the Chinese
fixture's), with the speakers renamed like an entry's.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import dl_app  # noqa: F401  (first: numpy's BLAS on one thread, as in the app)

# isort: split
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from dl_app.core.cjk import has_ideograph
from dl_app.core.dates import date_terms
from dl_app.core.indexing import index_key
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import TurnRecord
from dl_app.core.timefmt import format_date
from locomo_recall import load

ROOT = Path(__file__).resolve().parent.parent
TESTS_DATA = ROOT / "tests" / "data"
DAY = 86_400_000
T0 = 1_451_606_400_000  # 2016-01-01
SPAN = 10 * 365 * DAY
EN_NAMES = ["Caroline", "Melanie", "Jon", "Gina", "Priya", "Mateo", "Yuki", "Olga", "Samir",
            "Leila", "Tom", "Ana", "Kofi", "Ingrid", "Ravi", "Chloe"]
ZH_NAMES = ["林晓", "小叶子", "王芳", "张伟", "李娜", "陈杰", "刘洋", "赵敏", "周婷", "吴磊"]


@dataclass
class Source:
    summary: str
    turns: list[tuple[str, str]]  # (speaker, "Speaker: text" or plain text)
    speakers: list[str]
    zh: bool


def _speaker(text: str) -> str:
    head, sep, _ = text.partition(": ")
    return head if sep and len(head) <= 20 else ""


def sources(data: Path | None) -> tuple[list[Source], list[str]]:
    """The real sessions and questions."""
    files = [p for p in (data, TESTS_DATA / "locomo_mini.json", TESTS_DATA / "zh_recall.json")
             if p is not None and p.exists()]
    out: list[Source] = []
    questions: list[str] = []
    for path in files:
        for conv in load(path):
            for s in conv.sessions:
                turns = [(_speaker(t), t) for _, t in s.turns]
                speakers = list(dict.fromkeys(sp for sp, _ in turns if sp))
                text = "".join(t for _, t in turns)
                out.append(Source(s.summary, turns, speakers, has_ideograph(text)))
            questions += [q.text for q in conv.questions]
    chat = json.loads((TESTS_DATA / "zh_conversation.json").read_text(encoding="utf-8"))
    turns = [(who, pair[role]) for pair in chat["turns"]
             for role, who in (("user", "用户"), ("assistant", "助手"))]
    out.append(Source("", turns, [], True))
    return out, questions


def _rename(text: str, old: Sequence[str], new: Sequence[str]) -> str:
    for a, b in zip(old, new, strict=False):
        text = text.replace(a, b)
    return text


@dataclass
class Corpus:
    entries: list[DiaryEntry]
    turns: list[TurnRecord]
    keys: list[str]
    source_of: np.ndarray  # each turn's source text index (into ``texts``)
    entry_source: np.ndarray  # each entry's summary index (into ``texts``)
    texts: list[str]  # the distinct source texts (turns, then summaries)


def _plain_key(rec: TurnRecord, speaker: str) -> str:
    """``index_key`` of a turn that says no relative date (without scanning it)."""
    dates = " ".join(format_date(rec.ts, 0, lang) for lang in ("zh", "en"))
    return f"{speaker}: {rec.text}\n{dates}"


def build_corpus(srcs: Sequence[Source], n_turns: int, per_entry: int, seed: int) -> Corpus:
    rng = random.Random(seed)
    texts: dict[str, int] = {}
    n_entries = max(1, n_turns // per_entry)
    entries: list[DiaryEntry] = []
    turns: list[TurnRecord] = []
    keys: list[str] = []
    source_of: list[int] = []
    entry_source: list[int] = []
    step = SPAN // n_entries
    dated: dict[str, bool] = {}
    for i in range(n_entries):
        src = rng.choice(srcs)
        pool = ZH_NAMES if src.zh else EN_NAMES
        names = rng.sample(pool, len(src.speakers)) if src.speakers else []
        start = T0 + i * step + rng.randrange(max(1, step // 2))
        offset = rng.randrange(len(src.turns))
        count = per_entry if i < n_entries - 1 else n_turns - per_entry * (n_entries - 1)
        uuid = f"{i:08x}-0000-4000-8000-{seed:012x}"
        user = src.turns[0][0]
        for j in range(count):
            speaker, text = src.turns[(offset + j) % len(src.turns)]
            source_of.append(texts.setdefault(text, len(texts)))
            rec = TurnRecord(id=f"{uuid}-{j}", entry=uuid, seq=j, ts=start + j * 60_000,
                             role="user" if speaker == user else "assistant",
                             text=_rename(text, src.speakers, names))
            turns.append(rec)
            who = _rename(speaker, src.speakers, names)
            if text not in dated:  # scanning a text for dates is slow: once per source text
                dated[text] = bool(date_terms(text, rec.ts, 0))
            keys.append(index_key(rec, who, 0) if dated[text] or i < 50 else _plain_key(rec, who))
            if i < 50:
                assert dated[text] or keys[-1] == _plain_key(rec, who)
        summary = src.summary or "\n".join(t for _, t in src.turns[:4])
        entry_source.append(texts.setdefault(summary, len(texts)))
        summary = _rename(summary, src.speakers, names)
        entries.append(DiaryEntry(uuid=uuid, title=summary.split(".")[0][:40], summary=summary,
                                  start_time=start, end_time=start + count * 60_000))
    return Corpus(entries, turns, keys, np.array(source_of), np.array(entry_source), list(texts))


def questions_renamed(srcs: Sequence[Source], questions: Sequence[str], n: int,
                      seed: int) -> list[str]:
    rng = random.Random(seed)
    speakers = sorted({sp for s in srcs for sp in s.speakers})  # the same order in every run
    out = []
    for _ in range(n):
        q = rng.choice(questions)
        for sp in speakers:
            if sp in q:
                q = q.replace(sp, rng.choice(ZH_NAMES if has_ideograph(sp) else EN_NAMES))
        out.append(q)
    return out


def source_vectors(texts: Sequence[str], embedder: object, cache: Path) -> np.ndarray:
    """Real vectors of the distinct source texts (cached by their hash)."""
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = cache / f"vectors_{getattr(embedder, 'name', 'e')}_{digest}.npy".replace(":", "_")
    if path.exists():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    matrix = np.asarray(embedder.embed_passages(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]
    np.save(path, matrix)
    return matrix


def noisy(base: np.ndarray, index: np.ndarray, rng: np.random.Generator,
          sigma: float = 0.01) -> np.ndarray:
    v = base[index] + rng.standard_normal((len(index), base.shape[1])).astype(np.float32) * sigma
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def random_unit(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))
