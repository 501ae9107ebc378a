"""The terminal in Chinese (LANG=zh_CN.UTF-8): ``memory show``, an import with its
progress, a broken import and ``memory reindex`` say everything in Chinese. Any
Latin word outside the allow-list (names of formats and tools, addresses, file
names, ``dl-app`` commands, the user's own data) fails the test."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import diary_file, dl

from lang_check import latin_words


def test_the_checker_finds_english() -> None:
    assert latin_words("日记：3 篇（3 indexed）") == ["indexed"]
    assert latin_words("已导出到 /tmp/x/memory.json，见 http://127.0.0.1:9/v1 和 dl-app memory reindex") == []
    assert latin_words("Writing the diary：3/5") == ["Writing", "the", "diary"]
    assert latin_words("TA 的名字（selfName）", data=["小叶子"]) == ["selfName"]


def test_the_terminal_speaks_chinese(zh_env: dict[str, str], tmp_path: Path) -> None:
    src = diary_file(tmp_path)
    data = json.loads(src.read_text(encoding="utf-8"))
    entries = data["longTermMemory"]
    user_data = (*(e["title"] for e in entries), *(e["summary"] for e in entries), str(src))

    imported = dl("memory", "import", str(src), env=zh_env)
    assert imported.returncode == 0, imported.stderr
    assert "已导入 5 篇日记" in imported.stdout
    assert "正在为日记建索引：5/5" in imported.stderr  # the progress line

    shown = dl("memory", "show", env=zh_env)
    assert shown.returncode == 0, shown.stderr
    assert "TA 的名字：小叶子" in shown.stdout and "日记：5 篇" in shown.stdout

    reindexed = dl("memory", "reindex", "--all", env=zh_env)
    assert reindexed.returncode == 0, reindexed.stderr
    assert "正在建索引：5/5" in reindexed.stderr and "已为 5 篇日记建索引" in reindexed.stderr

    data["selfName"] = 7
    data["longTermMemory"][2]["startTime"] = "yesterday"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    refused = dl("memory", "import", str(broken), env=zh_env)
    assert refused.returncode == 1
    assert "这个文件不是有效的记忆导出文件（2 处问题）" in refused.stderr
    assert "- TA 的名字：应为文字，实际是数字 7" in refused.stderr
    assert "- 日记第 3 条的开始时间：应为毫秒数，实际是文字 'yesterday'" in refused.stderr

    empty = tmp_path / "empty.json"
    empty.write_text("  ", encoding="utf-8")
    nothing = dl("memory", "import", str(empty), env=zh_env)
    assert nothing.returncode == 1 and "文件是空的" in nothing.stderr

    for run in (imported, shown, reindexed, refused, nothing):
        said = run.stdout + run.stderr
        assert latin_words(said, (*user_data, "'yesterday'")) == [], said
