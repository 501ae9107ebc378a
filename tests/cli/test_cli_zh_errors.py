"""The terminal's errors in Chinese (LANG=zh_CN.UTF-8): unreadable files, broken
settings, a data dir from a newer app, an export that cannot be written, cloud
backup not set up, a bad search, a window without a display, a model that
breaks off or answers nothing, a bad port. Each
says what happened in Chinese; a Latin word outside the allow-list (formats,
addresses, paths and file names, ``dl-app`` commands, what the OS or a service
said word for word) fails the test."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_cli import dl

from lang_check import latin_words
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply


def _said(run: object, *data: str) -> list[str]:
    text = run.stdout + run.stderr  # type: ignore[attr-defined]
    return latin_words(text, data, allowed=("DL",))


def test_file_and_settings_errors_are_said_in_chinese(zh_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    data = Path(zh_env["DL_DATA_DIR"])
    runs = []

    missing = dl("memory", "import", str(tmp_path / "nowhere" / "memory.json"), env=zh_env)
    assert missing.returncode == 1
    assert "无法读取" in missing.stderr and "文件或文件夹不存在" in missing.stderr
    runs.append(missing)

    folder = dl("memory", "import", str(tmp_path), env=zh_env)
    assert folder.returncode == 1 and "这是文件夹，不是文件" in folder.stderr
    runs.append(folder)

    blocker = tmp_path / "notes.txt"
    blocker.write_text("x", encoding="utf-8")
    unwritable = dl("memory", "export", str(blocker / "memory.json"), env=zh_env)
    assert unwritable.returncode == 1 and "Traceback" not in unwritable.stderr
    assert "无法写入" in unwritable.stderr
    runs.append(unwritable)

    not_set_up = dl("memory", "backup", env=zh_env)
    assert not_set_up.returncode == 1 and "云备份还没有设置" in not_set_up.stderr
    runs.append(not_set_up)

    settings = data / "settings.json"
    settings.write_text("{not json", encoding="utf-8")
    broken = dl("memory", "show", env=zh_env)
    assert broken.returncode == 1
    assert "无法读取设置文件" in broken.stderr and "第 1 行第 2 列" in broken.stderr
    runs.append(broken)

    settings.write_text('{"llm": 5}', encoding="utf-8")
    section = dl("memory", "show", env=zh_env)
    assert section.returncode == 1 and "「llm」应该是一个对象" in section.stderr
    runs.append(section)

    settings.write_text(json.dumps({"llm": {"temperature": "hot", "colour": 1}}), encoding="utf-8")
    invalid = dl("memory", "show", env=zh_env)
    assert invalid.returncode == 1 and "设置无效" in invalid.stderr
    assert "「llm.temperature」：应为数字，实际是「hot」" in invalid.stderr
    assert "「llm.colour」：没有这项设置" in invalid.stderr
    runs.append(invalid)
    settings.unlink()

    bad_k = dl("memory", "search", "泰山", "-k", "0", env=zh_env)
    assert bad_k.returncode == 2 and "「-k」至少是 1" in bad_k.stderr
    runs.append(bad_k)

    no_display = {k: v for k, v in zh_env.items()
                  if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    window = dl("window", env=no_display)
    assert window.returncode == 1
    assert "窗口在这里打不开：没有显示器" in window.stderr and "dl-app chat" in window.stderr
    runs.append(window)

    (data / "format.json").write_text('{"format": 99, "written_by": "9.9"}', encoding="utf-8")
    too_new = dl("memory", "show", env=zh_env)
    assert too_new.returncode == 1
    assert "更新版本的数字生命" in too_new.stderr and "第 99 版" in too_new.stderr
    runs.append(too_new)

    for run in runs:
        assert _said(run, str(tmp_path), "'hot'", "9.9") == [], run.stderr


def test_a_model_that_fails_is_said_in_chinese(zh_env: dict[str, str],
                                               openai_server: OpenAICompatServer) -> None:
    zh_env["DL_LLM_BASE_URL"] = openai_server.base_url
    zh_env["DL_EMBED_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens
    zh_env["DL_EMBED_MODEL"] = "e"
    openai_server.enqueue(ChatReply(content=""))
    empty = dl("chat", env=zh_env, stdin="你好\n")
    assert empty.returncode == 1 and "回了一条空回复" in empty.stderr
    assert openai_server.pending == 0
    assert "无法连接嵌入服务" in empty.stderr  # the embedding service being down, too

    event = {"choices": [{"index": 0, "delta": {"content": "半句"}, "finish_reason": None}]}
    cut = ChatReply(raw=f"data: {json.dumps(event)}\n\n".encode(), content_type="text/event-stream")
    openai_server.enqueue(cut, cut)
    broke = dl("chat", env=zh_env, stdin="你好\n")
    assert broke.returncode == 1 and "回复中途断了" in broke.stderr

    for run in (empty, broke):
        assert _said(run, openai_server.base_url, "半句") == [], run.stderr


def test_a_bad_port_is_said_in_chinese(zh_env: dict[str, str]) -> None:
    out = dl("serve", "--port", "99999", "--no-browser", env=zh_env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "「99999」不是端口号（0 到 65535）" in out.stderr
    # argparse's own frame is Chinese too (cli/args.py): only option names stay
    assert out.stderr.startswith("用法：dl-app serve")
    assert "dl-app serve：错误：参数 --port：「99999」" in out.stderr
    assert latin_words(re.sub(r"(?<![\w-])--?[a-z][a-z-]*", " ", out.stderr)) == [], out.stderr
