"""The user's name said in chat: what counts as an introduction (zh and en)."""

from __future__ import annotations

import pytest

from dl_app.core.introductions import introduced_name, learned_name

PLACEHOLDERS = ("旅行者", "Traveler")


@pytest.mark.parametrize(("text", "name"), [
    ("你好！我叫小林。今天刚下班，有点累。", "小林"),
    ("我叫小林", "小林"),
    ("嗨我叫阿杰", "阿杰"),
    ("叫我阿明就好", "阿明"),
    ("你可以叫我小美哦", "小美"),
    ("我的名字是王小明。", "王小明"),
    ("我的名字叫Lily。", "Lily"),
    ("Hi! I'm Maya. I just got home from work.", "Maya"),
    ("hello, i am sam and I like tea", "Sam"),
    ("My name is maya", "Maya"),
    ("my name's Tom, nice to meet you", "Tom"),
    ("You can call me Jo.", "Jo"),
])
def test_a_plain_introduction_gives_the_name(text: str, name: str) -> None:
    assert introduced_name(text) == name


@pytest.mark.parametrize("text", [
    "我叫了外卖", "今天我叫外卖了", "我叫什么？", "你还记得我叫什么名字吗？", "我叫他过来",
    "我叫醒了他", "我叫车去机场", "叫我起床", "我叫小林今天刚下班", "他叫小林。",
    "I'm tired.", "Hi, I'm Chinese.", "Hey, I'm back!", "I'm Maya.", "call me later",
    "Call me tomorrow!", "Her name is Anna.", "What is my name?", "",
])
def test_what_may_mean_something_else_is_not_a_name(text: str) -> None:
    assert introduced_name(text) is None


def test_only_a_placeholder_name_is_replaced() -> None:
    said = "你好！我叫小林。"
    assert learned_name(said, "旅行者", "小叶子", PLACEHOLDERS) == "小林"
    assert learned_name(said, "Traveler", "Leaf", PLACEHOLDERS) == "小林"  # made in English
    assert learned_name(said, "阿明", "小叶子", PLACEHOLDERS) is None  # chosen at setup
    assert learned_name("我叫小叶子", "旅行者", "小叶子", PLACEHOLDERS) is None  # its own
    assert learned_name("我叫旅行者。", "旅行者", "小叶子", PLACEHOLDERS) is None  # no change
    assert learned_name("今天好累", "旅行者", "小叶子", PLACEHOLDERS) is None
