"""Recall: the diary search, the ``get_memory`` tool and automatic recall.

Results never repeat an entry already recalled in this conversation. Tool
arguments that are not valid JSON get an explanatory tool result the model can
recover from, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from ..prompts import PromptSet
from .context import Budget, memory_lines
from .dates import find_spans
from .errors import ServiceError
from .evidence import EvidenceHit, Matches, pack, rank_entries, turn_scores
from .models import Message, Recall, SearchHit, ToolCall
from .ports import Clock, DiaryStore, Embedder, TokenCounter, TurnIndex, TurnRecord, TurnRef
from .query_text import named_speaker, text_query
from .recalled import RecalledItem, RecalledWriter
from .timefmt import format_date, format_time
from .tokens import truncate

TOOL_NAME = "get_memory"
HEAD_TOKENS = 24  # room kept per entry for its title and date line
LINE_TOKENS = 10  # a quoted message's time and speaker


class Recaller:
    def __init__(
        self,
        *,
        embedder: Embedder | None,
        diary: DiaryStore,
        prompts: PromptSet,
        counter: TokenCounter,
        clock: Clock,
        budget: Budget,
        k: int,
        turns: TurnIndex | None = None,
        names: Callable[[], tuple[str, str]] = lambda: ("", ""),
    ) -> None:
        self.turns = turns
        self.names = names
        self.embedder = embedder
        self.diary = diary
        self.prompts = prompts
        self.counter = counter
        self.clock = clock
        self.budget = budget
        self.k = k
        self._pool: ThreadPoolExecutor | None = None

    def _offset(self) -> int:
        return self.clock.utc_offset_minutes(self.clock.now_ms())

    def tools(self) -> list[dict[str, Any]]:
        p = self.prompts
        return [
            {
                "type": "function",
                "function": {
                    "name": TOOL_NAME,
                    "description": p.label("tool_description"),
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "memoryDescription": {
                                "type": "string",
                                "description": p.label("tool_param_description"),
                            }
                        },
                        "required": ["memoryDescription"],
                        "additionalProperties": False,
                    },
                },
            }
        ]

    def search(self, query: str, k: int = 5, exclude: Sequence[str] = ()) -> list[SearchHit]:
        """The diary search recall uses: hybrid, or full-text alone when no
        embedder is available (or it fails)."""
        vector = None
        model = ""
        if self.embedder is not None and query.strip():
            try:
                vector = self.embedder.embed_query(query)
                model = self.embedder.name
            except ServiceError:
                vector = None
        return self.diary.search(query, vector, model, k=k, exclude=exclude)

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recall")
        return self._pool

    def _nearest(self, query: str, depth: int, exclude: Sequence[str]
                 ) -> list[tuple[TurnRef, float, float]]:
        """The query embedded, then its nearest turns with their similarity and
        crowding (none without an embedder)."""
        vector = self._query_vector(query)
        if vector is None or self.embedder is None or self.turns is None:
            return []
        return self.turns.nearest(vector, self.embedder.name, depth, exclude)

    def _lacking(self, ids: list[str]) -> set[str]:
        """Which of these turns have no vector from the embedder yet."""
        if self.turns is None or self.embedder is None or not ids:
            return set()
        try:
            return self.turns.lacking_vectors(ids, self.embedder.name, self.embedder.dimensions)
        except ServiceError:
            return set()

    def _query_vector(self, query: str) -> list[float] | None:
        if self.embedder is None or not query.strip():
            return None
        try:
            return self.embedder.embed_query(query)
        except ServiceError:
            return None

    def evidence(
        self,
        query: str,
        k: int,
        budget: int,
        exclude: Sequence[str] = (),
        *,
        embed: bool = True,
        line_cost: int = 0,
        text_only: bool = False,
        speaker_first: bool = True,
    ) -> list[EvidenceHit]:
        """The evidence search: the ``k`` best diary entries for ``query``, each
        with its archived messages that match (and their neighbours), packed
        best-first so their tokens total at most ``budget``. Messages whose ids
        are in ``exclude`` are never returned. ``embed``: also search by vector;
        ``text_only``: only entries full text found (in what was said or the diary);
        ``speaker_first``: the matches of a speaker the query names pack first
        (``evidence.pack``)."""
        if k <= 0 or self.diary.count() == 0:
            return []
        depth = max(10 * k, 50)
        turns_ix = self.turns
        # The stores' searches run at once (each waits on LanceDB, not on Python),
        # the slowest (embedding and nearest turns, else the turns' full text) on
        # this thread: its answer then wakes no other thread on the way back.
        pool = self._workers()
        names = self.names()
        words = text_query(query, names)  # the vector and the dates see ``query``
        named = named_speaker(query, names) if speaker_first else None
        entry_f = pool.submit(self.diary.search_text, words, max(4 * k, 20))
        vector = embed and turns_ix is not None
        said = None
        if vector and turns_ix is not None:
            said = pool.submit(turns_ix.search_text, words, depth, exclude)
        nearest = self._nearest(query, depth, exclude) if vector else []
        if said is not None:
            text_hits = said.result()
        else:
            text_hits = turns_ix.search_text(words, depth, exclude) if turns_ix else []
        entry_text = entry_f.result()
        sims = {r.id: s for r, s, _ in nearest}
        turns: dict[str, TurnRef] = {r.id: r for r, _ in text_hits}
        turns.update((r.id, r) for r, _, _ in nearest)
        now = self.clock.now_ms()
        periods = [(sp.start_ms, sp.end_ms) for sp in find_spans(query, now, self._offset())]
        m = Matches(text_hits, sims, turns, entry_text, periods,
                    self._lacking([r.id for r, _ in text_hits if r.id not in sims]) if sims else (),
                    {r.id: c for r, _, c in nearest})
        scores = turn_scores(m)
        text_ids = {r.entry for r, _ in text_hits} | set(entry_text)
        ranked = [(u, s) for u, s in rank_entries(m, scores) if not text_only or u in text_ids][:k]
        quoted = [u for u, _ in ranked]
        fields = pool.submit(self.diary.get_many, quoted)  # in memory (diary_cache.py)
        said_in = turns_ix.of_entries(quoted) if turns_ix and quoted else []
        entries = fields.result()
        chosen = [(entries[u], s, u in text_ids) for u, s in ranked if u in entries]
        context: dict[str, list[TurnRecord]] = {}
        for rec in said_in:
            if rec.id not in exclude and rec.entry in entries:
                context.setdefault(rec.entry, []).append(rec)
        live = {t: s for t, s in scores.items() if t not in exclude}
        count = self.counter.count
        cost = count if not line_cost else (lambda text: count(text) + line_cost)
        # Only beside the vector ranking: full text alone already favours the named
        # speaker (the name is in each of their messages' index key), and there
        # the head start cost LoCoMo evidence (README, "Recall, measured").
        speaker = ("user", "assistant")[named] if named is not None and sims else ""
        hits = pack(chosen, live, context, cost, budget, speaker)
        spoken = {turns[t].entry for t in scores if t in turns}
        for h in hits:
            h.said = h.entry.uuid in spoken
        if line_cost:  # the items carry their own count, as the command line shows it
            for h in hits:
                h.evidence = [replace(ev, tokens=ev.tokens - line_cost) for ev in h.evidence]
        return hits

    def recall(
        self, desc: str, exclude: set[str], call_id: str, turn_id: str
    ) -> tuple[Message, list[SearchHit]]:
        """A ``get_memory`` result: the best entries, each with the messages of its
        conversation that match (quoted with their dates), within the tool cap.
        ``exclude`` holds the ids of messages quoted before in this conversation."""
        p = self.prompts
        cap = self.budget.tool_result_cap
        room = cap - self.counter.count(p.render("tool_result", desc=desc, memories=""))
        heads = HEAD_TOKENS * self.k  # each entry's title and date line
        found = self.evidence(desc, self.k, room - heads, sorted(exclude), line_cost=LINE_TOKENS)
        # An entry recalled before comes back only with messages not quoted yet.
        found = [h for h in found if h.evidence or h.entry.uuid not in exclude]
        if found:
            # Oldest first, each line dated: a fact that changed reads newest-last.
            ordered = sorted(found, key=lambda h: (h.entry.start_time, h.entry.uuid))
            lines = self._lines(ordered, max(24, heads // len(found)))
            body = p.render("tool_result", desc=desc, memories="\n".join(lines))
        else:
            body = p.render("tool_result_empty", desc=desc)
        body = truncate(self.counter, body, cap, p.label("truncated"))
        hits = [SearchHit(entry=h.entry, score=h.score, similarity=h.similarity,
                          text_match=h.text_match) for h in found]
        msg = Message(
            role="tool",
            content=body,
            timestamp=self.clock.now_ms(),
            turn_id=turn_id,
            tool_call_id=call_id,
            recall=[
                Recall(uuid=h.entry.uuid, similarity=round(h.similarity or 0.0, 4), desc=desc,
                       messages=[ev.turn.id for ev in h.evidence])
                for h in found
            ],
        )
        exclude.update(ev.turn.id for h in found for ev in h.evidence)
        exclude.update(h.entry.uuid for h in found)
        return msg, hits

    def _lines(self, found: Sequence[EvidenceHit], entry_cap: int) -> list[str]:
        """An entry with quotes: its title and date, then each message with its
        time and speaker. An entry without: its summary line (cut to ``entry_cap``)."""
        p, off = self.prompts, self._offset()
        user, companion = self.names()
        lines: list[str] = []
        for h in found:
            e = h.entry
            if not h.evidence:
                line = memory_lines([e], p, off)[0]
                lines.append(truncate(self.counter, line, entry_cap, p.label("truncated")))
                continue
            lines.append(p.label("evidence_head", title=e.title,
                                 start=format_date(e.start_time, off, p.lang)))
            day = format_date(e.start_time, off, p.lang)
            for ev in h.evidence:
                when = format_time(ev.turn.ts, off)
                if (date := format_date(ev.turn.ts, off, p.lang)) != day:
                    when = f"{date} {when}"
                lines.append(p.label(
                    "evidence_line", time=when, text=ev.turn.text,
                    speaker=user if ev.turn.role == "user" else companion))
        return lines

    def tool_messages(
        self, calls: Sequence[ToolCall], exclude: set[str], turn_id: str
    ) -> tuple[list[Message], list[SearchHit]]:
        out: list[Message] = []
        found: list[SearchHit] = []
        p = self.prompts
        for call in calls:
            error = None
            desc: object = ""
            if call.name != TOOL_NAME:
                error = p.label("unknown_tool", name=call.name)
            else:
                try:
                    args = json.loads(call.arguments or "{}")
                    desc = args.get("memoryDescription") if isinstance(args, dict) else None
                    if not isinstance(desc, str) or not desc.strip():
                        error = p.label("bad_tool_args", error="memoryDescription missing")
                except ValueError as e:
                    error = p.label("bad_tool_args", error=str(e))
            if error is not None or not isinstance(desc, str):
                out.append(Message(role="tool", content=error or "", timestamp=self.clock.now_ms(),
                                   turn_id=turn_id, tool_call_id=call.id))
                continue
            msg, hits = self.recall(desc, exclude, call.id, turn_id)
            found.extend(hits)
            out.append(msg)
        return out, found

    def auto_recall(self, user: Message, exclude: set[str]) -> tuple[Message, list[SearchHit]]:
        """Recall with each message (no tool call): the best entries that full
        text found, each with its messages that match, packed best first into
        the recalled section's cap (``recalled.py``). ``user`` comes back
        carrying them (``Message.recall``: entry and message ids). As with the
        tool, a message quoted before is never quoted again, and an entry
        recalled before comes back only with messages not quoted yet. When full
        text finds nothing, nothing is embedded."""
        text = user.content
        skip = sorted(exclude)
        said = self.turns is not None and bool(self.turns.search_text(text, 1, skip))
        if not said and not self.diary.search(text, None, "", k=1, exclude=skip):
            return user, []
        p, cap = self.prompts, self.budget.recalled_cap
        room = cap - self.counter.count(p.render("section_recalled", memories=""))
        # Packed for one entry's title line; the section's own packing below
        # counts every line exactly and leaves out the weakest quotes if need be.
        # Without the named speaker's head start: in this smaller room it cost
        # conv-26 words in the prompt (0.719 -> 0.701; README, "Automatic recall").
        found = self.evidence(text, self.k, room - HEAD_TOKENS, skip,
                              line_cost=LINE_TOKENS, text_only=True, speaker_first=False)
        # Entries with quotes, best first; then, after them, the summary of an
        # entry none of whose messages matched (an entry whose messages matched
        # but found no room is left out: its title alone tells little).
        best = sorted(found, key=lambda h: -h.score)
        items = [RecalledItem(h.entry, tuple(ev.turn for ev in sorted(
            h.evidence, key=lambda ev: (not ev.match, -ev.score, ev.turn.ts))))
            for h in best if h.evidence]
        items += [RecalledItem(h.entry) for h in best
                  if not h.said and h.entry.uuid not in exclude]
        writer = RecalledWriter(p, self.counter, self._offset(), self.names())
        _, shown = writer.pack(items, room, max(32, room // 2))  # what the section shows
        if not shown:
            return user, []
        sims = {h.entry.uuid: h.similarity for h in found}
        recall = [Recall(uuid=i.entry.uuid, similarity=round(sims[i.entry.uuid] or 0.0, 4),
                         messages=[t.id for t in i.quotes]) for i in shown]
        exclude.update(i for r in recall for i in [r.uuid, *r.messages])
        kept = {r.uuid for r in recall}
        hits = [SearchHit(entry=h.entry, score=h.score, similarity=h.similarity, text_match=True)
                for h in best if h.entry.uuid in kept]
        return user.model_copy(update={"recall": [*user.recall, *recall]}), hits
