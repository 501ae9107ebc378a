"""Housekeeping outputs are checked before they are stored: the committed
corpus (tests/data/housekeeping_outputs.json) of junk and good outputs, and
the checks' link to the prompt files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.context import Budget
from dl_app.core.housekeeping import TITLE_TOKENS
from dl_app.core.output_check import check, forbidden, tidy
from dl_app.prompts import PromptSet, load
from where import DATA

CORPUS = json.loads(
    (DATA / "housekeeping_outputs.json").read_text(encoding="utf-8")
)
COUNTER = QwenCounter()


def cap_of(kind: str, budget: Budget) -> int:
    return {
        "summary": budget.summary_cap, "diary": budget.diary_cap, "title": TITLE_TOKENS,
        "self": budget.self_cap, "user": budget.user_cap,
    }[kind]


def verdict(item: dict[str, Any]) -> tuple[str, str] | None:
    total = item.get("budget", 3000)
    budget = Budget(total=total, reply=min(400, total // 3))
    text = tidy(item["kind"], item["text"])
    return check(text, forbidden(load(item["lang"])), COUNTER, cap_of(item["kind"], budget),
                 item.get("source", ()))


def label(item: dict[str, Any]) -> str:
    return f"{item['lang']}-{item['kind']}: {item['text'][:30]!r}"


def test_the_corpus_is_big_enough_and_has_the_issue_examples() -> None:
    junk, good = CORPUS["junk"], CORPUS["good"]
    assert len(junk) >= 30 and len(good) >= 30
    texts = "\n".join(i["text"] for i in junk)
    assert "### 新旧矛盾时以新的为准" in texts and "### 本次对话的日记" in texts
    for items in (junk, good):
        assert {i["kind"] for i in items} == {"summary", "diary", "title", "self", "user"}
        assert {i["lang"] for i in items} == {"zh", "en"}


@pytest.mark.parametrize("item", CORPUS["junk"], ids=label)
def test_every_junk_output_is_rejected(item: dict[str, Any]) -> None:
    assert verdict(item) is not None, item["why"]


@pytest.mark.parametrize("item", CORPUS["good"], ids=label)
def test_no_good_output_is_rejected(item: dict[str, Any]) -> None:
    assert verdict(item) is None


def test_each_reason_is_seen_in_the_corpus() -> None:
    reasons = {r[0] for r in (verdict(i) for i in CORPUS["junk"]) if r}
    assert reasons == {
        "empty", "unfinished", "heading", "echo", "transcript", "repetition", "over_cap",
        "refusal", "copy",
    }


def edited(prompts: PromptSet, name: str, text: str) -> PromptSet:
    templates = {n: prompts.source(n) for n in prompts.names()}
    templates[name] = text
    labels = {n: prompts.label_source(n) for n in prompts.label_names()}
    return PromptSet(prompts.lang, templates, labels)


def test_what_counts_as_an_echo_follows_the_prompt_files() -> None:
    """Nothing is hard-coded: a changed instruction or heading changes the check."""
    zh = load("zh")
    out = "### 记得把好玩的事情都写下来\n用户今天去了动物园。"
    assert check("记得把好玩的事情都写下来。用户今天去了动物园。", forbidden(zh)) is None
    assert check("用户今天去了动物园。\n重要的往事", forbidden(zh)) is None
    changed = edited(
        zh, "diary", zh.source("diary") + "\n记得把好玩的事情都写下来。\n\n# 重要的往事\n$summary"
    )
    assert check("记得把好玩的事情都写下来。用户今天去了动物园。", forbidden(changed)) == (
        "echo", "记得把好玩的事情都写下来"
    )
    assert check("用户今天去了动物园。\n重要的往事", forbidden(changed)) == ("heading", "重要的往事")
    assert check(out, forbidden(zh))[0] == "heading"  # type: ignore[index]
    # The placeholder for an empty memory comes from labels.json.
    placeholder = zh.label("no_memory")
    assert check(f"用户叫小林。{placeholder}", forbidden(zh)) == ("echo", "还没有相关记忆")


def test_tidy_keeps_the_text_and_drops_the_wrapping() -> None:
    assert tidy("summary", "```\n用户叫小林。\n```") == "用户叫小林。"
    assert tidy("user", "Here is the updated memory:\nThe user is Sam.") == "The user is Sam."
    assert tidy("title", "标题：《杭州之行》\n这是因为……") == "杭州之行"
    assert tidy("summary", "好的，以下是总结：") == "好的，以下是总结："  # nothing after it
