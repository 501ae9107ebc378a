"""What the demo model adapter adds for a tiny model's chat replies (pure parts;
the model itself runs in tests/adapters/test_demo_model.py and bench/demo_converse.py)."""

from __future__ import annotations

from dl_app.adapters.tiny_chat import Probe, language_of, with_examples


def test_examples_follow_the_system_message_in_the_users_language() -> None:
    talk = [{"role": "system", "content": "你是小叶子。"},
            {"role": "user", "content": "你好！我叫小林。今天刚下班，有点累。"}]
    out = with_examples(talk)
    assert out[0] == talk[0] and out[-1] == talk[-1]
    shots = out[1:-1]
    assert [m["role"] for m in shots] == ["user", "assistant", "user", "assistant"]
    assert all(language_of(m["content"]) == "zh" for m in shots)
    english = with_examples([{"role": "system", "content": "你是小叶子。"},
                             {"role": "user", "content": "Hi! I'm Maya, a bit tired today."}])
    assert all(language_of(m["content"]) == "en" for m in english[1:-1])
    assert talk == [{"role": "system", "content": "你是小叶子。"},
                    {"role": "user", "content": "你好！我叫小林。今天刚下班，有点累。"}]


def test_a_reply_that_starts_by_echoing_the_user_or_an_earlier_reply_is_caught() -> None:
    """The demo model's own failures (bench/demo_converse.py before this change):
    turn 1 echoed the user, later turns repeated that echo."""
    first = Probe([{"role": "user", "content": "你好！我叫小林。今天刚下班，有点累。"}])
    assert first.copies("你好！我叫小林，今天刚下班")
    assert not first.copies("你好，小林！辛苦了，今天")
    later = Probe([
        {"role": "user", "content": "你好！我叫小林。今天刚下班，有点累。"},
        {"role": "assistant", "content": "辛苦啦，小林！回家好好休息一下吧。"},
        {"role": "user", "content": "你平时喜欢做什么？"},
    ])
    assert later.copies("辛苦啦，小林！回家好好")
    assert not later.copies("我喜欢看书和听音乐，你呢")
    # a piece from the middle of the user's message (seen: "咪咪今天打翻了水杯。")
    cat = Probe([{"role": "user", "content": "我家的猫叫咪咪，它今天打翻了水杯。"}])
    assert cat.copies("咪咪今天打翻了水杯。你最近")
    assert not cat.copies("哎呀，没伤着吧？咪咪平时")
    en = Probe([{"role": "user", "content": "Hi! I'm Maya. I just got home from work."}])
    assert en.copies("Hi! I'm Maya, I just got")
    assert not en.copies("Welcome home, Maya! How")


def test_a_reply_is_judged_only_once_long_enough() -> None:
    probe = Probe([{"role": "user", "content": "你好"}])
    assert not probe.ready("你好！")
    assert probe.ready("你好！今天过得怎么样呀")
    assert not probe.copies("好")  # too short to call a copy
