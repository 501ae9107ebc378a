"""Images and documents attached to a message: real files, the real engine and
stores, the scripted OpenAI-compatible server; every request within budget."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dl_app.adapters.clock import FixedClock
from dl_app.adapters.documents import AttachmentError, convert_document
from dl_app.adapters.tokenizer import QwenCounter
from dl_app.bridge import Api
from dl_app.core.documents import split_chunks
from dl_app.core.tokens import IMAGE_TOKENS, request_tokens
from dl_app.memory import Memory
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

T0 = 1_764_000_000_000
COUNTER = QwenCounter()


def png_bytes(color: str = "red", size: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def request_totals(server: OpenAICompatServer, budget: int) -> list[int]:
    totals = [
        request_tokens(COUNTER, r.body["messages"], r.body.get("tools")) + r.body["max_tokens"]
        for r in server.chat_requests
    ]
    assert totals and max(totals) <= budget, totals
    return totals


def user_messages(server: OpenAICompatServer, index: int = -1) -> list[dict[str, Any]]:
    body = server.chat_requests[index].body
    return [m for m in body["messages"] if m["role"] == "user"]


def image_parts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p for m in messages if isinstance(m["content"], list)
        for p in m["content"] if p.get("type") == "image_url"
    ]


@pytest.fixture
def mem(
    openai_server: OpenAICompatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Memory]:
    monkeypatch.setenv("DL_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("DL_LLM_MODEL", "qwen-test")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    openai_server.default_responder = companion_responder
    clock = FixedClock(T0, offset_minutes=480, zone="Asia/Shanghai")
    with Memory.open(tmp_path / "data", clock=clock) as m:
        yield m


def vision(mem: Memory) -> None:
    mem._engine.config = dataclasses.replace(mem._engine.config, vision=True)


# -- images -----------------------------------------------------------------


def test_vision_model_gets_pixels_now_and_notes_later(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    vision(mem)
    data = png_bytes()
    result = mem.send("What is in this picture?", images=[("photo.png", "image/png", data)])
    assert result.reply and not result.images_unseen
    current = user_messages(openai_server)[-1]
    parts = current["content"]
    assert isinstance(parts, list) and parts[0]["type"] == "text"
    assert "What is in this picture?" in parts[0]["text"]
    url = parts[1]["image_url"]["url"]
    assert url == "data:image/png;base64," + base64.b64encode(data).decode()
    totals = request_totals(openai_server, 3000)
    assert totals[-1] > IMAGE_TOKENS  # the picture was counted
    # Stored with the conversation, the file in the data dir.
    att = mem.conversation().messages[0].attachments[0]
    assert att.kind == "image" and att.path.startswith("attachments/")
    assert (mem.data_dir / att.path).read_bytes() == data
    # The next turn carries the note, not the pixels.
    mem.send("And now something else.")
    msgs = user_messages(openai_server)
    assert not image_parts(msgs)
    assert "[image: photo.png]" in msgs[0]["content"]
    request_totals(openai_server, 3000)


def test_text_only_model_is_told_it_cannot_see(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    result = mem.send("Look!", images=[("cat.png", "image/png", png_bytes("blue"))])
    assert result.reply and result.images_unseen
    msgs = user_messages(openai_server)
    assert not image_parts(msgs)
    assert "[image: cat.png — this model cannot see images]" in msgs[-1]["content"]
    request_totals(openai_server, 3000)


def test_image_only_message_and_bad_images(mem: Memory, openai_server: OpenAICompatServer) -> None:
    vision(mem)
    mem.send("", images=[("a.png", "image/png", png_bytes())])
    assert image_parts(user_messages(openai_server))
    before = mem.conversation().messages
    with pytest.raises(AttachmentError, match="PNG, JPEG"):
        mem.send("x", images=[("a.bmp", "image/bmp", b"BM...")])
    with pytest.raises(AttachmentError, match="not a valid PNG"):
        mem.send("x", images=[("a.png", "image/png", b"not an image")])
    assert mem.conversation().messages == before
    assert len(list((mem.data_dir / "attachments").iterdir())) == 1


def test_more_images_than_the_budget_allows(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    vision(mem)
    images = [(f"p{i}.png", "image/png", png_bytes()) for i in range(4)]
    mem.send("Four pictures", images=images)
    sent = image_parts(user_messages(openai_server))
    assert 1 <= len(sent) < 4
    assert "not sent: no room in the token budget" in json.dumps(
        openai_server.chat_requests[-1].body
    )
    request_totals(openai_server, 3000)


# -- documents ----------------------------------------------------------------


def make_docx(path: Path, paragraphs: list[str]) -> None:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(str(path))


def make_pdf(path: Path, lines: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in lines:
        c.drawString(72, y, line)
        y -= 20
    c.save()


def write_html(path: Path) -> None:
    path.write_text(
        "<html><body><h1>Title here</h1><p>Some <b>bold</b> text.</p></body></html>",
        encoding="utf-8",
    )


GBK_HTML = (
    "<html><body><h1>数字生命的日记</h1><p>它会记住你说过的话，也会记住你没说完的话。"
    "今天下雨，我们聊了很久。</p></body></html>"
)


@pytest.mark.parametrize(
    ("name", "make", "expected", "absent"),
    [
        ("a.docx", lambda p: make_docx(p, ["Quarterly report", "Revenue grew by eleven percent."]),
         ["Revenue grew by eleven percent."], []),
        ("b.pdf", lambda p: make_pdf(p, ["Invoice number 4711", "Total due: 99 euros"]),
         ["Invoice number 4711", "99 euros"], []),
        ("c.md", lambda p: p.write_text("# Notes\n\n- buy **milk**\n", encoding="utf-8"),
         ["milk"], []),
        ("d.txt", lambda p: p.write_text("plain words 你好", encoding="utf-8"), ["你好"], []),
        ("e.html", write_html, ["Title here", "bold"], ["<p>"]),
        # Not UTF-8 (GBK): still read right, with the charset guessed as MarkItDown does.
        ("f.html", lambda p: p.write_bytes(GBK_HTML.encode("gbk")), ["数字生命的日记", "记住"],
         ["<p>"]),
        ("g.txt", lambda p: p.write_bytes("今天的会议记录：预算通过了，下周再谈。".encode("gbk")),
         ["预算通过了"], []),
    ],
    ids=["word", "pdf", "markdown", "text", "html", "html-gbk", "text-gbk"],
)
def test_documents_convert_to_text(
    tmp_path: Path, name: str, make, expected: list[str], absent: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each format's own converter, never magika's file sniffing: the installed app
    # ships a stand-in magika that cannot be built (build/stubs/magika).
    import magika

    def no_magika(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("magika was built")

    monkeypatch.setattr(magika.Magika, "__init__", no_magika)
    path = tmp_path / name
    make(path)
    # A refused file names the converter's own reason (AttachmentError carries it), so
    # a failure here says which converter broke and why.
    text = convert_document(path)
    for words in expected:
        assert words in text, f"{name}: {words!r} missing from {text!r}"
    for words in absent:
        assert words not in text, f"{name}: {words!r} left in {text!r}"


def test_small_document_is_sent_whole(mem: Memory, openai_server: OpenAICompatServer,
                                      tmp_path: Path) -> None:
    make_pdf(tmp_path / "b.pdf", ["Invoice number 4711", "Total due: 99 euros"])
    result = mem.send("What do I owe?", files=[("bill.pdf", (tmp_path / "b.pdf").read_bytes())])
    text = user_messages(openai_server)[-1]["content"]
    assert "bill.pdf (whole document)" in text and "99 euros" in text
    att = mem.conversation().messages[0].attachments[0]
    assert att.kind == "file" and att.tokens > 0 and result.reply
    # Later turns only name the file.
    mem.send("Thanks.")
    first = user_messages(openai_server)[0]["content"]
    assert "[file: bill.pdf]" in first and "99 euros" not in first


def test_long_document_sends_relevant_chunks_within_budget(
    mem: Memory, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    paragraphs = [
        f"Section {i}. The committee discussed routine budget item number {i} and "
        f"agreed to revisit the spreadsheet formatting next quarter."
        for i in range(200)
    ]
    paragraphs[137] = (
        "Section 137. The giraffe enclosure renovation will cost forty thousand dollars "
        "and finish in October."
    )
    make_docx(tmp_path / "minutes.docx", paragraphs)
    raw = (tmp_path / "minutes.docx").read_bytes()
    mem.send("How much will the giraffe enclosure renovation cost?",
             files=[("minutes.docx", raw)])
    text = user_messages(openai_server)[-1]["content"]
    assert "excerpts most relevant" in text
    assert "forty thousand dollars" in text
    assert "Section 5." not in text or "Section 199." not in text
    assert COUNTER.count(text) <= mem._engine.config.budget.document_cap + 100
    request_totals(openai_server, 3000)
    # Several more turns (with another copy) still fit.
    for i in range(3):
        mem.send(f"And item {i * 50}?", files=[("minutes.docx", raw)])
    request_totals(openai_server, 3000)


def test_chunks_cover_the_text(tmp_path: Path) -> None:
    text = "\n\n".join(f"paragraph {i} " + "word " * 40 for i in range(30))
    chunks = split_chunks(text, COUNTER, 120)
    assert all(c.tokens <= 120 for c in chunks)
    assert "".join("".join(c.text for c in chunks).split()) == "".join(text.split())


def test_corrupt_pdf_is_a_clear_error_and_nothing_changes(
    mem: Memory, openai_server: OpenAICompatServer
) -> None:
    mem.send("hello")
    before = mem.conversation()
    sent = len(openai_server.chat_requests)
    with pytest.raises(AttachmentError, match=r"Could not read broken\.pdf"):
        mem.send("read this", files=[("broken.pdf", b"%PDF-1.4 garbage \x00\x01 not a pdf")])
    with pytest.raises(AttachmentError, match="documents must be"):
        mem.send("read this", files=[("tool.exe", b"MZ")])
    assert mem.conversation() == before
    assert len(openai_server.chat_requests) == sent
    assert not list((mem.data_dir / "attachments").iterdir())


# -- the bridge -----------------------------------------------------------------


def test_bridge_chat_send_with_attachments(
    openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    openai_server.default_responder = companion_responder
    env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
    env.update(DL_LLM_BASE_URL=openai_server.base_url, DL_LLM_MODEL="qwen-test",
               LANG="zh_CN.UTF-8")
    api = Api(tmp_path / "data", env=env)
    try:
        data = png_bytes("green")
        res = api.chat_send({
            "text": "看看",
            "images": [{"name": "g.png", "mime": "image/png",
                        "data_base64": base64.b64encode(data).decode()}],
            "files": [{"name": "n.md", "data_base64": base64.b64encode(b"# Hi\n\nnote").decode()}],
        })
        assert res["ok"], res
        assert res["images_unseen"] is True
        assert [a["kind"] for a in res["attachments"]] == ["image", "file"]
        hist = api.chat_history()["messages"]
        att = hist[0]["attachments"][0]
        assert att["name"] == "g.png" and "无法查看图片" in att["note"]
        got = api.attachment_get({"id": att["id"]})
        assert got["ok"] and got["data_url"].endswith(base64.b64encode(data).decode())
        assert api.attachment_get({"id": "nope"})["ok"] is False
        bad = api.chat_send({"text": "x", "files": [{"name": "b.pdf", "data_base64": "JVBERi0="}]})
        assert bad["ok"] is False and bad["error"]["type"] == "AttachmentError"
        assert api.chat_send({"images": [], "text": " "})["ok"] is False
    finally:
        api.close()
