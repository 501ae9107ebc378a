"""Check-ins about follow-ups: off by default, once after their time, never in
quiet hours, at most N a day, never two in a row, never again after a restart;
the greeting after an absence becomes the check-in (one message, not two)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checkin_helpers import DAY, HOUR, SAT_9, T0, Home, checkins, is_checkin
from dl_app.adapters.clock import FixedClock
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.tokens import request_tokens
from servers.openai_compat import ChatReply, OpenAICompatServer


@pytest.fixture
def home(openai_server: OpenAICompatServer, tmp_path: Path) -> Iterator[Home]:
    h = Home(tmp_path / "data", openai_server, FixedClock(T0, 480, "Asia/Shanghai"))
    yield h
    if h.mem is not None:
        h.mem.close()


def test_fires_once_after_its_time_not_before_and_not_after_a_restart(home: Home) -> None:
    mem = home.open()
    home.say("周五我要考试，好紧张")
    home.clock.now = T0 + 3 * DAY + 11 * HOUR  # Friday 20:00: the exam day is not over
    assert mem.greet(checkin_only=True) is None
    home.clock.now = SAT_9
    message = mem.greet(checkin_only=True)
    assert message is not None and message.content == "考试怎么样？"
    prompt = checkins(home.server)[-1].last_user_text
    assert "我要考试" in prompt and "2025-11-28" in prompt and "愉快的聊天" in prompt
    assert [m.content for m in mem.conversation().messages] == ["考试怎么样？"]
    (follow,) = mem.follow_ups()
    assert follow.asked_at == SAT_9 and follow.message_id == message.id
    # The inspector says where it came from.
    (shown,) = mem.context_preview().checkins
    assert shown[0].id == follow.id and shown[1] is not None and shown[1].title == "愉快的聊天"
    assert mem.greet(checkin_only=True) is None
    mem = home.open()  # a restart
    home.clock.advance(HOUR)
    assert mem.greet(checkin_only=True) is None
    assert len(checkins(home.server)) == 1
    assert [m.content for m in mem.conversation().messages] == ["考试怎么样？"]


def test_quiet_hours_hold(home: Home) -> None:
    mem = home.open(quiet_start="22:00", quiet_end="09:30")
    home.say("周五考试")
    home.clock.now = SAT_9  # 09:00, still quiet
    assert mem.greet(checkin_only=True) is None
    home.clock.advance(HOUR)
    assert mem.greet(checkin_only=True) is not None


def test_daily_cap_and_never_two_in_a_row(home: Home) -> None:
    mem = home.open(checkins_per_day=2)
    home.say("周五考试", "周五面试", "周五体检")
    home.clock.now = SAT_9
    first = mem.greet(checkin_only=True)
    assert first is not None
    assert mem.greet(checkin_only=True) is None  # no reply yet
    mem.send("还行吧")
    assert mem.greet(checkin_only=True) is not None
    mem.send("嗯")
    assert mem.greet(checkin_only=True) is None  # two today
    assert len(checkins(home.server)) == 2
    home.clock.advance(DAY)
    assert mem.greet(checkin_only=True) is not None  # the third, a day later
    assert [f.asked_at is not None for f in mem.follow_ups()] == [True, True, True]


def test_a_stale_follow_up_is_never_asked(home: Home) -> None:
    mem = home.open()
    home.say("周五考试")
    home.clock.now = SAT_9 + 3 * DAY
    assert mem.greet(checkin_only=True) is None
    assert checkins(home.server) == []


def test_off_sends_nothing_and_keeps_the_plain_greeting(home: Home) -> None:
    mem = home.open(checkins_enabled=False)
    home.say("周五考试")
    assert [f.what for f in mem.follow_ups()] == ["考试"]  # noted anyway: shown in the diary
    home.clock.now = SAT_9
    assert mem.greet(checkin_only=True) is None
    greeting = mem.greet()  # away for days: the usual greeting
    assert greeting is not None and greeting.content != "考试怎么样？"
    assert checkins(home.server) == []
    mem = home.open(checkins_enabled=True)  # turned on later: it may still ask
    assert mem.greet(checkin_only=True) is None  # but not right after the greeting
    mem.send("我回来啦")
    assert mem.greet(checkin_only=True) is not None


def test_after_an_absence_the_check_in_is_the_greeting(home: Home) -> None:
    mem = home.open()
    home.say("周五考试")
    home.clock.now = SAT_9
    message = mem.greet()
    assert message is not None and message.content == "考试怎么样？"
    assert [m.content for m in mem.conversation().messages] == ["考试怎么样？"]
    assert mem.greet() is None


def test_a_rejected_check_in_is_not_shown_nor_retried(home: Home) -> None:
    home.server.enqueue(ChatReply(content="### 这件事来自你的日记\n考试"), match=is_checkin)
    mem = home.open()
    home.say("周五考试")
    home.clock.now = SAT_9
    assert mem.greet(checkin_only=True) is None
    assert mem.conversation().messages == []
    (rejected,) = mem.context_preview().rejected
    assert (rejected.kind, rejected.reason) == ("checkin", "heading")
    assert mem.greet(checkin_only=True) is None
    assert len(checkins(home.server)) == 1


def test_english_follow_up_and_a_small_budget(home: Home) -> None:
    mem = home.open("en")
    mem.set_profile(user_name="Ming", memory_about_user="likes hiking. " * 400)
    home.say("My sister arrives next Tuesday, I will cook for her.")
    (follow,) = mem.follow_ups()
    assert (follow.what, follow.when) == ("My sister arrives", "2025-12-02")
    home.open("en", checkins_enabled=True)
    home.clock.now = T0 + 8 * DAY  # Wednesday 3 December
    assert home.mem is not None
    message = home.mem.greet(checkin_only=True)
    assert message is not None and message.content == "How did it go?"
    body = checkins(home.server)[-1].body
    assert "My sister arrives" in body["messages"][0]["content"]
    assert request_tokens(QwenCounter(), body["messages"]) + body["max_tokens"] <= 3000


def test_the_bridge_shows_the_check_in_and_the_diary_its_follow_ups(
    openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    """Through the bridge (on the system clock): a follow-up noted two days ago,
    due since midnight; quiet hours off so the hour of the run does not matter."""
    import time

    from dl_app.bridge import Api

    root = tmp_path / "bridge"
    home = Home(root, openai_server, FixedClock(int(time.time() * 1000) - 2 * DAY, 0))
    mem = home.open(quiet_start="00:00", quiet_end="00:00")
    home.say("明天我要考试")
    mem.close()
    home.mem = None
    env = {"DL_LLM_BASE_URL": openai_server.base_url, "DL_LLM_MODEL": "qwen-test"}
    events: list[tuple[str, Any]] = []
    api = Api(root, env=env, emit=lambda name, payload: events.append((name, payload)))
    try:
        (entry,) = api.diary_list()["entries"]
        detail = api.diary_get({"uuid": entry["uuid"]})
        (follow,) = detail["follow_ups"]
        assert (follow["what"], follow["asked_at"]) == ("我要考试", None)
        res = api.chat_greeting({"checkin_only": True})
        assert res["ok"] and res["greeting"] == "考试怎么样？"
        assert res["checkin"]["id"] == follow["id"]
        assert res["checkin"]["title"] == entry["title"]
        assert ("chat.checkin", {"text": "考试怎么样？", "message_id": res["message_id"],
                                 "title": entry["title"]}) in events
        assert api.chat_greeting({"checkin_only": True})["greeting"] is None
        # a reloaded history still names the diary entry the check-in came from
        *_, last = api.chat_history()["messages"]
        assert (last["id"], last["content"]) == (res["message_id"], "考试怎么样？")
        assert last["recalled"] == [{"uuid": entry["uuid"], "title": entry["title"]}]
        (shown,) = api.context_preview()["checkins"]
        assert shown["message_id"] == res["message_id"]
        assert api.diary_follow_up_delete({"id": follow["id"]}) == {"ok": True}
        assert api.diary_get({"uuid": entry["uuid"]})["follow_ups"] == []
        gone = api.diary_follow_up_delete({"id": follow["id"]})
        assert not gone["ok"] and gone["error"]["type"] == "NotFound"
    finally:
        api.close()
