"""The recalled section: what automatic recall (and recall whose tool results
left the window) puts in the system message, within the section's cap.

Automatic recall quotes what was said: an entry comes with its title and date
line and the archived messages that matched, each with its time and speaker.
The recall keeps only the message ids, on the user's message that asked
(``Message.recall``); the words are read from the turn index when a request is
built, so deleting an entry removes its words from every later request too.

Packing, newest recall first (within one recall, best first): an entry's
title line, then its quotes while they fit (an item that does not fit is
skipped, never cut). An entry without quotes shows its summary (cut to a
share of the cap), or only its title and date when the summary does not fit.
The lines then read in time order: entries oldest first, quotes oldest first,
so a fact that changed reads newest-last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..prompts import PromptSet
from .models import DiaryEntry, Message
from .ports import TokenCounter, TurnRecord
from .timefmt import format_date, format_time
from .tokens import truncate

QuoteLookup = Callable[[Sequence[str]], Mapping[str, TurnRecord]]


@dataclass(frozen=True)
class RecalledItem:
    """One recalled entry and its quoted messages, best first."""

    entry: DiaryEntry
    quotes: tuple[TurnRecord, ...] = ()


def quoted_ids(messages: Sequence[Message]) -> list[str]:
    """Ids of the archived messages automatic recall quoted in ``messages``."""
    return [i for m in messages if m.role != "tool" for r in m.recall for i in r.messages]


def recalled_items(
    recalled: Sequence[DiaryEntry],
    messages: Sequence[Message],
    turns: Mapping[str, TurnRecord] | None,
    hidden: set[str],
) -> list[RecalledItem]:
    """The entries to show, newest recall first: those quoted by automatic
    recall (with the quotes still in the turn index), then the other recalled
    entries not in ``hidden`` (their tool results are in the request). An
    entry whose quoted messages are all gone from the index (it was deleted)
    is left out. ``turns`` None: the index could not be read; summaries only."""
    entries = {e.uuid: e for e in recalled}
    order: list[str] = []
    quotes: dict[str, list[TurnRecord]] = {}
    gone: set[str] = set()
    for m in reversed(messages):
        if m.role == "tool":
            continue
        for r in m.recall:
            if r.uuid not in entries:
                continue
            if r.uuid not in quotes:
                order.append(r.uuid)
                quotes[r.uuid] = []
            got = quotes[r.uuid]
            said = turns or {}
            got += [said[i] for i in r.messages if i in said and said[i] not in got]
            gone |= {r.uuid} if r.messages else set()
    gone -= {u for u, q in quotes.items() if q or turns is None}
    for e in reversed(recalled):
        if e.uuid not in quotes and e.uuid not in hidden and e.uuid not in order:
            order.append(e.uuid)
    return [RecalledItem(entries[u], tuple(quotes.get(u, ()))) for u in order if u not in gone]


class RecalledWriter:
    """Lines of the recalled section, packed into a number of tokens."""

    def __init__(self, prompts: PromptSet, counter: TokenCounter, offset_minutes: int,
                 names: tuple[str, str]) -> None:
        self.p = prompts
        self.counter = counter
        self.offset = offset_minutes
        self.user, self.companion = names

    def _date(self, ms: int) -> str:
        return format_date(ms, self.offset, self.p.lang)

    def head(self, e: DiaryEntry) -> str:
        return self.p.label("evidence_head", title=e.title, start=self._date(e.start_time))

    def title(self, e: DiaryEntry) -> str:
        return self.p.label("recalled_title", title=e.title, start=self._date(e.start_time))

    def summary(self, e: DiaryEntry) -> str:
        return self.p.label("memory_line", title=e.title, start=self._date(e.start_time),
                            end=self._date(e.end_time), summary=e.summary)

    def quote(self, e: DiaryEntry, t: TurnRecord) -> str:
        when = format_time(t.ts, self.offset)
        if (date := self._date(t.ts)) != self._date(e.start_time):
            when = f"{date} {when}"
        speaker = self.user if t.role == "user" else self.companion
        return self.p.label("evidence_line", time=when, text=t.text, speaker=speaker)

    def pack(self, items: Sequence[RecalledItem], room: int, summary_cap: int
             ) -> tuple[list[str], list[RecalledItem]]:
        """The lines (each counted with its newline) within ``room`` tokens, and
        what they show, in the order of ``items``: each with the quotes that fit."""
        count = self.counter.count
        used = 0
        shown: list[tuple[RecalledItem, str]] = []  # item with what stands for it
        for item in items:
            e = item.entry
            if item.quotes:
                head = self.head(e)
                n = count(head) + 1
                if used + n > room:
                    continue
                used += n
                kept: list[TurnRecord] = []
                for t in item.quotes:
                    cost = count(self.quote(e, t)) + 1
                    if used + cost <= room:
                        used += cost
                        kept.append(t)
                if kept:
                    shown.append((RecalledItem(e, tuple(kept)), head))
                    continue
                used -= n  # no quote fits: the entry's title alone
            marker = self.p.label("truncated")
            for line in (truncate(self.counter, self.summary(e), summary_cap, marker),
                         self.title(e)):
                n = count(line) + 1
                if used + n <= room:
                    used += n
                    shown.append((RecalledItem(e), line))
                    break
        lines: list[str] = []
        for item, first in sorted(shown, key=lambda s: (s[0].entry.start_time, s[0].entry.uuid)):
            lines.append(first)
            for t in sorted(item.quotes, key=lambda t: (t.ts, t.seq)):
                lines.append(self.quote(item.entry, t))
        return lines, [s[0] for s in shown]
