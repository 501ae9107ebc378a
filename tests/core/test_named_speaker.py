"""A question that names one of the two speakers is mostly answered by that
speaker's own messages: the evidence packing puts that speaker's matches
first (``core/query_text.named_speaker``, ``core/evidence.pack``). The pure
parts directly; end to end through a real memory (LanceDB in a temp dir, the
built-in embedder)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dl_app.core import evidence
from dl_app.core.errors import ServiceError
from dl_app.core.evidence import pack
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import TurnRecord
from dl_app.core.query_text import named_speaker
from dl_app.memory import Memory

T0 = 1_700_000_000_000
DAY = 86_400_000


def test_the_one_speaker_a_question_names() -> None:
    names = ("Caroline", "Melanie")
    assert named_speaker("What does Melanie do to destress?", names) == 1
    assert named_speaker("What is Caroline's identity?", names) == 0
    assert named_speaker("what did caroline paint?", names) == 0  # any case
    assert named_speaker("Did Caroline and Melanie both paint?", names) is None  # both
    assert named_speaker("Who painted the lake?", names) is None  # neither
    assert named_speaker("What did Carolines paint?", names) is None  # whole words only
    assert named_speaker("林晓上周去哪儿了？", ("林晓", "小叶子")) == 0
    assert named_speaker("小叶子说了什么？", ("林晓", "小叶子")) == 1
    assert named_speaker("What did she say?", ("", "Mel")) is None  # no name, no match


def turn(i: int, role: str, text: str) -> TurnRecord:
    return TurnRecord(id=f"t{i}", entry="e", role=role, ts=T0 + i, seq=i, text=text)


def test_the_named_speakers_match_packs_before_a_slightly_better_one() -> None:
    turns = [turn(0, "user", "u" * 30), turn(1, "assistant", "a" * 30)]
    entry = DiaryEntry(uuid="e", title="t", summary="s", start_time=T0, end_time=T0)
    scores = {"t0": 1.0, "t1": 1.0 - evidence.SPEAKER_SHARE / 2}
    ids = [[ev.turn.id for ev in pack([(entry, 1.0, True)], scores, {"e": turns}, len,
                                       budget=30, speaker=who)[0].evidence]
           for who in ("", "user", "assistant")]
    assert ids == [["t0"], ["t0"], ["t1"]]
    # A far better match of the other speaker still comes first.
    far = {"t0": 1.0, "t1": 1.0 - 2 * evidence.SPEAKER_SHARE}
    got = pack([(entry, 1.0, True)], far, {"e": turns}, len, budget=30, speaker="assistant")
    assert [ev.turn.id for ev in got[0].evidence] == ["t0"]


def export() -> dict[str, Any]:
    turns = [  # (entry, role, text): the user praises the companion's painting
        ("e-art", "user", "Caroline: Melanie, your painting is lovely! I painted one too."),
        ("e-art", "assistant", "Melanie: Thanks! I painted horses in the barn."),
        *[("e-day", r, t) for r, t in [
            ("user", "Caroline: We went hiking by the river on Sunday."),
            ("assistant", "Melanie: The kids baked cookies with me after school."),
            ("user", "Caroline: My new job at the library starts next week."),
            ("assistant", "Melanie: Our dog chewed the garden hose again."),
            ("user", "Caroline: I read a novel about sailors this month."),
            ("assistant", "Melanie: We bought a tent for the camping trip.")]],
    ]
    return {
        "selfName": "Melanie", "userName": "Caroline", "memoryAboutSelf": "",
        "memoryAboutUser": "", "currentSummary": "", "shortTermMemory": [],
        "longTermMemory": [{"uuid": e, "title": f"Session {n}", "summary": "",
                            "startTime": T0 + n * DAY, "endTime": T0 + n * DAY + 600_000}
                           for n, e in enumerate(["e-art", "e-day"])],
        "archivedMemory": [
            {"id": f"m{i}", "belongTo": e, "role": r, "content": t,
             "timestamp": T0 + (e == "e-day") * DAY + i * 60_000}
            for i, (e, r, t) in enumerate(turns)],
    }


class NoEmbedder:
    """The embedding service down: the search is full text alone."""

    name, dimensions = "none", 0

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        raise ServiceError("down")

    def embed_query(self, text: str) -> list[float]:
        raise ServiceError("down")


@pytest.mark.parametrize(("share", "vectors", "quoted"), [
    (0.0, True, ["m0"]),  # without the head start the user's message wins the room
    (evidence.SPEAKER_SHARE, True, ["m1"]),
    # Full text alone already favours the speaker whose name is in the key of
    # each of their messages; there the head start cost recall: not given.
    (evidence.SPEAKER_SHARE, False, ["m0"]),
])
def test_a_search_naming_a_speaker_quotes_what_that_speaker_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float, vectors: bool,
        quoted: list[str]) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setattr(evidence, "SPEAKER_SHARE", share)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export()), encoding="utf-8")
    with Memory.open(tmp_path / "data", embedder=None if vectors else NoEmbedder()) as mem:
        mem.import_file(path)
        said = export()["archivedMemory"][:2]
        room = max(mem.count_tokens(m["content"]) for m in said)  # one message fits
        hits = mem.search_evidence("What has Melanie painted?", k=5, budget=room)
        assert [ev.turn.id for h in hits for ev in h.evidence] == quoted
