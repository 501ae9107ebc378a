"""argparse's frame in the terminal's language (``cli/args.py``): ``--help`` of
the commands, an unknown command or option, a missing or bad argument. In a
Chinese terminal the only Latin words are the names of commands and options
(and what the user typed); in an English one the words are argparse's own."""

from __future__ import annotations

import argparse
import re
import unicodedata

import pytest

from dl_app.cli.args import translate_error
from dl_app.cli.main import main
from lang_check import latin_words

COMMANDS = ("window", "chat", "memory", "serve", "show", "consolidate", "export", "import",
            "search", "reindex", "backup", "backups", "restore")
OPTION = re.compile(r"(?<![\w-])--?[a-z][a-z-]*")


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lang: str,
         *argv: str) -> tuple[int, str]:
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out + out.err


def _latin(text: str, *typed: str) -> list[str]:
    return latin_words(OPTION.sub(" ", text), typed, allowed=COMMANDS)


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


HELPS = [("--help",), ("memory", "--help"), ("memory", "search", "--help"),
         ("window", "--help"), ("serve", "--help"), ("memory", "restore", "--help")]


@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_help_is_chinese_in_a_chinese_terminal(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               argv: tuple[str, ...]) -> None:
    code, text = _run(monkeypatch, capsys, "zh_CN.UTF-8", *argv)
    assert code == 0
    assert text.startswith("用法：dl-app") and "选项：" in text and "显示这份帮助并退出" in text
    assert _latin(text) == [], text
    # the help texts start in one column, as the terminal shows it
    rows = [r for r in text.splitlines() if re.match(r"  -", r) and re.search(r"\S  +\S", r)]
    starts = {_columns(r[:re.search(r"\S  +(?=\S)", r).end()]) for r in rows}  # type: ignore[union-attr]
    assert len(rows) >= 1 and len(starts) == 1, text


def test_the_search_help_names_its_values_in_chinese(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _code, text = _run(monkeypatch, capsys, "zh_CN.UTF-8", "memory", "search", "--help")
    assert "[-k 篇数]" in text and "搜索词" in text and "位置参数：" in text
    _code, text = _run(monkeypatch, capsys, "C.UTF-8", "memory", "search", "--help")
    assert text.startswith("usage: dl-app memory search [-h] [-k K] [--budget TOKENS]")
    assert "positional arguments:" in text and "show this help message and exit" in text
    assert "\noptions:\n" in text


MISTAKES = [
    (("bogus",), "参数 子命令：没有「bogus」这一项（可选：window, chat, memory, serve）",
     "argument command: invalid choice: 'bogus' (choose from window, chat, memory, serve)"),
    (("--nope",), "不认识这些参数：--nope", "unrecognized arguments: --nope"),
    (("memory",), "缺少这些参数：子命令", "the following arguments are required: command"),
    (("memory", "export"), "缺少这些参数：路径", "the following arguments are required: path"),
    (("memory", "search", "q", "-k", "many"), "参数 -k：「many」不是有效的整数",
     "argument -k: invalid int value: 'many'"),
    (("memory", "show", "--json=yes"), "参数 --json：这个选项不带值（多了「yes」）",
     "argument --json: ignored explicit argument 'yes'"),
    (("memory", "search", "q", "-k"), "参数 -k：需要一个值", "argument -k: expected one argument"),
]


@pytest.mark.parametrize(("argv", "zh", "en"), MISTAKES, ids=[" ".join(m[0]) for m in MISTAKES])
def test_a_mistake_is_said_in_the_terminals_language(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str],
                                                     argv: tuple[str, ...], zh: str,
                                                     en: str) -> None:
    code, text = _run(monkeypatch, capsys, "zh_CN.UTF-8", *argv)
    assert code == 2 and text.startswith("用法：dl-app")
    assert re.search(r"^dl-app[a-z ]*：错误：" + re.escape(zh) + "$", text, re.M), text
    assert _latin(text, "bogus", "many", "yes") == [], text
    code, text = _run(monkeypatch, capsys, "C.UTF-8", *argv)
    assert code == 2 and text.startswith("usage: dl-app")
    assert re.search(r"^dl-app[a-z ]*: error: " + re.escape(en) + "$", text, re.M), text


def test_every_message_id_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse's own message ids, filled in as argparse fills them, each become
    Chinese; one argparse says and this module does not know stays as it is."""
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    said = {
        "argument -k: expected at most one argument": "参数 -k：最多一个值",
        "argument -k: expected at least one argument": "参数 -k：至少需要一个值",
        "argument --x: invalid float value: 'soon'": "参数 --x：「soon」不是有效的数字",
        "ambiguous option: --b could match --budget, --backup":
            "选项 --b 有歧义，可能是：--budget, --backup",
        "argument --a: not allowed with argument --b": "参数 --a：不能和参数 --b 一起用",
        "invalid choice: 'x' (choose from 'a', 'b')": "没有「x」这一项（可选：a, b）",
        "something argparse says one day": "something argparse says one day",
    }
    for english, chinese in said.items():
        assert translate_error(english) == chinese


def test_the_parser_is_still_argparse() -> None:
    from dl_app.cli.main import parser

    ap = parser()
    assert isinstance(ap, argparse.ArgumentParser)
    assert ap.parse_args(["memory", "search", "泰山", "-k", "3"]).k == 3
