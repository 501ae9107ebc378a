"""Speak-as-it-streams latency: how soon the first sentence is heard, against
when the reply finishes streaming (what a speak-after-the-reply app would wait for).

The real ``dl-app serve`` in headless Chromium, a scripted model that streams a
reply of several sentences at ``--chars-per-s``, and a scripted Fish Speech
that takes ``--tts-s`` seconds per sentence. Prints, per round and as medians:
first token, first TTS request, first sentence playing, reply streamed (all in
seconds after pressing Enter), and the gap between "reply streamed" and
"first sentence playing".

    .venv/bin/python bench/voice_first_sentence.py [--rounds 3] [--chars-per-s 15] [--tts-s 0.5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import sync_playwright

from frontend_helpers import CHROMIUM, CHROMIUM_ARGS, dl_serve
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply
from servers.voice_servers import VoiceServer

REPLY = (
    "今天的天气真不错，阳光很暖和。我们可以一起去公园散步，看看刚开的花。"
    "回来的路上再买一杯热奶茶。晚上早点休息，明天还要上班呢。"
)

RECORD = """async () => {
  const bus = await import('/js/bus.js');
  const transport = await import('/js/transport.js');
  window.__b = {first: null, delta: null, done: null};
  bus.subscribe('voice.sentence', () => { window.__b.first ??= Date.now(); });
  transport.on('chat.delta', () => { window.__b.delta ??= Date.now(); });
  transport.on('chat.done', () => { window.__b.done = Date.now(); });
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chars-per-s", type=float, default=15.0, help="model streaming speed")
    ap.add_argument("--tts-s", type=float, default=0.5, help="seconds the TTS takes per sentence")
    args = ap.parse_args()
    chunk = 3
    delay = chunk / args.chars_per_s
    rows = []
    with VoiceServer() as vs, OpenAICompatServer() as oa, tempfile.TemporaryDirectory() as tmp:
        vs.tts_delay = args.tts_s
        oa.default_responder = companion_responder
        data = Path(tmp)
        voice = {"tts_enabled": True, "tts_provider": "fish", "fish_url": vs.fish_url}
        (data / "settings.json").write_text(json.dumps({"language": "zh", "voice": voice}))
        with dl_serve(data, oa.base_url) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("html[data-ready='1']")
            for i in range(args.rounds):
                oa.enqueue(ChatReply(content=REPLY, chunk_size=chunk, chunk_delay=delay),
                           match=lambda r: purpose_of(r) == "chat")
                page.evaluate(RECORD)
                before = len(vs.tts_requests)
                page.fill("#chat-input", f"第{i + 1}次：今天做什么好？")
                sent = time.time() * 1000
                page.press("#chat-input", "Enter")
                page.wait_for_function("() => window.__b.done && window.__b.first", timeout=120_000)
                b = page.evaluate("() => window.__b")
                tts = vs.tts_requests[before].at * 1000
                rows.append({k: (v - sent) / 1000 for k, v in
                             {"token": b["delta"], "tts": tts, "first": b["first"],
                              "done": b["done"]}.items()})
                r = rows[-1]
                print(f"round {i + 1}: first token {r['token']:.2f} s, first TTS request "
                      f"{r['tts']:.2f} s, first sentence playing {r['first']:.2f} s, "
                      f"reply streamed {r['done']:.2f} s")
                page.wait_for_timeout(int(args.tts_s * 1000 * 8))  # let it finish speaking
            browser.close()
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"\nmedian over {len(rows)} rounds ({len(REPLY)} characters at {args.chars_per_s:g}/s, "
          f"TTS {args.tts_s:g} s per sentence):")
    print(f"  first sentence playing : {med['first']:.2f} s after Enter")
    print(f"  reply fully streamed   : {med['done']:.2f} s after Enter")
    print(f"  heard {med['done'] - med['first']:.2f} s before the reply ended "
          f"(speaking only after the whole reply would start at >= "
          f"{med['done'] + args.tts_s:.2f} s)")


if __name__ == "__main__":
    main()
