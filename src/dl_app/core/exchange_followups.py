"""The ``followUps`` of a diary entry in export files (see ``exchange``).

An entry may carry ``followUps``: ``[{"what": "考试", "when": "2025-11-28"}, ...]``,
``when`` a local ISO date or ``first/last`` days (``core/followups.py``), and
``askedAt`` (ms) once the companion has checked in about it. The field is
optional (older files and the original app's have none; ``null`` counts as
absent); when present, every item is checked like the other fields and a
problem is reported at its path (``longTermMemory[0].followUps[1].when: ...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import msg
from .exchange_checks import MAX_NAME_CHARS, describe
from .exchange_reader import Reader, derive_id
from .followups import parse_when
from .models import FollowUp

__all__ = ["MAX_FOLLOW_UPS", "follow_ups_out", "read_follow_ups"]

MAX_FOLLOW_UPS = 1_000  # per entry
_KEYS = frozenset({"what", "when", "askedAt"})


def follow_ups_out(items: Sequence[FollowUp]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in items:
        item: dict[str, Any] = {"what": f.what, "when": f.when}
        if f.asked_at is not None:
            item["askedAt"] = f.asked_at
        out.append(item)
    return out


def read_follow_ups(r: Reader, data: dict[str, Any]) -> list[FollowUp]:
    """The follow-ups of every entry of ``data["longTermMemory"]``; problems go to ``r``."""
    entries = data.get("longTermMemory")
    if not isinstance(entries, list):
        return []  # reported by Reader.diary
    out: list[FollowUp] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("followUps") is None:
            continue
        uid = entry.get("uuid") if isinstance(entry.get("uuid"), str) else ""
        path = f"longTermMemory[{i}].followUps"
        for j, item in enumerate(r.array(entry["followUps"], path, MAX_FOLLOW_UPS, "follow_ups")):
            p = f"{path}[{j}]"
            if not isinstance(item, dict):
                r.fail(p, msg("import.not_follow_up", got=describe(item)))
                continue
            r.note_unknown("longTermMemory.followUps", item, _KEYS)
            what = r.text(item, "what", f"{p}.what", limit=MAX_NAME_CHARS, nonempty=True)
            when = r.text(item, "when", f"{p}.when", limit=64, nonempty=True)
            if when and parse_when(when) is None:
                r.fail(f"{p}.when", msg("import.bad_when", got=describe(when)))
            asked = None if item.get("askedAt") is None else r.millis(item, "askedAt",
                                                                       f"{p}.askedAt")
            out.append(FollowUp(id=derive_id(f"followUps/{uid}/{j}"), entry=str(uid), what=what,
                                when=when, asked_at=asked))
    return out
