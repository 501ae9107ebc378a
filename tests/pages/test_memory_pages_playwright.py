"""The Memory pages in a real browser against the real ``dl-app serve``.

Names and self, the diary (list, search, archived conversation, edit, delete, the
drawn timeline), import/export (preview first, hostile and broken files, encrypted
round trip, local backups, delete-all behind the typed phrase), and cloud backup
against a moto S3 server when moto is installed. Screenshots of every page
(zh/en, light/dark) go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots) as memory-*.png.

Chromium comes from the system (/usr/bin/chromium); without it these tests skip,
except on CI (``CI`` set), where a missing browser is an error.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import (
    SHOTS,
    free_port,
    require_chromium,
)

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_735_700_000_000  # 2025-01-01

HOSTILE_TITLE = "<img src=x onerror=alert(1)>坏标题"
HOSTILE_SUMMARY = "<script>alert(2)</script><b>粗体</b><svg onload=alert(3)></svg>"
HOSTILE_MESSAGE = "<iframe src=javascript:alert(4)></iframe><img src=y onerror=alert(5)>"


def memory_file(
    entries: list[tuple[str, str, int, int, list[tuple[str, str]]]],
    *,
    self_name: str = "小叶子",
    user_name: str = "阿明",
) -> dict[str, Any]:
    """An original-format export: entries are (title, summary, start, minutes, messages)."""
    diary = []
    archived = []
    for i, (title, summary, start, minutes, messages) in enumerate(entries):
        uuid = f"00000000-0000-4000-8000-{i:012d}"
        diary.append(
            {
                "uuid": uuid,
                "title": title,
                "summary": summary,
                "startTime": start,
                "endTime": start + minutes * 60_000,
            }
        )
        for j, (role, content) in enumerate(messages):
            archived.append(
                {
                    "role": role,
                    "content": content,
                    "timestamp": start + j * 60_000,
                    "belongTo": uuid,
                }
            )
    return {
        "selfName": self_name,
        "userName": user_name,
        "memoryAboutSelf": "我是一个正在读心理学的大学男生。",
        "memoryAboutUser": "用户叫阿明，在上海工作。",
        "longTermMemory": diary,
        "shortTermMemory": [],
        "archivedMemory": archived,
        "currentSummary": "",
    }


DIARY = [
    (
        "周末去爬山",
        "阿明说周末想去爬山，我推荐了佘山。",
        T0,
        60,
        [("user", "周末想去爬山"), ("assistant", "可以去佘山，离市区近。"), ("user", "好主意")],
    ),
    (
        "最喜欢的咖啡",
        "阿明最喜欢拿铁，不加糖。",
        T0 + 10 * DAY,
        20,
        [("user", "我只喝拿铁"), ("assistant", "记住啦，不加糖的拿铁。")],
    ),
    (
        "准备考试",
        "阿明下个月要考驾照，有点紧张。",
        T0 + 30 * DAY,
        90,
        [
            ("user", "下个月考驾照"),
            ("assistant", "别紧张，多练习倒车入库。"),
            ("user", "嗯"),
            ("assistant", "加油！"),
        ],
    ),
]
TITLES_NEWEST_FIRST = ["准备考试", "最喜欢的咖啡", "周末去爬山"]


# ---------------------------------------------------------------------------
# fixtures (the same browser setup as test_frontend_playwright.py)














# ---------------------------------------------------------------------------
# helpers


def set_lang(page: Page, lang: str) -> None:
    page.select_option("#lang-select", lang)
    expect(page.locator("#lang-select")).to_be_enabled()  # the choice saved
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")


def memory_tab(page: Page, tab: str) -> None:
    page.click("#nav-memory")
    page.click(f"#memory-tab-{tab}")
    expect(page.locator(f"#memory-{tab}")).to_be_visible()


def confirm(page: Page, contains: str | None = None) -> None:
    modal = page.locator(".modal")
    expect(modal).to_be_visible()
    if contains:
        expect(modal.locator(".modal-text")).to_contain_text(contains)
    modal.locator(".btn.primary").click()
    expect(modal).to_have_count(0)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def import_file(page: Page, path: Path, *, expect_preview: dict[str, str] | None = None) -> None:
    """Import ``path`` through the page's file input: preview, confirm, done."""
    memory_tab(page, "transfer")
    page.set_input_files("#import-file", str(path))
    preview = page.locator("#import-preview")
    expect(preview).to_be_visible()
    for key, value in (expect_preview or {}).items():
        expect(preview.locator(f"dd[data-key='{key}']")).to_have_text(value)
    expect(page.locator("#import-btn")).to_be_enabled()
    page.click("#import-btn")
    confirm(page, "备份" if page.locator("html").get_attribute("lang") == "zh-CN" else "backed up")
    expect(page.locator("#import-status")).to_contain_text(re.compile(r"导入|Imported"))


def expect_titles(page: Page, titles: list[str]) -> None:
    """The diary list shows exactly ``titles``, in this order (waits for the reload)."""
    if titles:
        expect(page.locator("#diary-list .diary-item-title")).to_have_text(titles)
    else:
        expect(page.locator("#diary-list .diary-item")).to_have_count(0)
        expect(page.locator("#diary-list .list-empty")).to_be_visible()


def no_injected_elements(page: Page, scope: str = "#page-memory") -> None:
    for tag in ("img", "script", "iframe", "b", "svg:not(.timeline-svg)"):
        count = page.locator(f"{scope} {tag}").count()
        assert count == 0, f"a <{tag}> was created from imported text"


# ---------------------------------------------------------------------------


def test_names_self_and_profile_persist_and_restore(serve, open_page) -> None:
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "zh")
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).not_to_have_value("")
        old_self = page.input_value("#mem-self-name")
        old_user = page.input_value("#mem-user-name")
        # An empty name is refused in the page; nothing is sent.
        page.fill("#mem-self-name", "  ")
        page.click("#mem-names-save")
        expect(page.locator("#mem-names-error")).to_have_text("两个名字都不能为空。")
        # Names: a warning first; Cancel keeps the typed text and changes nothing.
        page.fill("#mem-self-name", "小叶子")
        page.fill("#mem-user-name", "阿明")
        page.click("#mem-names-save")
        expect(page.locator(".modal .modal-text")).to_contain_text("不建议")
        page.click(".modal .btn:not(.primary)")
        assert page.input_value("#mem-self-name") == "小叶子"
        page.click("#mem-names-save")
        confirm(page, "不建议")
        expect(page.locator("#mem-names-status")).to_have_text("已保存。")
        # The diary tab is named after the AI.
        expect(page.locator("#memory-tab-diary")).to_have_text("小叶子的日记本")
        # The self-concept and the user profile are editable.
        page.fill("#mem-about-self", "我喜欢爬山，也喜欢安静地看书。")
        page.fill("#mem-about-user", "阿明在上海工作，喜欢拿铁。")
        expect(page.locator("#mem-about-user-count")).to_contain_text("13 /")
        page.click("#mem-texts-save")
        expect(page.locator("#mem-texts-status")).to_have_text("已保存。")
        # Everything persists across a reload.
        o.reload()
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).to_have_value("小叶子")
        expect(page.locator("#mem-user-name")).to_have_value("阿明")
        expect(page.locator("#mem-about-self")).to_have_value("我喜欢爬山，也喜欢安静地看书。")
        expect(page.locator("#mem-about-user")).to_have_value("阿明在上海工作，喜欢拿铁。")
        # History: newest first; the oldest version has the original names.
        items = page.locator("#mem-history .history-item")
        expect(items).to_have_count(2)
        oldest = items.last
        expect(oldest.locator(".history-names")).to_have_text(f"{old_self} · {old_user}")
        oldest.locator(".history-restore").click()
        confirm(page)
        expect(page.locator("#mem-self-name")).to_have_value(old_self)
        expect(page.locator("#mem-user-name")).to_have_value(old_user)
        o.reload()
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).to_have_value(old_self)
        # The version before the restore is kept and can be restored in turn.
        expect(page.locator("#mem-history .history-item")).to_have_count(3)
        assert page.locator("#mem-history .history-names").first.text_content() == "小叶子 · 阿明"
        # Unsaved text survives a trip to another page.
        page.fill("#mem-about-self", "还没保存的草稿")
        page.click("#nav-chat")
        page.click("#nav-memory")
        expect(page.locator("#mem-about-self")).to_have_value("还没保存的草稿")
        o.check_clean()


def test_import_then_diary_search_open_edit_delete_and_timeline(
    serve, open_page, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "memory.json", memory_file(DIARY))
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "zh")
        import_file(
            page,
            path,
            expect_preview={
                "self_name": "小叶子",
                "user_name": "阿明",
                "diary_entries": "3",
                "archived_messages": "9",
            },
        )
        # The header names follow the import.
        expect(page.locator("#memory-tab-diary")).to_have_text("小叶子的日记本")

        memory_tab(page, "diary")
        expect_titles(page, TITLES_NEWEST_FIRST)
        expect(page.locator("#diary-count")).to_have_text("共 3 篇日记")
        expect(page.locator("#diary-list .tag").first).to_have_text(re.compile("已索引|未索引"))

        # The timeline: one mark per conversation, titles as SVG <title> text.
        marks = page.locator("#diary-timeline .tl-mark")
        expect(marks).to_have_count(3)
        titles = [m.locator("title").text_content() or "" for m in marks.all()]
        assert [t.split("\n")[0] for t in titles] == list(reversed(TITLES_NEWEST_FIRST))
        heights = [float(m.get_attribute("height") or 0) for m in marks.all()]
        assert heights[2] > heights[1]  # 4 messages vs 2
        marks.nth(1).click()
        expect(page.locator("#timeline-pick")).to_contain_text("最喜欢的咖啡")
        expect(page.locator("#timeline-pick")).to_contain_text("2 条消息")
        # A language change names the picked conversation again, in the new language.
        set_lang(page, "en")
        expect(page.locator("#timeline-pick")).to_contain_text("2 messages")
        expect(page.locator("#diary-count")).to_have_text("3 diary entries")
        set_lang(page, "zh")
        expect(page.locator("#timeline-pick")).to_contain_text("2 条消息")

        # Search finds the right entry.
        page.fill("#diary-search", "佘山")
        page.press("#diary-search", "Enter")
        expect(page.locator("#diary-count")).to_contain_text("佘山")
        expect(page.locator("#diary-list .diary-item-title").first).to_have_text("周末去爬山")
        # The message that was said shows under the entry; opening it marks that message.
        hit = page.locator("#diary-list .diary-item").first
        expect(hit.locator(".diary-match")).to_have_text("可以去佘山，离市区近。")
        hit.locator(".diary-head").click()
        expect(hit.locator(".arch-msg.hit .arch-content")).to_have_text(["可以去佘山，离市区近。"])
        expect(hit.locator(".arch-msg.hit")).to_be_in_viewport()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "diary-search-match-zh.png"))
        page.click("#diary-search-clear")
        expect(page.locator("#diary-list .diary-match:visible")).to_have_count(0)
        expect_titles(page, TITLES_NEWEST_FIRST)
        # Words no entry contains find nothing; by meaning is the user's second step.
        page.fill("#diary-search", "zqxj wvut")
        page.press("#diary-search", "Enter")
        expect(page.locator("#diary-list .list-empty")).to_have_text(
            "没有日记包含这些词。可以按意思再找找。")
        page.click("#diary-meaning")
        expect(page.locator("#diary-count")).to_contain_text("意思相近")
        expect(page.locator("#diary-list .tag.near-meaning:visible")).to_have_count(
            len(TITLES_NEWEST_FIRST))
        expect(page.locator("#diary-meaning")).to_be_hidden()
        page.screenshot(path=str(SHOTS / "diary-search-meaning-zh.png"))
        set_lang(page, "en")
        page.press("#diary-search", "Enter")
        expect(page.locator("#diary-list .list-empty")).to_have_text(
            "No diary entry contains these words. You can search by meaning.")
        page.click("#diary-meaning")
        expect(page.locator("#diary-count")).to_contain_text("close in meaning")
        expect(page.locator("#diary-list .tag.near-meaning:visible").first).to_have_text(
            "close in meaning")
        page.screenshot(path=str(SHOTS / "diary-search-meaning-en.png"))
        set_lang(page, "zh")
        page.click("#diary-search-clear")
        expect(page.locator("#diary-list .tag.near-meaning:visible")).to_have_count(0)

        # Open one: its summary, span and archived conversation.
        item = page.locator("#diary-list .diary-item").nth(1)
        item.locator(".diary-head").click()
        expect(item.locator(".diary-summary")).to_have_text("阿明最喜欢拿铁，不加糖。")
        expect(item.locator(".diary-span")).to_contain_text("20 分钟")
        expect(item.locator(".arch-msg .arch-content")).to_have_text(
            ["我只喝拿铁", "记住啦，不加糖的拿铁。"]
        )
        expect(item.locator(".arch-msg.user .arch-role").first).to_have_text("阿明")
        expect(item.locator(".arch-msg.assistant .arch-role").first).to_have_text("小叶子")

        # Edit the title and summary; an empty summary is refused and the typed title stays.
        item.locator(".diary-edit").click()
        item.locator(".diary-edit-title").fill("拿铁不加糖")
        item.locator(".diary-edit-summary").fill("")
        item.locator(".diary-save").click()
        expect(item.locator(".diary-item-error")).to_have_text("标题和内容都不能为空。")
        assert item.locator(".diary-edit-title").input_value() == "拿铁不加糖"
        item.locator(".diary-edit-summary").fill("阿明只喝不加糖的拿铁。")
        item.locator(".diary-save").click()
        expect(item.locator(".diary-item-title")).to_have_text("拿铁不加糖")
        expect(item.locator(".diary-summary")).to_have_text("阿明只喝不加糖的拿铁。")
        o.reload()
        memory_tab(page, "diary")
        expect(page.locator("#diary-list .diary-item-title")).to_have_text(
            ["准备考试", "拿铁不加糖", "周末去爬山"]
        )
        # The edited entry is found by its new words.
        page.fill("#diary-search", "不加糖")
        page.click("#diary-search-btn")
        expect(page.locator("#diary-list .diary-item-title").first).to_have_text("拿铁不加糖")
        page.click("#diary-search-clear")
        expect_titles(page, ["准备考试", "拿铁不加糖", "周末去爬山"])

        # Delete: Cancel keeps it, OK removes it (and its timeline mark).
        item = page.locator("#diary-list .diary-item").first
        item.locator(".diary-head").click()
        item.locator(".diary-delete").click()
        page.click(".modal .btn:not(.primary)")
        expect(page.locator("#diary-list .diary-item")).to_have_count(3)
        item.locator(".diary-delete").click()
        confirm(page, "准备考试")
        expect(page.locator("#diary-list .diary-item")).to_have_count(2)
        expect(page.locator("#diary-timeline .tl-mark")).to_have_count(2)
        o.reload()
        memory_tab(page, "diary")
        expect_titles(page, ["拿铁不加糖", "周末去爬山"])
        o.check_clean()


def test_hostile_import_is_text(serve, open_page, tmp_path: Path) -> None:
    data = memory_file(
        [
            (
                HOSTILE_TITLE,
                HOSTILE_SUMMARY,
                T0,
                30,
                [("user", HOSTILE_MESSAGE), ("assistant", HOSTILE_SUMMARY)],
            ),
            ("正常的一天", "什么也没发生。", T0 + DAY, 10, [("user", "你好")]),
        ],
        self_name="<img src=z onerror=alert(6)>",
        user_name="<script>alert(7)</script>",
    )
    path = write_json(tmp_path / "hostile.json", data)
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "zh")
        memory_tab(page, "transfer")
        page.set_input_files("#import-file", str(path))
        preview = page.locator("#import-preview")
        expect(preview.locator("dd[data-key='self_name']")).to_have_text(
            "<img src=z onerror=alert(6)>"
        )
        expect(preview.locator("dd[data-key='user_name']")).to_have_text(
            "<script>alert(7)</script>"
        )
        no_injected_elements(page)
        page.click("#import-btn")
        confirm(page)
        expect(page.locator("#import-status")).to_contain_text("已导入 2 篇日记")

        memory_tab(page, "diary")
        expect(page.locator("#memory-tab-diary")).to_have_text(
            "<img src=z onerror=alert(6)>的日记本"
        )
        expect(page.locator("#diary-list .diary-item-title").last).to_have_text(HOSTILE_TITLE)
        item = page.locator("#diary-list .diary-item").last
        item.locator(".diary-head").click()
        expect(item.locator(".diary-summary")).to_have_text(HOSTILE_SUMMARY)
        expect(item.locator(".arch-msg .arch-content").first).to_have_text(HOSTILE_MESSAGE)
        expect(item.locator(".arch-msg.user .arch-role").first).to_have_text(
            "<script>alert(7)</script>"
        )
        marks = page.locator("#diary-timeline .tl-mark")
        expect(marks).to_have_count(2)
        assert (marks.first.locator("title").text_content() or "").startswith(HOSTILE_TITLE)
        page.fill("#diary-search", "粗体")
        page.press("#diary-search", "Enter")
        expect(page.locator("#diary-list .diary-item-title").first).to_have_text(HOSTILE_TITLE)
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).to_have_value("<img src=z onerror=alert(6)>")
        for tab in ("self", "diary", "transfer"):
            memory_tab(page, tab)
            no_injected_elements(page)
        assert page.locator("body img, body iframe").count() == 0
        page.wait_for_timeout(300)
        o.check_clean()


def test_corrupted_file_is_refused_and_memory_unchanged(serve, open_page, tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", memory_file(DIARY))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps(memory_file(DIARY), ensure_ascii=False)[:300], encoding="utf-8")
    wrong = memory_file(DIARY)
    wrong["longTermMemory"][1]["startTime"] = "2025-01-01"
    wrong_path = write_json(tmp_path / "wrong.json", wrong)
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "zh")
        import_file(page, good)
        page.wait_for_timeout(200)
        for bad, needle in ((truncated, "无法导入"), (wrong_path, "日记第 2 条的开始时间")):
            page.set_input_files("#import-file", str(bad))
            expect(page.locator("#import-error")).to_contain_text(needle)
            expect(page.locator("#import-preview")).to_have_count(0)
            expect(page.locator("#import-btn")).to_be_disabled()
        # A binary file is refused too.
        page.set_input_files(
            "#import-file",
            files=[
                {"name": "photo.json", "mimeType": "application/json", "buffer": bytes(range(256))}
            ],
        )
        expect(page.locator("#import-error")).not_to_be_empty()
        expect(page.locator("#import-btn")).to_be_disabled()
        # Drag and drop works like the picker: a preview, and Cancel changes nothing.
        other = memory_file(DIARY[:1], self_name="拖进来的")
        page.evaluate(
            """(text) => {
              const dt = new DataTransfer();
              dt.items.add(new File([text], 'dropped.json', {type: 'application/json'}));
              const zone = document.getElementById('import-drop');
              for (const type of ['dragenter', 'dragover', 'drop']) {
                zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                        cancelable: true}));
              }
            }""",
            json.dumps(other, ensure_ascii=False),
        )
        expect(page.locator("#import-file-name")).to_contain_text("dropped.json")
        expect(page.locator("#import-preview dd[data-key='self_name']")).to_have_text("拖进来的")
        expect(page.locator("#import-preview dd[data-key='diary_entries']")).to_have_text("1")
        page.click("#import-cancel")
        expect(page.locator("#import-preview")).to_have_count(0)
        memory_tab(page, "diary")
        expect_titles(page, TITLES_NEWEST_FIRST)
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).to_have_value("小叶子")
        o.check_clean()


def test_encrypted_export_and_import_round_trip(serve, open_page, tmp_path: Path) -> None:
    path = write_json(tmp_path / "memory.json", memory_file(DIARY))
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "en")
        import_file(page, path)
        # Export with a passphrase: a download of the encrypted envelope.
        page.fill("#export-pass", "correct horse")
        with page.expect_download() as dl:
            page.click("#export-btn")
        download = dl.value
        assert download.suggested_filename.endswith(".json.enc")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        envelope = json.loads(saved.read_text(encoding="utf-8"))
        assert envelope["format"] == "digital-life-encrypted"
        assert "小叶子" not in saved.read_text(encoding="utf-8")
        expect(page.locator("#export-pass")).to_have_value("")
        # Plain export is the original's JSON.
        with page.expect_download() as dl:
            page.click("#export-btn")
        plain = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
        assert plain["selfName"] == "小叶子" and len(plain["longTermMemory"]) == 3

        # Delete everything, then bring it back from the encrypted file.
        memory_tab(page, "transfer")
        page.fill("#delete-all-phrase", "delete all memories")
        page.click("#delete-all-btn")
        expect(page.locator("#delete-all-phrase")).to_have_value("")
        memory_tab(page, "diary")
        expect_titles(page, [])
        memory_tab(page, "transfer")
        page.set_input_files("#import-file", str(saved))
        expect(page.locator("#import-pass-row")).to_be_visible()
        expect(page.locator("#import-btn")).to_be_disabled()
        page.fill("#import-pass", "wrong passphrase")
        page.click("#import-pass-btn")
        expect(page.locator("#import-error")).to_contain_text(re.compile("passphrase", re.I))
        expect(page.locator("#import-btn")).to_be_disabled()
        page.fill("#import-pass", "correct horse")
        page.press("#import-pass", "Enter")
        expect(page.locator("#import-preview dd[data-key='diary_entries']")).to_have_text("3")
        expect(page.locator("#import-preview dd[data-key='encrypted']")).to_have_text("yes")
        page.click("#import-btn")
        confirm(page, "backed up")
        expect(page.locator("#import-status")).to_contain_text("Imported 3 diary entries")
        memory_tab(page, "diary")
        expect_titles(page, TITLES_NEWEST_FIRST)
        # Local backups: one before each change of a non-empty memory (newest first).
        memory_tab(page, "transfer")
        backups = page.locator("#local-backups .backup-item")
        expect(backups).to_have_count(1)  # before the delete-all; the empty memory is not kept
        page.fill("#delete-all-phrase", "delete all memories")
        page.click("#delete-all-btn")
        expect(backups).to_have_count(2)
        memory_tab(page, "diary")
        expect_titles(page, [])
        memory_tab(page, "transfer")
        backups.first.locator(".backup-restore").click()
        confirm(page, "backed up")
        memory_tab(page, "diary")
        expect_titles(page, TITLES_NEWEST_FIRST)
        o.check_clean()


def test_delete_all_needs_the_phrase(serve, open_page, tmp_path: Path) -> None:
    path = write_json(tmp_path / "memory.json", memory_file(DIARY))
    with serve() as url:
        o = open_page(url, height=760)
        page = o.page
        set_lang(page, "zh")
        import_file(page, path)
        btn = page.locator("#delete-all-btn")
        expect(btn).to_be_disabled()
        expect(page.locator("#delete-all-hint")).to_contain_text("删除所有记忆")
        page.fill("#delete-all-phrase", "删除所有")
        expect(btn).to_be_disabled()
        page.fill("#delete-all-phrase", "delete all memories")  # the other language's phrase
        expect(btn).to_be_disabled()
        page.fill("#delete-all-phrase", "删除所有记忆")
        expect(btn).to_be_enabled()
        # Switching the language changes the phrase: the typed one no longer matches.
        set_lang(page, "en")
        expect(btn).to_be_disabled()
        expect(page.locator("#delete-all-hint")).to_contain_text("delete all memories")
        page.fill("#delete-all-phrase", "delete all memories")
        expect(btn).to_be_enabled()
        btn.click()
        expect(page.locator(".toast").last).to_contain_text("All memories deleted")
        expect(btn).to_be_disabled()
        memory_tab(page, "diary")
        expect_titles(page, [])
        expect(page.locator("#diary-timeline .tl-mark")).to_have_count(0)
        memory_tab(page, "self")
        expect(page.locator("#mem-self-name")).not_to_have_value("小叶子")
        o.check_clean()


# ---------------------------------------------------------------------------
# cloud backup against a local moto S3 server


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    pytest.importorskip("moto.server")
    pytest.importorskip("boto3")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("moto server did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_cloud_backup_now_list_and_restore(
    serve, open_page, tmp_path: Path, data_dir: Path
) -> None:
    with moto_server() as endpoint:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).create_bucket(Bucket="dl-test")
        path = write_json(tmp_path / "memory.json", memory_file(DIARY))
        with serve() as url:
            o = open_page(url, height=760)
            page = o.page
            set_lang(page, "zh")
            import_file(page, path)
            memory_tab(page, "cloud")
            # Not set up yet: a clear error, in the page's words.
            page.click("#cloud-upload")
            expect(page.locator("#cloud-result")).to_have_class(re.compile(r"\bbad\b"))
            expect(page.locator("#cloud-result")).to_contain_text("云备份还没有设置：请先填写存储桶名称")
            page.fill("#f-backup-endpoint", endpoint)
            page.fill("#f-backup-region", "us-east-1")
            page.fill("#f-backup-bucket", "dl-test")
            page.click("#cloud-save")
            expect(page.locator("#cloud-save-status")).to_have_text("已保存。")
            saved = json.loads((data_dir / "settings.json").read_text(encoding="utf-8"))
            assert saved["backup"]["bucket"] == "dl-test"
            for name, value in (("s3_access_key", "test"), ("s3_secret_key", "test")):
                expect(page.locator(f"#secret-{name}-state")).to_have_text("未设置")
                page.fill(f"#secret-{name}", value)
                page.press(f"#secret-{name}", "Enter")
                expect(page.locator(f"#secret-{name}-state")).to_have_text("已设置")
                assert page.input_value(f"#secret-{name}") == ""
            page.click("#cloud-test")
            expect(page.locator("#cloud-result")).to_have_class(re.compile(r"\bok\b"))
            page.click("#cloud-upload")
            expect(page.locator("#cloud-result")).to_contain_text("已备份", timeout=60_000)
            objects = page.locator("#cloud-objects .cloud-object")
            expect(objects).to_have_count(1)
            expect(objects.first.locator(".backup-name")).to_contain_text(
                re.compile(r"memory-\d{8}T\d{6}Z\.json")
            )
            # Change the memory, then restore the cloud copy after a preview.
            memory_tab(page, "transfer")
            page.fill("#delete-all-phrase", "删除所有记忆")
            page.click("#delete-all-btn")
            expect(page.locator("#delete-all-phrase")).to_have_value("")
            memory_tab(page, "cloud")
            page.click("#cloud-list-btn")
            objects.first.locator(".cloud-preview").click()
            expect(page.locator("#cloud-preview dd[data-key='diary_entries']")).to_have_text("3")
            page.click("#cloud-restore")
            confirm(page, "备份")
            expect(page.locator("#cloud-result")).to_contain_text("已导入 3 篇日记", timeout=60_000)
            memory_tab(page, "diary")
            expect_titles(page, TITLES_NEWEST_FIRST)
            o.check_clean()


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots(serve, open_page, tmp_path: Path, lang: str) -> None:
    """Every Memory page in both themes, for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = write_json(tmp_path / "memory.json", memory_file(DIARY))
    with serve() as url:
        o = open_page(url, height=900)
        page = o.page
        set_lang(page, lang)
        import_file(page, path)
        memory_tab(page, "self")
        page.fill(
            "#mem-about-self", "我喜欢爬山，也喜欢安静地看书。I like hiking and quiet reading."
        )
        page.click("#mem-texts-save")
        expect(page.locator("#mem-history .history-item")).not_to_have_count(0)
        expect(page.locator(".toast")).to_have_count(0, timeout=10_000)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            memory_tab(page, "self")
            page.screenshot(path=str(SHOTS / f"memory-self-{lang}-{scheme}.png"), full_page=False)
            memory_tab(page, "diary")
            expect(page.locator("#diary-timeline .tl-mark")).to_have_count(3)
            item = page.locator("#diary-list .diary-item").nth(1)
            if item.locator(".diary-head").get_attribute("aria-expanded") != "true":
                item.locator(".diary-head").click()
            expect(item.locator(".arch-msg").first).to_be_visible()
            page.locator("#diary-timeline .tl-mark").nth(2).click()
            page.evaluate("document.getElementById('page-memory').scrollTop = 0")
            page.screenshot(path=str(SHOTS / f"memory-diary-{lang}-{scheme}.png"))
            page.locator("#diary-timeline-card").screenshot(
                path=str(SHOTS / f"memory-timeline-{lang}-{scheme}.png")
            )
            memory_tab(page, "transfer")
            page.set_input_files("#import-file", str(path))
            expect(page.locator("#import-preview")).to_be_visible()
            page.screenshot(path=str(SHOTS / f"memory-transfer-{lang}-{scheme}.png"))
            memory_tab(page, "cloud")
            expect(page.locator("#cloud-secrets .secret")).to_have_count(3)
            page.screenshot(path=str(SHOTS / f"memory-cloud-{lang}-{scheme}.png"))
        # The smallest window, and an error as the user sees it.
        page.set_viewport_size({"width": 800, "height": 600})
        memory_tab(page, "diary")
        expect(page.locator("#diary-timeline .tl-mark")).to_have_count(3)
        page.screenshot(path=str(SHOTS / f"memory-diary-{lang}-800x600.png"))
        memory_tab(page, "transfer")
        broken = tmp_path / "broken.json"
        broken.write_text('{"selfName": "x", "longTermMemory": 5}', encoding="utf-8")
        page.set_input_files("#import-file", str(broken))
        expect(page.locator("#import-error")).not_to_be_empty()
        page.locator("#import-card").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"memory-import-error-{lang}-800x600.png"))
        o.check_clean()
