"""Token-budget compliance over a long conversation against the scripted server.

Prints the share of requests within the budget (target 100%), LLM calls per
user turn (target < 1.3 on average), how full the requests were, and the
engine's own time per turn (everything but waiting for the model).

    .venv/bin/python bench/budget_compliance.py [--turns 200] [--budget 3000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.core.tokens import request_tokens
from dl_app.memory import Memory
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import ChatReply, OpenAICompatServer, ToolCallReply

TOPICS = [
    "今天上班好累，老板又临时加了需求。",
    "I finally finished the book about the history of tea.",
    "周末想去杭州玩，你有什么推荐吗？",
    "我家的猫咪咪今天打翻了水杯。",
    "Do you remember what I said about my sister's wedding?",
    "最近在学吉他，手指好疼。",
    "下雨天最适合在家看电影了。",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    counter = QwenCounter()
    with OpenAICompatServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.default_responder = companion_responder
        env = {
            "DL_LLM_BASE_URL": server.base_url,
            "DL_LLM_MODEL": "qwen-bench",
            "DL_TOKEN_BUDGET": str(args.budget),
            "LANG": "zh_CN.UTF-8",
        }
        clock = FixedClock(1_764_000_000_000, 480)
        mem = Memory.open(Path(tmp), env=env, clock=clock)
        # A few diary entries so recall has something to find.
        for i, topic in enumerate(TOPICS):
            mem.send(topic)
            if i % 2:
                mem.consolidate()
        server.clear_requests()
        engine_ms: list[float] = []
        for turn in range(args.turns):
            clock.advance(rng.randint(20_000, 300_000))
            size = rng.choice([1, 1, 2, 4, 8]) if turn % 50 != 49 else 200  # some long pastes
            text = f"第{turn}轮。" + " ".join(rng.choice(TOPICS) for _ in range(size))
            if turn % 10 == 3:
                call = ToolCallReply("get_memory", {"memoryDescription": rng.choice(TOPICS)})
                server.enqueue(ChatReply(tool_calls=[call]), match=lambda r: bool(r.system_text))
            reply = "、".join(rng.choice(TOPICS) for _ in range(rng.choice([1, 2, 3])))
            server.enqueue(ChatReply(content=reply), match=lambda r: bool(r.system_text))
            before = len(server.chat_requests)
            t0 = time.perf_counter()
            mem.send(text)
            wall = time.perf_counter() - t0
            # Subtract the model's time as seen by the server's request log: the
            # scripted server answers in well under a millisecond, so the wall
            # time is essentially engine + HTTP + tokenizer + stores.
            engine_ms.append(wall * 1000 / max(1, len(server.chat_requests) - before))
        turn_requests = len(server.chat_requests)
        mem.consolidate()
        requests = server.chat_requests
        totals = []
        for r in requests:
            prompt = request_tokens(counter, r.body["messages"], r.body.get("tools"))
            totals.append(prompt + r.body["max_tokens"])
        within = sum(1 for t in totals if t <= args.budget)
        by_purpose: dict[str, int] = {}
        for r in requests:
            by_purpose[purpose_of(r)] = by_purpose.get(purpose_of(r), 0) + 1
        mem.close()
    print(f"turns: {args.turns}, budget: {args.budget} tokens")
    print(f"requests: {len(requests)} ({', '.join(f'{k} {v}' for k, v in by_purpose.items())})")
    print(f"within budget: {within}/{len(totals)} = {within / len(totals):.1%}")
    print(f"LLM calls per user turn: {turn_requests / args.turns:.3f}")
    print(
        f"request size: max {max(totals)}, p50 {statistics.median(totals):.0f}, "
        f"mean {statistics.mean(totals):.0f} tokens"
    )
    engine_ms.sort()
    print(
        f"time per request incl. local HTTP: p50 {engine_ms[len(engine_ms) // 2]:.1f} ms, "
        f"p95 {engine_ms[int(len(engine_ms) * 0.95)]:.1f} ms"
    )


if __name__ == "__main__":
    main()
