"""What full-text search is asked for a question: words every question has
are left out (Chinese question words, English words questions ask with),
names of things and numbers count twice. End to end through a real memory
(LanceDB in a temp dir, the built-in embedder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dl_app.core.query_text import text_query
from dl_app.memory import Memory

T0 = 1_700_000_000_000
DAY = 86_400_000


def test_question_words_are_left_out_and_names_count_twice() -> None:
    assert text_query("医生诊断是什么问题？") == "医生诊断是 问题？"
    assert text_query("为什么没租那套？") == "没租那套？"  # not "为" + "么"
    assert text_query("What kind of bowls did Mel make?") == "What   of bowls did Mel make? Mel"
    # The speakers' names are not repeated (nearly every message has one), nor is
    # a word that only starts a sentence; numbers are.
    assert text_query("Did Caroline's LGBTQ+ group meet in 2023? Maybe.",
                      ["Caroline", "Mel"]) == "Did Caroline's LGBTQ+ group meet in 2023? Maybe. LGBTQ+ 2023"
    assert text_query("我的5公里成绩进步了多少？") == "我的5公里成绩进步了 ？ 5"
    assert text_query("什么？") == "？"


def export() -> dict[str, Any]:
    turns = [  # (entry, role, text)
        ("e-ask", "user", "你周末干什么了？"),
        ("e-ask", "assistant", "为什么不去呢？这是什么？"),
        ("e-ask", "user", "That is kind of you. What type of music is it?"),
        ("e-vet", "user", "年糕上周吐了，带它去看了医生。"),
        ("e-vet", "assistant", "医生诊断是肠胃炎，开了药，也说了饭后能吃的猫粮。"),
        ("e-vet", "user", "Mel made two bowls in pottery class."),
    ]
    start = {"e-ask": T0, "e-vet": T0 + DAY}
    return {
        "selfName": "小叶子", "userName": "阿明", "memoryAboutSelf": "", "memoryAboutUser": "",
        "currentSummary": "", "shortTermMemory": [],
        "longTermMemory": [
            {"uuid": "e-ask", "title": "闲聊", "summary": "周末的闲聊。",
             "startTime": T0, "endTime": T0 + 600_000},
            {"uuid": "e-vet", "title": "看病", "summary": "年糕生病了。",
             "startTime": T0 + DAY, "endTime": T0 + DAY + 600_000},
        ],
        "archivedMemory": [
            {"id": f"m{i}", "belongTo": e, "role": r, "content": t,
             "timestamp": start[e] + i * 60_000}
            for i, (e, r, t) in enumerate(turns)
        ],
    }


@pytest.mark.parametrize("question", ["医生诊断是什么问题？", "What kind of bowls did Mel make?"])
def test_a_question_word_alone_does_not_make_a_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, question: str) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export(), ensure_ascii=False), encoding="utf-8")
    with Memory.open(tmp_path / "data") as mem:
        mem.import_file(path)
        # Only entries whose words match: the chat that merely asks "什么" or says
        # "kind of" is not one of them, the one that holds the answer is.
        hits = mem.search_evidence(question, k=5, budget=400, text_only=True)
        assert [h.entry.uuid for h in hits] == ["e-vet"]
        assert all(ev.turn.entry == "e-vet" for ev in hits[0].evidence)
