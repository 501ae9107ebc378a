"""Context assembly: sections, caps, whole-turn trimming, the budget."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dl_app import prompts
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.context import Budget, ContextBuilder, TurnExtra, to_openai, turn_spans
from dl_app.core.errors import BudgetError, StoreError
from dl_app.core.models import ConversationState, DiaryEntry, Message, Profile, Recall, ToolCall
from dl_app.core.ports import TurnRecord
from dl_app.core.tokens import message_tokens, request_tokens

COUNTER = QwenCounter()
T0 = 1_764_000_000_000


def profile(**kw: str) -> Profile:
    base = dict(
        self_name="小叶子",
        user_name="小明",
        memory_about_self="我喜欢猫。",
        memory_about_user="用户是程序员。",
    )
    base.update(kw)
    return Profile(**base)


def turn(i: int, text: str, reply: str, tool: bool = False) -> list[Message]:
    tid = f"t{i}"
    ts = T0 + i * 60_000
    out = [Message(role="user", content=text, timestamp=ts, turn_id=tid)]
    if tool:
        out.append(
            Message(
                role="assistant",
                content="",
                timestamp=ts,
                turn_id=tid,
                tool_calls=[
                    ToolCall(id=f"c{i}", name="get_memory", arguments='{"memoryDescription":"猫"}')
                ],
            )
        )
        out.append(
            Message(
                role="tool",
                content="找到了：- 猫咪（2024）：我们聊过猫。",
                timestamp=ts,
                turn_id=tid,
                tool_call_id=f"c{i}",
                recall=[Recall(uuid=f"u{i}", similarity=0.9, desc="猫")],
            )
        )
    out.append(Message(role="assistant", content=reply, timestamp=ts, turn_id=tid))
    return out


def conversation(n: int, tool_every: int = 0, size: int = 1) -> list[Message]:
    msgs: list[Message] = []
    for i in range(n):
        msgs += turn(
            i,
            f"第{i}条消息，" + "今天过得怎么样？" * size,
            f"回复{i}：" + "挺好的。" * size,
            tool=bool(tool_every) and i % tool_every == 0,
        )
    return msgs


def builder(total: int = 3000, lang: str = "zh") -> ContextBuilder:
    return ContextBuilder(prompts.load(lang), COUNTER, Budget(total=total, reply=400))


def current(text: str = "你还记得我吗？") -> list[Message]:
    return [Message(role="user", content=text, timestamp=T0 + 10**8, turn_id="now")]


def test_sections_in_order_and_within_budget() -> None:
    state = ConversationState(profile=profile(), summary="我们聊了猫。", messages=conversation(3))
    plan = builder().build(state, current(), world_lines=["现在的时间：某时"])
    names = [s.name for s in plan.sections]
    assert names == ["persona", "self", "user", "summary", "world"]
    system = plan.messages[0]["content"]
    assert "小叶子" in system and "用户是程序员" in system and "我们聊了猫" in system
    assert plan.messages[-1] == {"role": "user", "content": "你还记得我吗？"}
    assert plan.window_start == 0 and plan.dropped_turns == 0
    assert plan.prompt_tokens == request_tokens(COUNTER, plan.messages, plan.tools)
    assert plan.request_tokens <= 3000


def test_long_history_is_trimmed_by_whole_turns_and_keeps_tool_pairs() -> None:
    msgs = conversation(200, tool_every=3, size=3)
    state = ConversationState(profile=profile(), messages=msgs)
    plan = builder().build(state, current(), tools=[])
    assert plan.request_tokens <= 3000
    assert plan.dropped_turns > 0
    starts = {s for s, _ in turn_spans(msgs)}
    assert plan.window_start in starts
    sent = plan.messages[1:-1]
    assert sent[0]["role"] == "user"
    call_ids = {c["id"] for m in sent for c in m.get("tool_calls", [])}
    result_ids = {m["tool_call_id"] for m in sent if m["role"] == "tool"}
    assert call_ids == result_ids and call_ids


@pytest.mark.parametrize("total", [1500, 3000, 8000])
def test_every_section_is_capped_so_messages_keep_room(total: int) -> None:
    huge = "我记得很多事情。" * 3000
    state = ConversationState(
        profile=profile(memory_about_self=huge, memory_about_user=huge),
        summary=huge,
        messages=conversation(50),
        recalled=[
            DiaryEntry(
                uuid=f"r{i}", title=f"日记{i}", summary=huge[:2000], start_time=T0, end_time=T0
            )
            for i in range(10)
        ],
    )
    plan = builder(total).build(state, current(), world_lines=[huge])
    assert plan.request_tokens <= total
    for s in plan.sections:
        if s.cap is not None:
            assert s.tokens <= s.cap, s.name
    # The sections together leave at least a quarter of the prompt budget
    # for the conversation, however large the memory texts grow.
    fixed = plan.prompt_tokens - plan.history_tokens - plan.current_tokens
    assert plan.budget.prompt - fixed >= plan.budget.prompt // 4
    assert "……（已截断）" in plan.messages[0]["content"]


def test_the_time_note_comes_right_before_the_user_message_within_the_budget() -> None:
    state = ConversationState(profile=profile(), messages=conversation(3))
    note = TurnExtra(documents="--- a.txt ---\n文件内容", time_note="现在的时间：12:00")
    plain = builder().build(state, current())
    plan = builder().build(state, current(), extra=note)
    assert plan.messages[:-2] == plain.messages[:-1]  # nothing before it changes
    assert plan.messages[-2:] == [
        {"role": "system", "content": "现在的时间：12:00"},
        {"role": "user", "content": "你还记得我吗？\n\n--- a.txt ---\n文件内容"},
    ]
    assert plan.current_tokens == sum(message_tokens(COUNTER, m) for m in plan.messages[-2:])
    # A message too long for the budget is cut; the note stays whole before it.
    huge = builder().build(state, current("开头。" + "很长的内容。" * 5000), extra=note)
    assert huge.current_truncated and huge.request_tokens <= 3000
    assert huge.messages[-2] == {"role": "system", "content": "现在的时间：12:00"}
    assert huge.messages[-1]["content"].endswith("文件内容")


def test_huge_user_message_is_cut_safely() -> None:
    state = ConversationState(profile=profile())
    text = "开头的话。" + "很长很长的内容。" * 5000 + "结尾的话。"
    plan = builder().build(state, current(text))
    assert plan.current_truncated
    sent = plan.messages[-1]["content"]
    assert sent.startswith("开头的话") and sent.endswith("结尾的话。")
    assert plan.request_tokens <= 3000


def test_recalled_entries_outside_the_window_get_their_own_section() -> None:
    entry = DiaryEntry(
        uuid="u0",
        title="猫咪的故事",
        summary="用户养了一只叫咪咪的猫。",
        start_time=T0,
        end_time=T0,
    )
    visible = DiaryEntry(
        uuid="u9", title="看得见的", summary="在窗口里。", start_time=T0, end_time=T0
    )
    msgs = conversation(1, tool_every=1)
    msgs[2] = msgs[2].model_copy(update={"recall": [Recall(uuid="u9")]})
    state = ConversationState(profile=profile(), messages=msgs, recalled=[entry, visible])
    plan = builder().build(state, current())
    recalled = next(s for s in plan.sections if s.name == "recalled")
    assert "猫咪的故事" in recalled.text and "看得见的" not in recalled.text


def test_orphan_tool_messages_never_make_an_invalid_request() -> None:
    p = prompts.load("en")
    msgs = [
        Message(role="user", content="hi", timestamp=T0),
        Message(
            role="assistant",
            content="",
            timestamp=T0,
            tool_calls=[ToolCall(id="lost", name="get_memory", arguments="{}")],
        ),
        Message(role="tool", content="old recall", timestamp=T0, tool_call_id="nobody"),
        Message(role="assistant", content="hello", timestamp=T0),
    ]
    out = to_openai(msgs, p)
    assert [m["role"] for m in out] == ["user", "assistant", "assistant"]
    assert "old recall" in out[1]["content"]
    assert all("tool_calls" not in m for m in out)


def test_budget_too_small_for_the_fixed_parts_is_a_clear_error() -> None:
    state = ConversationState(profile=profile())
    small = ContextBuilder(prompts.load("zh"), COUNTER, Budget(total=500, reply=400))
    with pytest.raises(BudgetError, match="budget"):
        small.build(state, current())


def test_english_prompts_render() -> None:
    state = ConversationState(profile=profile(self_name="Leaf", user_name="Ann"))
    plan = builder(lang="en").build(state, current("hello"))
    assert "You are a digital life (a virtual person) named Leaf" in plan.messages[0]["content"]


def test_automatic_recall_shows_the_quoted_words_newest_recall_first() -> None:
    day = 86_400_000
    old = DiaryEntry(uuid="e-old", title="旧事", summary="旧事的总结。",
                     start_time=T0 - 9 * day, end_time=T0 - 9 * day)
    new = DiaryEntry(uuid="e-new", title="提车", summary="用户买了新车。",
                     start_time=T0 - 2 * day, end_time=T0 - 2 * day)
    plain = DiaryEntry(uuid="e-plain", title="只有总结", summary="这一条没有对话记录。",
                       start_time=T0 - 5 * day, end_time=T0 - 5 * day)
    turns = {
        "q1": TurnRecord("q1", "e-old", "user", old.start_time, 0, "很久以前的话。" * 80),
        "q2": TurnRecord("q2", "e-new", "user", new.start_time + 60_000, 1, "车牌号是沪A·53Q71。"),
        "q3": TurnRecord("q3", "e-new", "assistant", new.start_time, 0, "恭喜提车！"),
    }
    history = conversation(2)
    history[0] = history[0].model_copy(update={"recall": [Recall(uuid="e-old", messages=["q1"])]})
    asking = current()[0].model_copy(update={"recall": [
        Recall(uuid="e-new", messages=["q2", "q3"]), Recall(uuid="e-plain")]})
    state = ConversationState(profile=profile(), messages=history, recalled=[old, new, plain])
    lookups: list[list[str]] = []

    def quotes(ids: Sequence[str]) -> dict[str, TurnRecord]:
        lookups.append(list(ids))
        return {i: turns[i] for i in ids if i in turns}

    b = ContextBuilder(prompts.load("zh"), COUNTER, Budget(total=3000, reply=400), quotes=quotes)
    plan = b.build(state, [asking])
    section = next(s for s in plan.sections if s.name == "recalled")
    text = section.text
    assert "小明：车牌号是沪A·53Q71。" in text and "小叶子：恭喜提车！" in text
    assert text.index("恭喜提车") < text.index("车牌号")  # oldest first
    assert "用户买了新车" not in text  # the summary gives way to the words
    assert "这一条没有对话记录。" in text  # no words matched: the summary
    # The older recall's long quote does not fit beside the newest: not cut, left out.
    assert "旧事" in text and "很久以前的话" not in text
    assert text.index("旧事") < text.index("只有总结") < text.index("提车")  # entries by date
    assert section.tokens <= section.cap and plan.request_tokens <= 3000
    assert lookups == [["q1", "q2", "q3"]]  # read once per request


def test_unreadable_quotes_leave_the_summary_and_a_deleted_entry_leaves_nothing() -> None:
    entry = DiaryEntry(uuid="e1", title="提车", summary="用户买了新车。", start_time=T0, end_time=T0)
    asking = current()[0].model_copy(update={"recall": [Recall(uuid="e1", messages=["q1"])]})
    state = ConversationState(profile=profile(), recalled=[entry])

    def broken(_ids: Sequence[str]) -> dict[str, TurnRecord]:
        raise StoreError("the index cannot be read")

    for quotes, shown in ((broken, True), (lambda _ids: {}, False)):
        b = ContextBuilder(prompts.load("zh"), COUNTER, Budget(), quotes=quotes)
        system = b.build(state, [asking]).messages[0]["content"]
        assert ("用户买了新车。" in system) is shown and ("提车" in system) is shown
