"""Follow-ups the rules cannot date, asked of the model (``core/followups_model.py``):
only the user's lines that speak of the future and gave the rules nothing, only while
check-ins are on; the answer checked (not JSON → ignored and listed, made-up or
past items left out), nothing else lost. The scripted model plays the service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkin_helpers import DAY, T0, Home
from dl_app.adapters.clock import FixedClock
from dl_app.core.followups_model import check_answer, unresolved
from dl_app.core.models import Message
from servers.openai_compat import ChatReply, OpenAICompatServer, RecordedRequest


def is_followups(r: RecordedRequest) -> bool:
    return "YYYY-MM-DD" in r.last_user_text


def asked(server: OpenAICompatServer) -> list[str]:
    return [r.last_user_text for r in server.chat_requests if is_followups(r)]


@pytest.fixture
def home(openai_server: OpenAICompatServer, tmp_path: Path) -> Iterator[Home]:
    h = Home(tmp_path / "data", openai_server, FixedClock(T0, 480, "Asia/Shanghai"))
    yield h
    if h.mem is not None:
        h.mem.close()


def answer(server: OpenAICompatServer, content: str) -> None:
    server.route(is_followups, ChatReply(content=content))


def noted(home: Home) -> list[tuple[str, str]]:
    assert home.mem is not None
    return [(f.what, f.when) for f in home.mem.follow_ups()]


def test_zh_the_model_dates_what_the_rules_cannot(home: Home, openai_server: OpenAICompatServer) -> None:
    answer(openai_server, json.dumps([
        {"what": "去北京出差", "when": "2025-11-27"},
        {"what": "看牙医", "when": "2025-11-28"},  # made up: not the user's words
        {"what": "去北京出差", "when": "2025-11-24"},  # before it was said
        {"what": "北京出差", "when": "2025-12-01/2025-12-31"},  # a month, not a day
        {"what": "出差", "when": "下周"},  # no date
    ], ensure_ascii=False))
    home.open("zh")
    home.say("周五考试", "过两天我要去北京出差", "今天天气不错")
    assert noted(home) == [("考试", "2025-11-28"), ("去北京出差", "2025-11-27")]
    [prompt] = asked(openai_server)
    # Only the line the rules could not date, with when it was said; nothing else.
    assert "过两天我要去北京出差" in prompt and "2025年11月25日 星期二" in prompt
    assert "周五考试" not in prompt and "今天天气不错" not in prompt
    assert "只输出 JSON" in prompt


def test_en_a_fenced_answer_is_read(home: Home, openai_server: OpenAICompatServer) -> None:
    answer(openai_server, '```json\n[{"what": "moving to the new flat", "when": "2025-11-30"}]\n```')
    home.open("en")
    home.say("I'm moving to the new flat at the end of the month", "my sister arrives next Tuesday")
    assert noted(home) == [("my sister arrives", "2025-12-02"),
                           ("moving to the new flat", "2025-11-30")]
    [prompt] = asked(openai_server)
    assert "end of the month" in prompt and "Tuesday, 25 November 2025" in prompt
    assert "Output only JSON" in prompt and "my sister" not in prompt


def test_a_malformed_answer_is_ignored_and_nothing_is_lost(
    home: Home, openai_server: OpenAICompatServer
) -> None:
    answer(openai_server, "Sure! You mentioned a trip to Beijing in two days.")
    mem = home.open("zh")
    home.say("周五考试", "过两天我要去北京出差")
    assert noted(home) == [("考试", "2025-11-28")]  # the rules' one is kept
    entries = mem.diary_page().entries
    assert len(entries) == 1 and entries[0].summary  # the diary entry is written
    rejected = mem.context_preview().rejected
    assert [(r.kind, r.reason) for r in rejected] == [("followups", "malformed")]


def test_off_nothing_is_sent(home: Home, openai_server: OpenAICompatServer) -> None:
    answer(openai_server, '[{"what": "去北京出差", "when": "2025-11-27"}]')
    home.open("zh", checkins_enabled=False)
    home.say("周五考试", "过两天我要去北京出差")
    assert asked(openai_server) == [] and noted(home) == [("考试", "2025-11-28")]


def test_when_the_rules_tell_the_model_is_not_asked(
    home: Home, openai_server: OpenAICompatServer
) -> None:
    answer(openai_server, "[]")
    home.open("en")
    home.say("The job interview is on Friday")
    assert asked(openai_server) == []
    home.say("I will call you later")  # the future, no day the rules know: asked; "[]"
    [prompt] = asked(openai_server)
    assert "call you later" in prompt and "interview" not in prompt
    assert noted(home) == [("The job interview is", "2025-11-28")]


# -- the rules around the model, without it ------------------------------------------------


def said(text: str, at: int = T0) -> Message:
    return Message(role="user", content=text, timestamp=at)


@pytest.mark.parametrize(
    ("text", "asks"),
    [("过两天我要去北京出差", True), ("月底要搬家", True), ("周五考试", False),
     ("今天好累", False), ("I'm moving at the end of the month", True),
     ("we'll see", True), ("I had fun yesterday", False), ("my exam is tomorrow", False)],
)
def test_which_lines_are_asked_about(text: str, asks: bool) -> None:
    assert bool(unresolved([said(text)], 480)) is asks


@pytest.mark.parametrize(
    ("text", "problem"),
    [("not json", "not JSON"), ('{"what": "x"}', "not a list of objects"),
     ("[1, 2]", "not a list of objects"), ("[]", None),
     ('[{"what": 3, "when": "2025-11-27"}, {"when": "2025-11-27"}]', None)],
)
def test_answers_that_are_not_the_list_asked_for(text: str, problem: Any) -> None:
    found, why = check_answer(text, [said("过两天我要去北京出差")], 480)
    assert found == [] and why == problem


def test_items_must_be_ahead_near_short_and_in_the_users_words() -> None:
    line = [said("过两天我要去北京出差")]
    ok, _ = check_answer('[{"what": "去北京出差", "when": "2025-11-27/2025-11-29"}]', line, 480)
    assert [(f.what, f.when) for f in ok] == [("去北京出差", "2025-11-27/2025-11-29")]
    for when in ("2025-11-25", "2025-11-27/2025-12-10", "2027-01-01", "2025-11-31"):
        found, _ = check_answer(json.dumps([{"what": "去北京出差", "when": when}]), line, 480)
        assert found == [], when
    for what in ("明天见", "看牙医", "x"):
        found, _ = check_answer(json.dumps([{"what": what, "when": "2025-11-27"}]), line, 480)
        assert found == [], what
    assert len(check_answer(json.dumps([{"what": "去北京出差", "when": "2025-11-27"}] * 30),
                            [said("过两天我要去北京出差", T0 - DAY)], 480)[0]) == 10


def test_a_long_line_is_cut_to_fit_the_budget(home: Home, openai_server: OpenAICompatServer) -> None:
    answer(openai_server, "[]")
    home.open("zh")
    home.say("过两天我要去北京出差，" + "路上要准备很多东西，" * 300)
    [prompt] = asked(openai_server)
    assert "过两天我要去北京出差" in prompt and "…" in prompt
    assert prompt.count("路上要准备很多东西") < 40  # cut to one short line, not 300 clauses
