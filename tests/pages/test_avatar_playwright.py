"""The avatar in a real browser against the real ``dl-app serve`` and a scripted model.

Debian's Chromium with ``--enable-unsafe-swiftshader`` gives WebGL without a GPU, so
the bundled Live2D models really render; ``--disable-webgl`` takes WebGL away for the
fallback test. Audio is a WAV made here (syllable-like bursts) that plays through the
page's WebAudio graph. Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
import struct
import wave

import pytest

from frontend_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    Opened,
    is_chat,
    require_chromium,
    settle,
)
from servers.openai_wire import ChatReply
from where import FRONTEND

require_chromium()

from PIL import Image, ImageStat  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

HARU = FRONTEND / "models" / "haru"
CHROMIUM_EXTRA = ("--enable-unsafe-swiftshader", "--autoplay-policy=no-user-gesture-required")
ARGS = [*CHROMIUM_ARGS, *CHROMIUM_EXTRA]





















def canvas_variance(page: Page) -> float:
    """Pixel standard deviation of the avatar canvas as drawn on screen."""
    png = page.locator("#avatar-area canvas").screenshot()
    stat = ImageStat.Stat(Image.open(io.BytesIO(png)).convert("L"))
    return float(stat.stddev[0])


def sample(page: Page, expr: str, seconds: float, every_ms: int = 30) -> list[float]:
    """Values of ``expr`` sampled inside the page every ``every_ms`` for ``seconds``."""
    return page.evaluate(
        """([expr, ms, every]) => new Promise((resolve) => {
            const out = [];
            const read = new Function(`return (${expr});`);
            const timer = setInterval(() => out.push(Number(read())), every);
            setTimeout(() => { clearInterval(timer); resolve(out); }, ms);
        })""",
        [expr, int(seconds * 1000), every_ms],
    )


def swings(values: list[float], low: float = 0.12, high: float = 0.4) -> int:
    """How many times the values go from below ``low`` to above ``high``."""
    count, was_low = 0, False
    for v in values:
        if v < low:
            was_low = True
        elif v > high and was_low:
            count += 1
            was_low = False
    return count


def record_frames(page: Page, expr: str) -> None:
    """Record ``expr`` at every animation frame into ``window.__frames`` (see stop_frames).

    Frame by frame, not on a timer: a slow frame rate on a busy machine is recorded as
    it happened instead of being sampled at the wrong moments.
    """
    page.evaluate(
        """(expr) => {
            const read = new Function(`return (${expr});`);
            const frames = (window.__frames = []);
            window.__recording = true;
            const step = () => {
                if (!window.__recording) return;
                frames.push(read());
                requestAnimationFrame(step);
            };
            requestAnimationFrame(step);
        }""",
        expr,
    )


def stop_frames(page: Page) -> list:
    return page.evaluate("window.__recording = false, window.__frames")


def open_close_cycles(values: list[float], step: float = 0.2) -> int:
    """How many times the values rise by ``step`` after falling by ``step`` (or starting low)."""
    count = 0
    rising = True
    low = high = values[0] if values else 0.0
    for v in values:
        if rising:
            low = min(low, v)
            if v - low >= step:
                count += 1
                rising = False
                high = v
        else:
            high = max(high, v)
            if high - v >= step:
                rising = True
                low = v
    return count


def speech_like_wav(seconds: float = 3.0, rate: int = 16_000) -> bytes:
    """Syllable bursts: 180 ms of a 220 Hz buzz with harmonics, then 140 ms of silence."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        on = (t % 0.32) < 0.18
        env = math.sin(math.pi * (t % 0.32) / 0.18) if on else 0.0
        v = env * 0.6 * (math.sin(2 * math.pi * 220 * t) + 0.4 * math.sin(2 * math.pi * 660 * t))
        frames += struct.pack("<h", int(max(-1, min(1, v)) * 32000))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


# ---------------------------------------------------------------------------


def test_bundled_model_renders_and_the_mouth_parameter_follows_audio(serve, open_page) -> None:
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        assert page.evaluate("dlAvatar.info().cubism") == 4  # Haru, Cubism 4
        page.wait_for_timeout(800)
        assert canvas_variance(page) > 20  # a drawn figure, not a blank canvas
        page.evaluate("dlAvatar.setMouth(0)")
        wav = base64.b64encode(speech_like_wav()).decode()
        page.evaluate(
            """async (b64) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const audio = new Audio(URL.createObjectURL(new Blob([bytes], {type: "audio/wav"})));
                const { publish } = await import("/js/bus.js");
                publish("voice.sentence", { text: "【开心】你好呀，今天过得怎么样？", audio });
                await audio.play();
                window.__testAudio = audio;
            }""",
            wav,
        )
        values = sample(page, "dlAvatar.mouthParam()", 2.4)
        assert swings(values) >= 3, values  # opens and closes with the bursts
        # The leading emotion tag is stripped with the pattern avatar_models sends.
        assert page.locator(".avatar-bubble").inner_text() == "你好呀，今天过得怎么样？"
        page.wait_for_function("window.__testAudio.ended", timeout=10_000)
        page.evaluate("(async () => (await import('/js/bus.js')).publish('voice.idle', {}))()")
        after = sample(page, "dlAvatar.mouthParam()", 0.6)
        assert max(after[-3:]) < 0.05, after  # closed again once the audio ended
        opened.check_clean()


def test_mouth_follows_the_streamed_text_and_the_bubble_shows_the_sentence(
    serve, open_page, openai_server
) -> None:
    sentences = ["哇，真的吗？", "没想到你今天去爬山了！", "山顶的风景一定很美吧。"]
    reply = "".join(sentences)
    openai_server.enqueue(ChatReply(content=reply, chunk_size=2, chunk_delay=0.06), match=is_chat)
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        # Every animation frame from before the message until the mouth is quiet again:
        # what the mouth did, the drawn mouth parameter and the bubble.
        record_frames(page, "[dlAvatar.mouth, dlAvatar.mouthParam(), dlAvatar.bubbleText]")
        page.fill("#chat-input", "我今天去爬山了")
        page.press("#chat-input", "Enter")
        page.wait_for_function("dlAvatar.emotion === 'surprised'", timeout=30_000)
        expect(page.locator("#avatar-area")).to_have_attribute("data-emotion", "surprised")
        page.wait_for_function(
            "window.__frames.some(([m]) => m > 0.4) && dlAvatar.mouth < 0.05", timeout=30_000
        )  # it spoke, and is quiet when done
        frames = stop_frames(page)
        mouth = [m for m, _, _ in frames]
        # Opens and closes with the text: it shuts at every pause (comma, question mark, ...).
        assert open_close_cycles(mouth) >= 3, mouth
        assert max(drawn for _, drawn, _ in frames) > 0.4  # the model draws it
        # The bubble shows the sentence being spoken (as far as it has arrived), one
        # sentence after the other.
        bubbles = {b for _, _, b in frames if b}
        assert all(any(s.startswith(b) for s in sentences) for b in bubbles), bubbles
        assert len(bubbles & set(sentences)) >= 2, bubbles
        opened.check_clean()


def test_the_bubble_fades_after_the_reply_and_clears_on_a_page_change(
    serve, open_page, openai_server
) -> None:
    """Issue 17, point 4: it kept the last sentence forever, across pages."""
    openai_server.enqueue(ChatReply(content="好呀。我们明天见！", chunk_size=3, chunk_delay=0.02),
                          match=is_chat)
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        page.fill("#chat-input", "晚安")
        page.press("#chat-input", "Enter")
        page.wait_for_function("dlAvatar.bubbleText !== ''", timeout=30_000)
        expect(page.locator(".avatar-bubble")).to_be_hidden()  # faded once it was said
        page.evaluate("""() => new Promise((done) => {
            let n = 0;
            const frame = () => (++n >= 60 ? done() : requestAnimationFrame(frame));
            requestAnimationFrame(frame);
        })""")  # 60 frames later: still gone
        assert page.evaluate("dlAvatar.bubbleText") == ""
        page.evaluate("dlAvatar.bubble('还在吗？')")
        expect(page.locator(".avatar-bubble")).to_be_visible()
        page.click("#nav-settings")
        expect(page.locator(".avatar-bubble")).to_be_hidden()
        opened.check_clean()


def test_fallback_without_webgl_says_why_and_keeps_the_interface(serve, pw, data_dir) -> None:
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, "--disable-webgl"])
    try:
        with serve() as url:
            for lang, scheme in (("zh", "light"), ("en", "dark")):
                ctx = b.new_context(viewport={"width": 1100, "height": 720}, color_scheme=scheme)
                opened = Opened(ctx.new_page())
                opened.goto(url)
                page = opened.page
                page.select_option("#lang-select", lang)
                expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
                settle(page, "fallback")
                assert page.evaluate("dlAvatar.reason") == "webgl"
                note = page.locator(".avatar-note")
                expect(note).to_be_visible()
                expect(note).to_contain_text("WebGL")
                assert page.locator("script[data-avatar-runtime]").count() == 0  # not loaded
                page.evaluate("dlAvatar.setMouth(1); dlAvatar.setEmotion('joy')")
                page.wait_for_function("dlAvatar.mouthParam() > 0.9")
                mouth_open = page.locator(".fb-mouth").bounding_box()
                page.evaluate("dlAvatar.setMouth(0)")
                page.wait_for_function("dlAvatar.mouthParam() < 0.05")
                closed = page.locator(".fb-mouth").bounding_box()
                assert mouth_open and closed and mouth_open["height"] > closed["height"] * 2
                page.evaluate("dlAvatar.setMouth(0.7); dlAvatar.bubble('Hello! 你好！')")
                page.wait_for_timeout(400)
                shot(page, f"avatar-fallback-{lang}-{scheme}.png")
                opened.check_clean()
                ctx.close()
    finally:
        b.close()


def test_a_user_model_folder_imports_renders_and_survives_reload(
    serve, open_page, tmp_path
) -> None:
    folder = tmp_path / "MyHaru"
    shutil.copytree(HARU, folder)
    bad = tmp_path / "NotAModel"
    bad.mkdir()
    (bad / "notes.txt").write_text("no model here")
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        page.click("#avatar-gear")
        expect(page.locator("#avatar-panel")).to_be_visible()
        page.set_input_files("#avatar-import-input", str(bad))
        expect(page.locator("#avatar-panel-status")).to_contain_text("No model file")
        page.set_input_files("#avatar-import-input", str(folder))
        page.wait_for_function("dlAvatar.model.startsWith('u-myharu-')", timeout=60_000)
        page.wait_for_function("dlAvatar.state === 'live2d'", timeout=60_000)
        model = page.evaluate("dlAvatar.model")
        page.wait_for_timeout(800)
        assert canvas_variance(page) > 20
        opened.reload()
        settle(page)
        assert page.evaluate("dlAvatar.model") == model
        page.wait_for_timeout(800)
        assert canvas_variance(page) > 20
        opened.check_clean()


def test_drag_and_wheel_move_and_scale_and_persist(serve, open_page, data_dir) -> None:
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        box = page.locator(".avatar-stage").bounding_box()
        assert box
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 40, y + 30, steps=6)
        page.mouse.up()
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(1200)
        saved = json.loads((data_dir / "settings.json").read_text())["avatar"]
        assert saved["offset_x"] < -0.05 and saved["offset_y"] > 0.02, saved
        assert saved["scale"] > 1.2, saved
        opened.reload()
        settle(page)
        got = page.evaluate("dlAvatar.settings")
        assert got["offset_x"] == saved["offset_x"] and got["scale"] == saved["scale"]
        # a tap (no drag) is a reaction, not a move
        page.mouse.click(x, y - 120)
        page.wait_for_function("['joy', 'shy'].includes(dlAvatar.emotion)")
        assert json.loads((data_dir / "settings.json").read_text())["avatar"] == saved
        opened.check_clean()


def test_narrow_window_hides_the_avatar_and_the_chat_still_works(serve, open_page) -> None:
    with serve() as url:
        opened = open_page(url, width=700, height=600)
        page = opened.page
        page.wait_for_function("window.dlAvatar && dlAvatar.state === 'hidden'")
        expect(page.locator("#avatar-area")).to_be_hidden()
        assert page.locator("script[data-avatar-runtime]").count() == 0  # nothing loaded
        page.fill("#chat-input", "你好")
        page.press("#chat-input", "Enter")
        expect(page.locator(".msg.assistant").last).to_contain_text("嗯嗯，我记住了")
        page.set_viewport_size({"width": 1100, "height": 720})
        settle(page)
        expect(page.locator("#avatar-area")).to_be_visible()
        opened.check_clean()


def test_settings_page_shows_avatar_fields_and_they_apply(serve, open_page, data_dir) -> None:
    with serve() as url:
        opened = open_page(url)
        page = opened.page
        settle(page)
        page.click("#nav-settings")
        page.click("#settings-tab-appearance")
        page.select_option("#f-avatar-background_area", "window")
        page.click("#f-avatar-model-pick-svg")  # picked by its picture
        page.click("#settings-appearance button[type=submit]")
        page.wait_for_function("dlAvatar.state === 'fallback' && dlAvatar.reason === 'chosen'")
        expect(page.locator(".avatar-note")).to_be_hidden()  # chosen, nothing to explain
        opened.reload()
        settle(page, "fallback")
        assert page.evaluate("dlAvatar.settings.background_area") == "window"
        opened.check_clean()


@pytest.mark.parametrize(("lang", "scheme"), [("zh", "light"), ("en", "dark"), ("en", "light"),
                                              ("zh", "dark")])
def test_screenshots(serve, open_page, openai_server, lang: str, scheme: str) -> None:
    openai_server.enqueue(
        ChatReply(content="太好了！我好开心 😄 今天也一起加油吧。", chunk_size=4, chunk_delay=0.02),
        match=is_chat,
    )
    with serve() as url:
        opened = open_page(url, color_scheme=scheme)
        page = opened.page
        page.select_option("#lang-select", lang)
        expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
        settle(page)
        page.fill("#chat-input", "我通过考试了！")
        page.press("#chat-input", "Enter")
        page.wait_for_function("dlAvatar.emotion === 'joy'", timeout=15_000)
        page.evaluate("dlAvatar.setMouth(0.6); dlAvatar.bubble(document.querySelector('.msg.assistant:last-child')?.innerText.split(/(?<=[！。])/)[0] || '')")
        page.wait_for_timeout(600)
        shot(page, f"avatar-chat-{lang}-{scheme}.png")
        page.click("#avatar-gear")
        page.wait_for_timeout(200)
        shot(page, f"avatar-panel-{lang}-{scheme}.png")
        page.keyboard.press("Escape")
        page.click("#footer-about")
        expect(page.locator("#about-dialog")).to_be_visible()
        expect(page.locator("#about-dialog")).to_contain_text("Live2D")
        # The full third-party notices, generated from what is installed, shown as text.
        page.click("#about-dialog .modal-actions .btn:not(.primary)")
        notices = page.locator(".about-notices")
        expect(notices).to_contain_text("Qwen2.5-Coder-0.5B-Instruct", timeout=60_000)
        expect(notices).to_contain_text("lancedb ")
        expect(notices).to_contain_text("TERMS AND CONDITIONS FOR USE")
        assert notices.evaluate("n => n.children.length") == 0  # text, never HTML
        shot(page, f"avatar-about-{lang}-{scheme}.png")
        page.keyboard.press("Escape")
        page.click("#nav-settings")
        page.click("#settings-tab-appearance")
        shot(page, f"avatar-settings-{lang}-{scheme}.png")
        opened.check_clean()
