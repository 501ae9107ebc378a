"""Evidence recall: rank diary entries by what was said in them, and pack the
matching verbatim turns into a token budget. Pure: the stores' raw matches in,
ranked hits out.

How the rankings are fused (chosen by ``bench/locomo_recall.py`` on conv-26):

- A turn's score is its full-text (BM25) score relative to the best one, plus
  ``VECTOR_WEIGHT`` times its vector similarity rescaled within the vector
  results, so the vector ranking breaks ties and finds paraphrases without
  pulling strong text matches down. The similarity is first taken less
  ``CROWDING_WEIGHT`` times the turn's crowding (its mean similarity to its
  nearest turns): a message close to everything ("Haha, yeah!") is not
  evidence for every question. A turn without a vector yet (the
  embedding service was down) counts its relative text score as its rescaled
  similarity, so it is not ranked down meanwhile. A turn the query's period
  covers gets ``TIME_BOOST`` more (a boost, never a filter).
- An entry's score is its best turn, plus a share of its next best ones, plus
  the full-text match of its title and summary.
- Evidence is packed best-first across the top entries: matching turns, then
  their neighbours while they fit. When the question names one of the two
  speakers, that speaker's matching turns pack as if they scored
  ``SPEAKER_SHARE`` more (``recall.py`` asks it only beside the vector
  ranking; the entries' ranking is left as it was: a boost there gained
  nothing that held). Near-identical turns count once; an item
  that does not fit is skipped, never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from .cjk import match_key
from .models import DiaryEntry
from .ports import TurnRecord, TurnRef

VECTOR_WEIGHT = 0.5
CROWDING_WEIGHT = 1.0
ENTRY_TEXT_WEIGHT = 0.5
SECOND_TURN_SHARE = 0.3
TIME_BOOST = 0.3
SPEAKER_SHARE = 0.2  # packing's head start for the named speaker's matches
NEIGHBOURS = 2  # turns before and after a match added when they fit
CLOSE_UP = 3  # the best matches whose neighbours come before weaker matches


@dataclass(frozen=True)
class Evidence:
    turn: TurnRecord
    tokens: int
    match: bool  # matched the query itself, not only as a neighbour
    score: float = 0.0  # the turn's fused score (0 for a neighbour)


@dataclass
class EvidenceHit:
    entry: DiaryEntry
    score: float
    text_match: bool
    similarity: float | None = None
    evidence: list[Evidence] = field(default_factory=list)
    said: bool = False  # some of its messages matched (quoted or not)


@dataclass(frozen=True)
class Matches:
    """What the stores found for one query."""

    turn_text: Sequence[tuple[TurnRef, float]]  # BM25, best first
    turn_vector: Mapping[str, float]  # id -> cosine similarity
    turns: Mapping[str, TurnRef]  # every turn named above
    entry_text: Sequence[str]  # entry uuids by full-text rank, best first
    periods: Sequence[tuple[int, int]] = ()  # [start, end) ms the query speaks of
    unembedded: Collection[str] = frozenset()  # matched turns without a vector yet
    crowding: Mapping[str, float] = field(default_factory=dict)  # id -> for turn_vector's


def turn_scores(m: Matches) -> dict[str, float]:
    """Fused score of every matched turn."""
    scores: dict[str, float] = {}
    top = max((s for _, s in m.turn_text), default=0.0)
    for rec, s in m.turn_text:
        scores[rec.id] = s / top if top > 0 else 0.0
    if m.turn_vector:
        sims = {t: s - CROWDING_WEIGHT * m.crowding.get(t, 0.0) for t, s in m.turn_vector.items()}
        hi, lo = max(sims.values()), min(sims.values())
        span = hi - lo
        for tid, sim in sims.items():
            scaled = (sim - lo) / span if span > 1e-9 else 1.0
            scores[tid] = scores.get(tid, 0.0) + VECTOR_WEIGHT * scaled
        for tid in m.unembedded:  # not ranked down for a vector it cannot have yet:
            if tid in scores and tid not in m.turn_vector:  # its text stands in
                scores[tid] += VECTOR_WEIGHT * scores[tid]
    for tid in scores:
        turn = m.turns.get(tid)
        if turn is not None and any(a <= turn.ts < b for a, b in m.periods):
            scores[tid] += TIME_BOOST
    return {t: s for t, s in scores.items() if t in m.turns}


def rank_entries(m: Matches, scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Entry uuids with their scores, best first (newer first on ties)."""
    per: dict[str, list[float]] = {}
    newest: dict[str, int] = {}
    for tid, s in scores.items():
        rec = m.turns[tid]
        per.setdefault(rec.entry, []).append(s)
        newest[rec.entry] = max(newest.get(rec.entry, 0), rec.ts)
    total = {e: _entry_score(sorted(v, reverse=True)) for e, v in per.items()}
    n = len(m.entry_text)
    for rank, uuid in enumerate(m.entry_text):
        total[uuid] = total.get(uuid, 0.0) + ENTRY_TEXT_WEIGHT * (n - rank) / n
    return sorted(total.items(), key=lambda kv: (-kv[1], -newest.get(kv[0], 0), kv[0]))


def _entry_score(best_first: Sequence[float]) -> float:
    return best_first[0] + SECOND_TURN_SHARE * sum(best_first[1:3])


def dedupe_key(text: str) -> str:
    return match_key(text)


def pack(
    ranked: Sequence[tuple[DiaryEntry, float, bool]],
    scores: Mapping[str, float],
    context: Mapping[str, Sequence[TurnRecord]],
    count: Callable[[str], int],
    budget: int,
    speaker: str = "",
) -> list[EvidenceHit]:
    """The hits with their evidence: the matched turns of the given entries,
    best first, then their neighbours, while the sum of tokens stays within
    ``budget``. ``context`` holds each entry's turns in order. ``speaker``:
    the role ("user" or "assistant") whose speaker the query names, whose
    matches come first by ``SPEAKER_SHARE``. Each hit's evidence comes out
    in time order."""
    hits = [EvidenceHit(e, s, t) for e, s, t in ranked]
    by_entry = {h.entry.uuid: h for h in hits}
    positions = {r.id: (e, i) for e, turns in context.items() for i, r in enumerate(turns)}

    def order(tid: str) -> float:
        entry, i = positions[tid]
        return scores[tid] + (SPEAKER_SHARE if speaker and context[entry][i].role == speaker
                              else 0.0)

    matched = sorted(
        (tid for tid in scores if tid in positions and positions[tid][0] in by_entry),
        key=lambda tid: -order(tid),
    )
    chosen: dict[str, Evidence] = {}
    seen: set[str] = set()
    used = 0

    def take(rec: TurnRecord, match: bool) -> None:
        nonlocal used
        key = dedupe_key(rec.text)
        if rec.id in chosen or key in seen:
            return
        tokens = count(rec.text)
        if used + tokens > budget:
            return
        used += tokens
        seen.add(key)
        chosen[rec.id] = Evidence(rec, tokens, match, scores.get(rec.id, 0.0) if match else 0.0)

    def neighbours(tid: str) -> None:
        entry, i = positions[tid]
        turns = context[entry]
        for j in range(1, NEIGHBOURS + 1):
            for k in (i + j, i - j):
                if 0 <= k < len(turns):
                    take(turns[k], False)

    for rank, tid in enumerate(matched):
        entry, i = positions[tid]
        take(context[entry][i], True)
        if rank < CLOSE_UP and tid in chosen:
            neighbours(tid)
    for tid in matched:
        if tid in chosen:
            neighbours(tid)
    for ev in chosen.values():
        by_entry[ev.turn.entry].evidence.append(ev)
    for h in hits:
        h.evidence.sort(key=lambda ev: (ev.turn.ts, ev.turn.seq))
    return hits

