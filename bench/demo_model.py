"""The offline demo model: its speed, and what the app adds to each turn.

Prints
- the model alone: load time, prompt processing and generation speed (tokens/s);
- a conversation through the whole app (engine, context assembly, automatic
  recall over a diary, the built-in embedder, SQLite/LanceDB): time to the
  first token as the user sees it, the model's own time to first token for the
  same request, and the engine's overhead per turn (everything but the model:
  before the request and after the reply), target < 10 ms;
- the same first request sent to the model alone (cold cache), for comparison.

    .venv/bin/python bench/demo_model.py [--turns 8] [--budget 3000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dl_app.adapters import demo_model
from dl_app.adapters.llm_local import LocalChatModel
from dl_app.core.models import DiaryEntry
from dl_app.core.ports import ChatDelta, ChatRequest
from dl_app.memory import Memory

TURNS = [
    "你好！我叫小林，今天刚下班。",
    "我家的猫咪咪今天打翻了水杯，哈哈。",
    "周末想去杭州玩，你有什么推荐吗？",
    "I finally finished the book about the history of tea.",
    "最近在学吉他，手指好疼。",
    "下雨天最适合在家看电影了。",
    "你还记得我上次说的泰山日出吗？",
    "Do you remember what I said about my sister's wedding?",
]
DIARY = [
    ("泰山日出", "我和用户一起聊了去泰山看日出的计划，他很兴奋。"),
    ("猫咪生病", "用户的猫咪咪咪生病了，去了宠物医院，我安慰了他。"),
    ("Sister's wedding", "The user's sister is getting married in Paris next spring."),
    ("学吉他", "用户开始学吉他了，手指很疼，但他很喜欢。"),
]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))]


def model_alone(chat: LocalChatModel) -> None:
    llm_started = time.perf_counter()
    chat.tokens("warm up")  # loads the model
    print(f"model: {chat.model_name}, loaded in {time.perf_counter() - llm_started:.2f} s")
    long_prompt = "。".join(t for t, _ in DIARY * 12) + "。" + "\n".join(TURNS * 4)
    for label, text, max_tokens in (("short prompt", "用三句话介绍一下杭州。", 128),
                                    ("long prompt", long_prompt + "\n总结上面的内容。", 32)):
        runs = []
        for _ in range(3):
            chat._llm.reset()  # a cold cache: the whole prompt is processed
            req = ChatRequest(messages=[{"role": "user", "content": text}],
                              max_tokens=max_tokens, temperature=0.0, purpose="bench")
            chat.complete(req)
            runs.append(chat.requests[-1])
        r = min(runs, key=lambda x: x.total_s)
        first = r.first_token_s or r.total_s
        gen = max(r.total_s - first, 1e-9)
        print(f"  {label}: {r.prompt_tokens} prompt tokens in {first * 1000:.0f} ms "
              f"({r.prompt_tokens / first:.0f} tokens/s), {r.completion_tokens} tokens "
              f"generated at {max(r.completion_tokens - 1, 0) / gen:.1f} tokens/s")


def through_app(turns: int, budget: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "settings.json").write_text(json.dumps({
            "language": "zh", "llm": {"provider": "demo"},
            "memory": {"token_budget": budget, "reply_tokens": 64},
        }), encoding="utf-8")
        mem = Memory.open(root, env={"LANG": "zh_CN.UTF-8"})
        chat = mem._engine.chat
        assert isinstance(chat, LocalChatModel)
        now = mem._engine.clock.now_ms()
        entries = [DiaryEntry(title=t, summary=s, start_time=now - 86_400_000 * (i + 2),
                              end_time=now - 86_400_000 * (i + 2) + 600_000)
                   for i, (t, s) in enumerate(DIARY)]
        vectors = mem._engine.embedder.embed_passages([f"{e.title}\n{e.summary}" for e in entries])
        mem._engine.diary.upsert(entries, vectors, mem._engine.embedder.name)
        mem.send("你好")  # warm: model, embedder, tokenizer, stores
        app_ttft, model_ttft, before, after, recall_ms = [], [], [], [], []
        first_request = None
        for i in range(turns):
            text = TURNS[i % len(TURNS)]
            t0 = time.perf_counter()
            seen: list[float] = []

            def on_delta(d: ChatDelta, t0: float = t0, seen: list[float] = seen) -> None:
                if not seen and d.kind == "content":
                    seen.append(time.perf_counter() - t0)

            n = len(chat.requests)
            mem.send(text, on_delta=on_delta)
            wall = time.perf_counter() - t0
            reqs = chat.requests[n:]
            assert len(reqs) == 1, [r.purpose for r in reqs]  # no fold in a short talk
            r = reqs[0]
            first_request = first_request or r
            model_first = r.first_token_s or r.total_s
            app_ttft.append(seen[0] * 1000)
            model_ttft.append(model_first * 1000)
            before.append((seen[0] - model_first) * 1000)
            after.append((wall - seen[0] - (r.total_s - model_first)) * 1000)
            s0 = time.perf_counter()
            mem._engine.search(text, mem._engine.config.recall_k)
            recall_ms.append((time.perf_counter() - s0) * 1000)
        overhead = [b + a for b, a in zip(before, after, strict=True)]
        print(f"\nthrough the app: {turns} turns, budget {budget} tokens, automatic recall "
              f"over {len(DIARY)} diary entries, built-in embedder")
        for label, values in (("time to first token (user sees)", app_ttft),
                              ("  of which the model's own", model_ttft),
                              ("engine before the request", before),
                              ("engine after the reply", after),
                              ("engine overhead per turn", overhead),
                              ("  of which the recall search", recall_ms)):
            print(f"  {label}: p50 {statistics.median(values):.1f} ms, "
                  f"max {max(values):.1f} ms")
        assert first_request is not None
        chat._llm.reset()
        cold = ChatRequest(messages=first_request.messages, max_tokens=16, purpose="bench")
        chat.complete(cold)
        c = chat.requests[-1]
        print(f"  the first turn's request to the model alone, cold cache: "
              f"{c.prompt_tokens} prompt tokens, first token after "
              f"{(c.first_token_s or c.total_s) * 1000:.0f} ms")
        mem.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--budget", type=int, default=3000)
    args = ap.parse_args()
    problem = demo_model.check()
    if problem is not None:
        sys.exit(f"demo model unavailable: {problem}")
    chat = LocalChatModel(args.budget)
    model_alone(chat)
    chat.close()
    through_app(args.turns, args.budget)


if __name__ == "__main__":
    main()
