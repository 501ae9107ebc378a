"""Voice in a real browser: the real ``dl-app serve``, a scripted model that streams
slowly, scripted speech services (tests/servers/voice_servers.py), and a real
spoken WAV (espeak-ng + sox) that Chromium's fake media stream plays as the
microphone (it loops: 0.5 s silence, the words, 3 s silence).

Checked: the first sentence plays before the reply ends; a TTS 500 leaves the
text and shows a note whose Retry works; Play replays from the cache;
push-to-talk fills the input, with the UI language in the request; the voice
conversation goes around twice and barge-in stops playback. Screenshots
(zh/en) go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import (
    SHOTS,
    TIMEOUT_MS,
    Opened,
    chromium,
    dl_serve,
    require_chromium,
    wait_held,
)
from servers.companion import companion_responder, purpose_of
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply
from servers.voice_servers import VoiceServer
from voice_helpers import require_speech_tools, spoken_wav
from where import DATA

require_chromium()
require_speech_tools()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

CASES = json.loads((DATA / "speech_cases.json").read_text("utf-8"))


def is_chat(request: Any) -> bool:
    return purpose_of(request) == "chat"


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_wav(tmp_path_factory.mktemp("mic"), "hello digital life", lead=0.5, tail=3.0)


@pytest.fixture(scope="module")
def browser(mic_wav: Path) -> Iterator[Browser]:
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic_wav}",
    ) as b:
        yield b


@pytest.fixture
def vs() -> Iterator[VoiceServer]:
    with VoiceServer() as server:
        yield server
    assert not server.errors


@pytest.fixture
def served(tmp_path: Path, vs: VoiceServer, openai_server: OpenAICompatServer) -> Iterator[str]:
    data = tmp_path / "serve-data"
    data.mkdir()
    voice = {"tts_enabled": True, "tts_provider": "fish", "fish_url": vs.fish_url,
             "stt_provider": "openai", "stt_url": vs.openai_url, "silence_ms": 700}
    (data / "settings.json").write_text(json.dumps({"language": "zh", "voice": voice}))
    openai_server.default_responder = companion_responder
    with dl_serve(data, openai_server.base_url) as url:
        yield url


# What the microphone's recorder received, measured as the scripted STT server
# measures it (20 ms frames louder than 0.02 RMS): a test waits until enough
# speech was captured instead of sleeping through the fake device's loop.
COUNT_VOICED = """() => {
  window.__voicedMs = 0;
  const d = Object.getOwnPropertyDescriptor(ScriptProcessorNode.prototype, 'onaudioprocess');
  Object.defineProperty(ScriptProcessorNode.prototype, 'onaudioprocess', {
    configurable: true,
    get() { return d.get.call(this); },
    set(fn) {
      d.set.call(this, fn && ((ev) => {
        const x = ev.inputBuffer.getChannelData(0);
        const n = Math.round(ev.inputBuffer.sampleRate * 0.02);
        for (let i = 0; i + n <= x.length; i += n) {
          let sum = 0;
          for (let j = i; j < i + n; j++) sum += x[j] * x[j];
          if (Math.sqrt(sum / n) > 0.02) window.__voicedMs += 20;
        }
        return fn(ev);
      }));
    },
  });
}"""


def wait_voiced(p: Page, ms: int = 1000) -> None:
    """Until ``ms`` of speech reached the page's recorder since the last reset."""
    p.wait_for_function(f"() => window.__voicedMs >= {ms}")


@pytest.fixture
def page(browser: Browser, served: str) -> Iterator[Opened]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 720})
    ctx.set_default_timeout(TIMEOUT_MS)
    opened = Opened(ctx.new_page())
    opened.goto(served)
    # The diary opens once the page is ready (LanceDB's import: a second or more of
    # CPU); its gauge answers after. The tests time speech in 20 ms frames: they begin
    # once that burst is over, as they did when the diary opened before the page. The
    # engine's start is the slowest wait here: it has the boot's bound (90 s), not 30 s
    # (3 of 3 setups timed out at load 16).
    expect(opened.page.locator("#budget-gauge .gauge-pct")).to_have_text(
        re.compile(r"^\d+%$"), timeout=90_000)
    # Record what the voice publishes, and when the reply ended (same clock as Python's).
    opened.page.evaluate(
        """async () => {
          const bus = await import('/js/bus.js');
          const transport = await import('/js/transport.js');
          window.__v = {sentences: [], idle: [], states: [], done: []};
          let last = null;
          bus.subscribe('voice.sentence', (d) => { last = d.audio;
            window.__v.sentences.push({text: d.text, at: Date.now()}); });
          bus.subscribe('voice.idle', () => window.__v.idle.push({at: Date.now(),
            time: last ? last.currentTime : null, duration: last ? last.duration : null}));
          bus.subscribe('voice.state', (d) => window.__v.states.push(d.state));
          transport.on('chat.done', () => window.__v.done.push(Date.now()));
        }"""
    )
    opened.page.evaluate(COUNT_VOICED)
    yield opened
    opened.check_clean()
    ctx.close()


def v(page: Page, key: str) -> Any:
    return page.evaluate(f"() => window.__v.{key}")


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


# ---------------------------------------------------------------------------


def test_page_splitter_matches_the_cases(page: Opened) -> None:
    """The splitter lives only in the page: the cases file is its specification. Every
    text gives the same sentences whole and streamed in pieces of any size; the
    "stream" cases fix what each delta gives (the first sentence comes before the
    reply ends; a code block is held until it closes)."""
    sizes = [1, 2, 3, 7]
    got = page.page.evaluate(
        """async ([cases, sizes]) => {
          const m = await import('/js/voice/speech.js');
          const out = {speakable: cases.speakable.map((c) => m.speakable(c.in)), split: [], stream: []};
          for (const c of cases.split) {
            const max = c.max_chars || 160;
            const runs = [m.splitSentences(c.in, 8, max)];
            for (const size of sizes) {
              const sp = new m.SentenceSplitter(8, max); const parts = [];
              for (let i = 0; i < c.in.length; i += size) parts.push(...sp.feed(c.in.slice(i, i + size)));
              runs.push([...parts, ...sp.flush()]);
            }
            out.split.push(runs);
          }
          for (const c of cases.stream) {
            const sp = new m.SentenceSplitter();
            out.stream.push({out: c.feed.map((d) => sp.feed(d)), flush: sp.flush()});
          }
          return out;
        }""",
        [CASES, sizes],
    )
    assert got["speakable"] == [c["out"] for c in CASES["speakable"]]
    assert got["split"] == [[c["out"]] * (1 + len(sizes)) for c in CASES["split"]]
    assert got["stream"] == [{"out": c["out"], "flush": c["flush"]} for c in CASES["stream"]]


def test_first_sentence_plays_before_the_reply_ends_and_replay_uses_the_cache(
    page: Opened, vs: VoiceServer, openai_server: OpenAICompatServer
) -> None:
    p = page.page
    reply = "第一句话说得很清楚。第二句话也要说出来！第三句在这里呢？最后一句**就**结束了😀。"
    openai_server.enqueue(ChatReply(content=reply, chunk_size=3, chunk_delay=0.25), match=is_chat)
    send(p, "讲几句话")
    expect(p.locator(".msg.assistant").last.locator(".msg-content")).to_have_text(reply)
    p.wait_for_function("() => window.__v.sentences.length >= 4 && window.__v.idle.length >= 1")
    sentences, done = v(p, "sentences"), v(p, "done")
    assert [s["text"] for s in sentences] == [
        "第一句话说得很清楚。", "第二句话也要说出来！", "第三句在这里呢？", "最后一句就结束了。",
    ]
    assert [r.json["text"] for r in vs.tts_requests] == [s["text"] for s in sentences]
    stream_end = done[0]
    assert vs.tts_requests[0].at * 1000 < stream_end - 1000  # synthesised while streaming
    assert sentences[0]["at"] < stream_end - 500  # and already playing
    shot(p, "voice-chat-zh.png")

    # Play: the same sentences again, from the session's cache (no new requests).
    before = len(vs.tts_requests)
    p.locator(".msg.assistant").last.locator(".voice-replay").click()
    p.wait_for_function("() => window.__v.sentences.length >= 8")
    assert [s["text"] for s in v(p, "sentences")[4:]] == [s["text"] for s in sentences]
    assert len(vs.tts_requests) == before


def test_tts_failure_keeps_the_text_and_retry_plays(
    page: Opened, vs: VoiceServer, openai_server: OpenAICompatServer
) -> None:
    p = page.page
    vs.tts_errors = [500]
    reply = "这句话的声音会失败。但是文字一定要留下来。"
    openai_server.enqueue(ChatReply(content=reply, chunk_size=4, chunk_delay=0.05), match=is_chat)
    send(p, "试试看")
    msg = p.locator(".msg.assistant").last
    note = msg.locator(".voice-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("500")
    expect(note).to_contain_text("Fish Speech")
    expect(msg.locator(".msg-content")).to_have_text(reply)
    assert v(p, "sentences") == []
    assert p.locator("#error-banner").is_hidden()  # the turn itself succeeded
    shot(p, "voice-failed-zh.png")
    msg.locator(".voice-retry").click()
    p.wait_for_function("() => window.__v.sentences.length >= 2")
    expect(note).to_be_hidden()
    assert [s["text"] for s in v(p, "sentences")] == ["这句话的声音会失败。", "但是文字一定要留下来。"]


def test_push_to_talk_fills_the_input_in_the_ui_language(page: Opened, vs: VoiceServer) -> None:
    p = page.page
    vs.phrases = ["你好数字生命", "hello digital life"]
    mic = p.locator("#chat-mic")
    expect(mic).to_be_visible()
    for lang, expected in (("zh", "你好数字生命"), ("en", "hello digital life")):
        p.select_option("#lang-select", lang)
        expect(p.locator("#lang-select")).to_be_enabled()  # the choice saved
        expect(p.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
        p.fill("#chat-input", "")
        mic.click()
        expect(mic).to_have_attribute("aria-pressed", "true")
        p.evaluate("() => { window.__voicedMs = 0; }")
        expect(p.locator("#chat-input")).to_have_attribute("placeholder", re.compile("Recording|正在录音"))
        wait_voiced(p)  # the fake microphone says the words once in every 5.2 s
        if lang == "en":
            shot(p, "voice-mic-recording-en.png")
        mic.click()
        expect(p.locator("#chat-input")).to_have_value(expected)
        req = vs.stt_requests[-1]
        assert req.fields["language"] == lang
        assert req.files["file"][1] == "audio/wav"
    shot(p, "voice-ptt-en.png")
    assert p.locator(".msg.user").count() == 0  # filled, not sent


def test_voice_conversation_goes_around_twice_and_barge_in_stops_playback(
    page: Opened, vs: VoiceServer, openai_server: OpenAICompatServer
) -> None:
    p = page.page
    vs.phrases = ["first turn", "second turn", "third turn", "fourth turn", "fifth turn"]
    vs.speech_seconds = 0.4
    p.click("#btn-voice-mode")
    overlay = p.locator("#voice-mode")
    expect(overlay).to_be_visible()
    expect(p.locator("#voice-state")).to_have_text("在听…", timeout=10_000)
    p.wait_for_timeout(300)  # the colours' transition
    shot(p, "voice-mode-listening-zh.png")
    p.wait_for_function(
        "() => window.__v.states.filter((s) => s === 'speaking').length >= 2"
        " && window.__v.states.at(-1) === 'listening'",
        timeout=40_000,
    )
    states = [s for s in v(p, "states") if s != "idle"]
    compact = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
    cycle = ["listening", "thinking", "speaking"]
    assert compact[:7] == [*cycle, *cycle, "listening"], compact
    users = p.locator(".msg.user .msg-content").all_text_contents()
    assert users[:2] == ["first turn", "second turn"]
    assert [r for r in openai_server.chat_requests if is_chat(r)][1].last_user_text.endswith("second turn")

    # Barge-in: a long answer; the next words from the microphone stop it.
    vs.speech_seconds = 12.0
    p.wait_for_function("() => window.__v.states.filter((s) => s === 'speaking').length >= 3", timeout=30_000)
    p.wait_for_timeout(300)
    shot(p, "voice-mode-speaking-zh.png")
    # (an answer already synthesised before the switch may still be short)
    # The words come every 5.2 s; echo cancellation may dull the first ones under playback.
    p.wait_for_function("() => window.__v.idle.some((e) => e.duration > 11)", timeout=40_000)
    stop = next(e for e in v(p, "idle") if e["duration"] and e["duration"] > 11)
    assert stop["time"] < stop["duration"] - 0.5, stop  # stopped, not played to the end
    # ... and what was said becomes the next turn.
    sent = len(p.locator(".msg.user").all())
    p.wait_for_function(f"() => document.querySelectorAll('.msg.user').length > {sent}", timeout=20_000)
    p.keyboard.press("Escape")
    expect(overlay).to_be_hidden()
    assert v(p, "states")[-1] == "idle"


# The microphone's level, as the page reads it, is silence while ``window.__mute``
# (a test chooses when the fake device's words, every 5.2 s, can be heard); and the
# speaker's audio element is ``window.__voiceAudio``.
MUTE_LEVEL = """async () => {
  window.__mute = false;
  const read = AnalyserNode.prototype.getFloatTimeDomainData;
  AnalyserNode.prototype.getFloatTimeDomainData = function (buf) {
    read.call(this, buf);
    if (window.__mute) buf.fill(0);
  };
  const bus = await import('/js/bus.js');
  bus.subscribe('voice.sentence', (d) => { window.__voiceAudio = d.audio; });
}"""


def hold_speak(p: Page, *, after: int) -> list[Any]:
    """The page's voice_speak calls after the first ``after`` are held (their routes
    go to the list returned; ``let_go`` continues them)."""
    held: list[Any] = []
    seen = [0]

    def route(r: Any) -> None:
        seen[0] += 1
        if seen[0] <= after:
            r.continue_()
        else:
            held.append(r)

    p.route("**/api/call/voice_speak", route)
    return held


def let_go(p: Page, held: list[Any]) -> None:
    """Continue the held calls and hold no more (a call held after the loop falls
    through to the network once the route is removed)."""
    while held:
        held.pop(0).continue_()
    p.unroute("**/api/call/voice_speak")


def test_talking_while_the_reply_is_synthesised_does_not_drop_it(
    page: Opened, vs: VoiceServer
) -> None:
    """Barge-in stops a reply that is being heard: one still being synthesised (seconds
    on a slow machine) is spoken once it is ready, though the microphone heard words
    meanwhile (it was dropped unheard, and the state never said "speaking")."""
    p = page.page
    vs.phrases = ["first turn", "second turn"]
    held = hold_speak(p, after=0)
    try:
        p.click("#btn-voice-mode")
        p.wait_for_function("() => document.querySelectorAll('.msg.user').length === 1")
        wait_held(p, held, "the reply's voice")
        p.evaluate("() => { window.__voicedMs = 0; }")
        wait_voiced(p)  # words while the reply is being synthesised
        assert v(p, "states")[-1] == "thinking"
        let_go(p, held)
        p.wait_for_function("() => window.__v.sentences.length >= 1")
        assert v(p, "sentences")[0]["text"] == "嗯嗯，我记住了：first turn"
        assert "speaking" in v(p, "states")
    finally:
        let_go(p, held)
    p.keyboard.press("Escape")
    expect(p.locator("#voice-mode")).to_be_hidden()


def test_barge_in_while_the_next_sentence_is_synthesised_listens_at_once(
    page: Opened, vs: VoiceServer, openai_server: OpenAICompatServer
) -> None:
    """Words between two sentences, the second still being synthesised, stop the reply
    and are the next turn at once: not once the synthesis answers (the voice mode
    waited for it, and by then the words were gone from the microphone's last second)."""
    p = page.page
    p.evaluate(MUTE_LEVEL)
    vs.phrases = ["first turn", "second turn"]
    vs.speech_seconds = 0.3
    openai_server.enqueue(ChatReply(content="第一句话很短的。第二句话要等很久才合成好。"), match=is_chat)
    held = hold_speak(p, after=1)
    try:
        p.click("#btn-voice-mode")
        p.wait_for_function("() => document.querySelectorAll('.msg.user').length === 1")
        p.evaluate("() => { window.__mute = true; }")  # nothing heard during the first sentence
        wait_held(p, held, "the second sentence's voice")
        p.wait_for_function(
            "() => window.__v.sentences.length === 1 && window.__voiceAudio.ended"
            " && window.__v.states.at(-1) === 'speaking'"
        )
        p.evaluate("() => { window.__mute = false; }")
        p.wait_for_function("() => document.querySelectorAll('.msg.user').length === 2")
        assert len(held) == 1 and len(vs.tts_requests) == 1  # the second sentence: still held
        users = p.locator(".msg.user .msg-content").all_text_contents()
        assert users == ["first turn", "second turn"]
        states = v(p, "states")
        assert states[states.index("speaking"):][:2] == ["speaking", "listening"], states
    finally:
        let_go(p, held)
    p.keyboard.press("Escape")
    expect(p.locator("#voice-mode")).to_be_hidden()


def test_screenshots_en_and_settings(page: Opened, vs: VoiceServer) -> None:
    p = page.page
    p.select_option("#lang-select", "en")
    expect(p.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(p.locator("#btn-voice-mode")).to_have_text("Voice chat")
    shot(p, "voice-chat-en.png")
    p.click("#nav-settings")
    p.click("#settings-tab-voice")
    expect(p.locator("#voice-settings-box")).to_be_visible()
    shot(p, "voice-settings-top-en.png")
    p.click("#voice-test-tts")
    expect(p.locator("#voice-test-result")).to_contain_text("OK")
    shot(p, "voice-settings-en.png")
    p.select_option("#lang-select", "zh")
    expect(p.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(p.locator("#settings-tab-voice")).to_have_text("语音")
    p.locator("#f-voice-tts_enabled").scroll_into_view_if_needed()
    shot(p, "voice-settings-zh.png")


def test_attach_push_to_talk_works_on_any_button(page: Opened, vs: VoiceServer) -> None:
    """The export other pages (the tray's quick chat) use."""
    p = page.page
    vs.phrases = ["from another page"]
    p.evaluate(
        """async () => {
          const voice = await import('/js/voice/index.js');
          const b = document.createElement('button');
          b.id = 'other-ptt';
          b.textContent = 'talk';
          document.body.append(b);
          window.__heard = [];
          voice.attachPushToTalk(b, { onText: (text) => window.__heard.push(text) });
        }"""
    )
    p.evaluate("() => { window.__voicedMs = 0; }")
    p.click("#other-ptt")
    expect(p.locator("#other-ptt")).to_have_attribute("aria-pressed", "true")
    wait_voiced(p)
    p.click("#other-ptt")
    p.wait_for_function("() => window.__heard.length === 1")
    assert p.evaluate("() => window.__heard") == ["from another page"]
    assert p.locator("#chat-input").input_value() == ""  # only the caller got it
