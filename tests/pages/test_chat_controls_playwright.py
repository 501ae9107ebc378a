"""The chat's controls in a real browser against the real ``dl-app serve`` (the HTTP
transport) and the scripted model (the fixtures of tests/pages/conftest.py), in zh
and en: stop while a reply streams, regenerate the last reply, edit the last
message and send it again, and a long paste that becomes an attached text.

Screenshots go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots).
"""

from __future__ import annotations

import pytest

from frontend_helpers import SHOTS, require_chromium
from servers.companion import purpose_of
from servers.openai_compat import OpenAICompatServer, last_user_contains
from servers.openai_wire import ChatReply

require_chromium()

from playwright.sync_api import Locator, Page, expect  # noqa: E402

LONG_STORY = "从前有一座山，山里有一座庙，庙里有个老和尚在讲故事。" * 30
TEXT = {
    "zh": {"stopped": "已停止", "regenerate": "重新生成", "edit": "编辑", "save": "保存并发送",
           "file": "粘贴的文本.txt", "note": "模型每次只能看到其中约", "back": "消息已放回输入框"},
    "en": {"stopped": "Stopped", "regenerate": "Regenerate", "edit": "Edit", "save": "Save & send",
           "file": "pasted-text.txt", "note": "the model sees only about", "back": "back in the input box"},
}


def set_lang(page: Page, lang: str) -> None:
    page.select_option("#lang-select", lang)
    expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat-send")).to_be_visible()
    expect(page.locator("#chat-send")).to_be_enabled()


def paste(page: Page, text: str) -> None:
    page.focus("#chat-input")
    page.evaluate(
        """text => {
            const dt = new DataTransfer();
            dt.setData("text/plain", text);
            document.querySelector("#chat-input").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));
        }""",
        text,
    )


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def last(page: Page, role: str) -> Locator:
    return page.locator(f".msg.{role}").last


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_stop_keeps_what_was_said_and_a_stop_before_it_began_gives_the_text_back(
    serve, open_page, openai_server: OpenAICompatServer, lang: str
) -> None:
    words = TEXT[lang]
    with serve() as url:
        o = open_page(url)
        page = o.page
        set_lang(page, lang)
        openai_server.enqueue(ChatReply(content=LONG_STORY, chunk_size=2, chunk_delay=0.03))
        page.fill("#chat-input", "讲个长故事")
        page.press("#chat-input", "Enter")
        stop = page.locator("#chat-stop")
        expect(stop).to_be_visible()
        expect(page.locator("#chat-send")).to_be_hidden()  # Stop takes Send's place
        expect(last(page, "assistant").locator(".msg-content")).to_contain_text("从前有")
        shot(page, f"chat-controls-streaming-{lang}")
        stop.click()
        tag = last(page, "assistant").locator(".msg-stopped")
        expect(tag).to_have_text(words["stopped"])
        shot(page, f"chat-controls-stopped-{lang}")
        expect(page.locator("#chat-send")).to_be_visible()
        expect(stop).to_be_hidden()
        assert openai_server.stream_cut.wait(30), "the stream to the model was not closed"
        said = last(page, "assistant").locator(".msg-content").inner_text()
        assert 0 < len(said) < len(LONG_STORY)
        o.reload()  # the stopped reply is stored as said, and marked
        expect(last(page, "assistant").locator(".msg-stopped")).to_have_text(words["stopped"])
        assert last(page, "assistant").locator(".msg-content").inner_text() == said

        # Stopped while the model has not answered yet: nothing kept, text back in the box.
        openai_server.enqueue(ChatReply(content="太晚了", delay=8.0),
                              match=last_user_contains("这条会被停止"))
        page.fill("#chat-input", "这条会被停止")
        page.press("#chat-input", "Enter")
        stop.click()
        expect(page.locator("#chat-input")).to_have_value("这条会被停止")
        expect(page.locator(".toast").last).to_contain_text(words["back"])
        expect(page.locator(".msg")).to_have_count(2)
        o.reload()
        expect(page.locator(".msg")).to_have_count(2)
        o.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_regenerate_and_edit_the_last_turn(
    serve, open_page, openai_server: OpenAICompatServer, lang: str
) -> None:
    words = TEXT[lang]
    with serve() as url:
        o = open_page(url)
        page = o.page
        set_lang(page, lang)
        send(page, "第一句")
        send(page, "我想去爬山")
        expect(page.locator(".msg")).to_have_count(4)
        # Only the last turn has the buttons.
        expect(page.locator("#btn-regenerate")).to_have_count(1)
        expect(page.locator("#btn-edit")).to_have_count(1)
        expect(last(page, "assistant").locator("#btn-regenerate")).to_have_text(words["regenerate"])
        expect(last(page, "user").locator("#btn-edit")).to_have_text(words["edit"])

        openai_server.enqueue(ChatReply(content="爬山很好，记得带水。", chunk_size=2))
        page.click("#btn-regenerate")
        expect(last(page, "assistant").locator(".msg-content")).to_have_text("爬山很好，记得带水。")
        expect(page.locator(".msg")).to_have_count(4)
        expect(page.locator("#btn-regenerate")).to_be_visible()

        page.click("#btn-edit")
        page.fill("#edit-input", "我想去海边")
        expect(page.locator("#edit-save")).to_have_text(words["save"])
        shot(page, f"chat-controls-edit-{lang}")
        openai_server.enqueue(ChatReply(content="海边也不错，记得防晒。", chunk_size=2))
        page.click("#edit-save")
        expect(last(page, "assistant").locator(".msg-content")).to_have_text("海边也不错，记得防晒。")
        expect(last(page, "user").locator(".msg-content")).to_have_text("我想去海边")
        o.reload()
        contents = page.locator(".msg .msg-content").all_inner_texts()
        assert contents[2:] == ["我想去海边", "海边也不错，记得防晒。"] and len(contents) == 4
        chat = [r for r in openai_server.chat_requests if purpose_of(r) == "chat"]
        assert chat[-1].body["messages"][-1]["content"] == "我想去海边"
        assert "我想去爬山" not in str(chat[-1].body["messages"])
        shot(page, f"chat-controls-{lang}")
        o.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_long_paste_becomes_an_attached_text(
    serve, open_page, openai_server: OpenAICompatServer, lang: str
) -> None:
    words = TEXT[lang]
    long = "".join(f"第{i}段：今天去了第{i}个地方，看到了很多有意思的东西。\n\n" for i in range(600))
    # The scripted embeddings rank the text's parts (the built-in embedder takes
    # tens of seconds for them on a busy 2-core machine).
    with serve(DL_EMBED_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="test-embed") as url:
        o = open_page(url)
        page = o.page
        set_lang(page, lang)
        paste(page, long)
        chip = page.locator(".attach-chip")
        expect(chip).to_contain_text(words["file"])
        expect(chip.locator(".attach-note")).to_contain_text(words["note"])
        expect(page.locator("#chat-input")).to_have_value("")
        shot(page, f"chat-controls-paste-{lang}")
        page.fill("#chat-input", "帮我总结一下")
        page.press("#chat-input", "Enter")
        expect(page.locator("#chat-send")).to_be_enabled()
        user = last(page, "user")
        expect(user.locator(".msg-file")).to_contain_text(words["file"])
        assert user.bounding_box()["height"] < 200  # the bubble stays small
        sent = openai_server.chat_requests[-1].body["messages"][-1]["content"]
        assert words["file"] in sent and "帮我总结一下" in sent and len(sent) < len(long)

        # A text the model sees whole is measured, then pasted as usual.
        paste(page, "不算太长的一句话。" * 60)
        expect(page.locator("#chat-input")).to_have_value("不算太长的一句话。" * 60)
        expect(page.locator(".attach-chip")).to_have_count(0)
        # Typed (not pasted) and too long: attached when sent.
        page.fill("#chat-input", "")
        page.fill("#chat-input", long)
        page.press("#chat-input", "Enter")
        expect(page.locator(".msg.user")).to_have_count(2)
        expect(last(page, "user").locator(".msg-file")).to_contain_text(words["file"])
        expect(page.locator("#chat-send")).to_be_enabled()
        o.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_name_the_user_gives_is_taken_and_said(serve, open_page, lang: str) -> None:
    """Setup skipped (the placeholder name): "I'm Maya" makes Maya the user's name,
    and a toast in the page's language says so."""
    said, name, words = {"zh": ("你好！我叫小林。", "小林", "以后就叫你小林"),
                         "en": ("Hi! I'm Maya. Long day.", "Maya", "I'll call you Maya")}[lang]
    with serve() as url:
        o = open_page(url)
        page = o.page
        set_lang(page, lang)
        send(page, said)
        expect(page.locator(".toast").last).to_contain_text(words)
        shot(page, f"chat-named-{lang}")
        profile = page.evaluate(
            "async () => (await (await import('/js/transport.js')).call('memory_profile')).profile")
        assert profile["user_name"] == name
        o.check_clean()
