"""bench/locomo_recall.py on tests/data/locomo_mini.json, a small hand-written
file in LoCoMo's schema (2 conversations, 7 sessions, 13 questions).

With 3-4 sessions per conversation, session recall@5 is 1.0 whatever the
search does, so each unit is also held to a figure that a search ignoring the
question misses (``test_a_search_ignoring_the_question_fails_the_checks``
shows it does).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dl_app.core.models import SearchHit
from where import ROOT, bench_module

MINI = ROOT / "tests" / "data" / "locomo_mini.json"

# unit -> (entries in the mini file, headline figure a working search reaches)
UNITS = {
    "session": (7, "session_recall@1", 0.7),  # ignoring the question: .36
    "chunk": (14, "mrr", 0.7),  # ignoring the question: .54
    "observation": (25, "turn_recall@3", 0.7),  # ignoring the question: .27
}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_module("locomo_recall")


def _run_json(bench: ModuleType, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert bench.main([str(MINI), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _check_figures(result: dict[str, Any]) -> None:
    assert set(result["categories"]) == {"1", "2", "3", "4", "5", "1-4"}
    for cat in result["categories"].values():
        for key, value in cat.items():
            if "recall" in key or "hit" in key or key == "mrr":
                assert 0.0 <= value <= 1.0, (key, value)
        assert cat["budget_tokens"] <= result["token_budget"]


def test_reads_ids_dates_and_layouts(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.parse_date("1:56 pm on 8 May, 2023") == 1683554160000  # 13:56 UTC
    assert bench.parse_date("12:05 am on 1 Jan, 2024") == 1704067500000
    assert bench.parse_date("soon") is None
    counts = bench.Counter()
    ids = bench.clean_ids(["D8:6; D9:17", "D", "D:11:26", "D30:05", "D2:9"],
                          {"D8:6", "D9:17", "D30:5"}, counts)
    assert ids == ["D8:6", "D9:17", "D30:5"]
    assert counts == {"ids": 6, "malformed": 2, "dangling": 1}

    samples = json.loads(MINI.read_text(encoding="utf-8"))
    convs = bench.load(MINI)
    assert [len(c.sessions) for c in convs] == [4, 3]
    assert sum(len(c.questions) for c in convs) == 13
    packed = convs[0].questions[2]
    assert packed.gold == ["D2:1", "D4:5"]
    assert convs[0].evidence["malformed"] == 1 and convs[1].evidence["dangling"] == 1

    one = tmp_path / "one.json"  # a single sample dict
    one.write_text(json.dumps(samples[1]), encoding="utf-8")
    flat = samples[1]["conversation"] | samples[1]["session_summary"]  # locomo10_v2 layout
    flat |= samples[1]["observation"] | {"qa": samples[1]["qa"], "sample_id": "v2"}
    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps(flat), encoding="utf-8")
    for path in (one, v2):
        [conv] = bench.load(path)
        assert conv.sessions == convs[1].sessions
        assert conv.questions == convs[1].questions


@pytest.mark.parametrize("unit", list(UNITS))
def test_each_unit_finds_the_evidence(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], unit: str
) -> None:
    result = _run_json(bench, capsys, "--unit", unit)
    entries, figure, floor = UNITS[unit]
    assert result["entries"] == entries
    assert result["questions"] == 13
    assert result["evidence"] | {"ids": 0} == {
        "ids": 0, "malformed": 1, "dangling": 1, "no_evidence": 0,
        "other_category": 0, "bad_dates": 0,
    }
    assert result["search"].startswith("hybrid")
    _check_figures(result)
    cats = result["categories"]
    assert (cats["1-4"]["n"], cats["5"]["n"]) == (11, 2)
    assert cats["1-4"]["session_recall@5"] >= 0.8
    assert cats["1-4"][figure] >= floor
    assert result["latency_ms"]["searches"] == 13


def test_full_text_only_still_finds_the_evidence(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main([str(MINI), "--unit", "observation", "--fts-only", "--k", "3,1"]) == 0
    out = capsys.readouterr().out
    assert "full-text only" in out and "not bundled" in out
    [row] = [line for line in out.splitlines() if line.startswith("| **1-4** |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # Category, n, turn R@1, R@3, session R@1, R@3, hit@3, MRR, budget ...
    assert cells[1] == "11"
    assert float(cells[3]) >= UNITS["observation"][2]


def test_a_search_ignoring_the_question_fails_the_checks(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def newest_first(self: Any, query: str, k: int = 5) -> list[SearchHit]:
        return [SearchHit(entry=e, score=0.0) for e in self._engine.diary.list(limit=k)]

    monkeypatch.setattr(bench.Memory, "search", newest_first)
    result = _run_json(bench, capsys, "--unit", "observation", "--fts-only")
    _check_figures(result)
    _, figure, floor = UNITS["observation"]
    assert result["categories"]["1-4"][figure] < floor
    assert result["categories"]["1-4"]["session_recall@5"] < 0.8


def test_the_evidence_bench_imports_and_asks_end_to_end(bench: ModuleType) -> None:
    """bench/locomo_evidence.py on the Chinese fixture, full text only, a few
    questions: the export imports, every figure is a share, BM25 is beside it."""
    module = bench_module("locomo_evidence")
    zh = ROOT / "tests" / "data" / "zh_recall.json"
    result = module.run(zh, budget=800, summaries=False, fts_only=True, limit=8)
    pooled = result["all"]["1-4"]
    assert pooled["n"] == 8
    for key in ("sess5", "ev_b", "ev_cap", "bm25_sess5", "bm25_ev_b", "bm25_ev_cap"):
        assert 0.0 <= pooled[key] <= 1.0
    # A search that found nothing would score 0; these questions are answerable.
    assert pooled["ev_b"] > 0.3 and pooled["sess5"] > 0.5
    assert "zh-1" in module.table(result)


def test_the_automatic_recall_bench_reads_the_prompt_end_to_end(bench: ModuleType) -> None:
    """bench/locomo_autorecall.py on the Chinese fixture, full text only, a few
    questions: the recalled section of the real request quotes the gold turns."""
    bench_module("locomo_evidence")  # which the automatic recall bench imports
    module = bench_module("locomo_autorecall")
    zh = ROOT / "tests" / "data" / "zh_recall.json"
    result = module.run(zh, summaries=False, fts_only=True, limit=8)
    pooled = result["all"]
    assert pooled["n"] == 8 and 0 < pooled["tokens"] <= result["cap"]
    # Summaries alone would score 0: the words themselves reach the prompt.
    assert pooled["verbatim"] > 0.3 and pooled["session"] > 0.5
    assert "zh-1" in module.table(result)


def test_the_rerank_harness_gives_the_evidence_bench_figures(tmp_path: Path) -> None:
    """bench/locomo_rerank.py (the stores' answers cached, the app's search run
    on them) on the Chinese fixture, full text only, a few questions: the same
    figures as bench/locomo_evidence.py, live and again from its cache."""
    evidence = bench_module("locomo_evidence")
    module = bench_module("locomo_rerank")
    zh = ROOT / "tests" / "data" / "zh_recall.json"
    want = evidence.run(zh, budget=300, summaries=True, fts_only=True, limit=12)["all"]
    live = module.run([zh], tmp_path, 300, True, fts_only=True, limit=12)["zh-1"]
    assert list(tmp_path.glob("*/cache.pickle"))
    cached = module.run([zh], tmp_path, 300, True, fts_only=True, limit=12)["zh-1"]
    for cat, figs in want.items():
        assert live[cat]["sess5"] == cached[cat]["sess5"] == figs["sess5"], cat
        assert live[cat]["ev"] == cached[cat]["ev"] == figs["ev_b"], cat
    assert 0 < want["1-4"]["ev_b"] < 1  # a budget small enough to miss some
