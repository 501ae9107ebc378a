"""Does the offline demo model converse? A committed 10-turn script in Chinese and
one in English through the whole app (demo provider, automatic recall, budget
3000, the model's fixed seed), each reply judged as issue 17 asks:

- real: similarity to the user's message below 0.5 (``difflib`` ratio over the
  characters, whitespace and punctuation ignored), in the script's language (zh:
  at least half of its letters are CJK; en: none are), no prompt headings or
  instructions (``###``, lines of the prompt files), not empty;
- the last turn asks for the name given in turn 1: the reply must contain it.

Prints each reply with its verdict, the count of real replies per language,
time to first token per turn (the first one separately: it is the first reply
after the model loads), and with ``--consolidate`` the time "update memory"
takes after the 10 turns with the demo model (issue 17: within 60 s on a quiet
machine) and what it stored (diary title and length, self-concept and profile
changed or kept, outputs the checks rejected).

    .venv/bin/python bench/demo_converse.py [--lang zh|en|both] [--consolidate]
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dl_app.adapters import demo_model
from dl_app.adapters.clock import FixedClock
from dl_app.core.cjk import ideograph_count
from dl_app.core.ports import ChatDelta
from dl_app.memory import Memory

SCRIPTS = {
    "zh": ("小林", [
        "你好！我叫小林。今天刚下班，有点累。",
        "我在一家设计公司做平面设计，最近项目特别多。",
        "你平时喜欢做什么？",
        "周末我想去爬山，你有什么建议吗？",
        "我有点担心下周五的客户汇报。",
        "你觉得我应该怎么准备？",
        "谢谢你，我感觉好多了。",
        "最近在看一本关于城市历史的书，挺有意思的。",
        "今天晚饭吃了番茄炒蛋。",
        "对了，你还记得我叫什么名字吗？",
    ]),
    "en": ("Maya", [
        "Hi! I'm Maya. I just got home from work and I'm a bit tired.",
        "I work as a nurse at the city hospital, mostly night shifts.",
        "What do you like to do in your free time?",
        "I'm thinking of going hiking this weekend. Any tips?",
        "I'm a little nervous about my exam next Friday.",
        "How do you think I should prepare?",
        "Thanks, that helps a lot.",
        "I've been reading a book about the history of jazz.",
        "I had pasta for dinner tonight.",
        "By the way, do you remember my name?",
    ]),
}

MINUTE = 60_000
# The prompt carries the time and the model's seed is fixed, so a reply depends on
# the minute it is asked in: each run starts at fixed times (one turn a
# minute), and the figures are given per start rather than for one lucky minute.
STARTS = [1_779_969_600_000 + day * 86_400_000 + 3_600_000 * hour
          for day, hour in ((0, 0), (3, 2), (9, 5), (17, 1), (40, 3))]

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_LATIN = re.compile(r"[A-Za-z]")


def prompt_lines(lang: str) -> set[str]:
    """Lines of the prompt files (instructions a reply must not echo)."""
    root = Path(__file__).resolve().parents[1] / "src" / "dl_app" / "prompts" / lang
    lines = set()
    for f in root.glob("*"):
        for line in f.read_text(encoding="utf-8").splitlines():
            line = line.strip().lstrip("#-* ").strip()
            if len(line) >= 12 and "{" not in line:
                lines.add(line)
    return lines


def verdict(reply: str, user: str, lang: str, instructions: set[str]) -> str:
    """"" when the reply is real, else why not."""
    text = reply.strip()
    if not text:
        return "empty"
    a, b = _PUNCT.sub("", text.lower()), _PUNCT.sub("", user.lower())
    if difflib.SequenceMatcher(None, a, b).ratio() >= 0.5:
        return "echo"
    cjk, latin = ideograph_count(text), len(_LATIN.findall(text))
    if lang == "zh" and cjk < (cjk + latin) / 2:
        return "language"
    if lang == "en" and cjk:
        return "language"
    if "###" in text or any(line in text for line in instructions):
        return "prompt"
    return ""


def consolidate(mem: Memory, lang: str) -> None:
    before = mem.profile()
    t0 = time.perf_counter()
    entry = mem.consolidate()
    took = time.perf_counter() - t0
    after = mem.profile()
    title = entry.title if entry else None
    body = len(entry.summary) if entry else 0
    changed = {"self-concept": after.memory_about_self != before.memory_about_self,
               "profile": after.memory_about_user != before.memory_about_user}
    print(f"{lang}: consolidation {took:.1f} s; diary entry {title!r} ({body} characters); "
          + ", ".join(f"{k} {'changed' if v else 'kept'}" for k, v in changed.items()),
          flush=True)
    for k, v in (("self-concept", after.memory_about_self), ("profile", after.memory_about_user)):
        print(f"          {k}: {v.strip()[:160]!r}", flush=True)


def converse(lang: str, start_ms: int, *,
             then_consolidate: bool = False) -> tuple[int, bool, list[float]]:
    name, turns = SCRIPTS[lang]
    instructions = prompt_lines(lang)
    real, ttft = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "settings.json").write_text(json.dumps({
            "language": lang, "llm": {"provider": "demo"},
        }), encoding="utf-8")
        clock = FixedClock(start_ms, 480 if lang == "zh" else 0)
        mem = Memory.open(root, env={"LANG": "zh_CN.UTF-8" if lang == "zh" else "en_US.UTF-8"},
                          clock=clock)
        try:
            reply = ""
            for i, text in enumerate(turns, 1):
                t0 = time.perf_counter()
                seen: list[float] = []

                def on_delta(d: ChatDelta, t0: float = t0, seen: list[float] = seen) -> None:
                    if d.kind == "content" and d.text and not seen:
                        seen.append(time.perf_counter() - t0)

                reply = mem.send(text, on_delta=on_delta).reply
                clock.advance(MINUTE)
                ttft.extend(seen)
                why = verdict(reply, text, lang, instructions)
                real += not why
                print(f"[{lang} {i:2d}] {why or 'ok':8s} {text}\n"
                      f"          -> {reply.strip()[:160]!r}", flush=True)
            if then_consolidate:
                consolidate(mem, lang)
        finally:
            mem.close()
    return real, name.lower() in reply.lower(), ttft


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["zh", "en", "both"], default="both")
    parser.add_argument("--consolidate", action="store_true",
                        help='time "update memory" after the script (first start only)')
    parser.add_argument("--starts", type=int, default=3, choices=range(1, len(STARTS) + 1),
                        help="how many fixed start times to run")
    args = parser.parse_args()
    problem = demo_model.check()
    if problem:
        sys.exit(f"demo model unavailable: {problem}")
    for lang in (["zh", "en"] if args.lang == "both" else [args.lang]):
        for n, start in enumerate(STARTS[:args.starts]):
            real, named, ttft = converse(lang, start,
                                         then_consolidate=args.consolidate and n == 0)
            print(f"{lang} start {n + 1}: real replies {real}/10; the name recalled in turn 10: "
                  f"{named}; time to first token: first reply {ttft[0]:.2f} s, "
                  f"p50 {statistics.median(ttft):.2f} s, max {max(ttft):.2f} s", flush=True)


if __name__ == "__main__":
    main()
