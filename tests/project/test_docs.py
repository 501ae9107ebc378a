"""The docs cover the public surface: every bridge method, every ``dl-app`` command
and option, every ``DL_*`` variable the code reads (as datasette's test_docs.py).

Each list is collected from the code, never written out here: the bridge methods
from the registry (the names ``Api`` exposes), the commands from the argparse
parser, the variables from the string literals under ``src/``. A method or a
variable needs a row of its own in a table of ``docs/*.md`` or ``README.md``
(``| `name` | ...``); a command needs ``dl-app <command>`` in the docs, and each of
its options must be on a line that names the command.
"""

from __future__ import annotations

import argparse
import ast
import re

import pytest

from dl_app.bridge.api import API_METHODS
from dl_app.cli.main import parser
from where import ROOT

SRC = ROOT / "src" / "dl_app"
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS = "\n".join(path.read_text(encoding="utf-8") for path in DOC_FILES)
DL_VAR = re.compile(r"\bDL_[A-Z][A-Z0-9_]*\b")


def _has_table_row(name: str) -> bool:
    """``name`` starts a row of a markdown table (its first cell, in backticks)."""
    return re.search(rf"^\|\s*`{re.escape(name)}`\s*\|", DOCS, re.MULTILINE) is not None


# -- the bridge ------------------------------------------------------------------


def test_bridge_methods_are_collected() -> None:
    assert {"chat_send", "settings_get", "diary_list", "voice_speak"} <= set(API_METHODS)


@pytest.mark.parametrize("name", API_METHODS)
def test_bridge_method_documented(name: str) -> None:
    assert _has_table_row(name), f"bridge method {name} has no table row in docs/ or README.md"


# -- the command line --------------------------------------------------------------


def _commands(
    ap: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], list[str]]]:
    """``(command path, visible option strings)`` for the parser and every subcommand."""
    options: list[str] = []
    out: list[tuple[tuple[str, ...], list[str]]] = []
    for action in ap._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _commands(sub, (*path, name))
        elif (
            action.option_strings
            and action.help is not argparse.SUPPRESS
            and not isinstance(action, argparse._HelpAction)  # -h/--help: every command
        ):
            options += action.option_strings
    return [(path, options), *out]


COMMANDS = _commands(parser())


def test_commands_are_collected() -> None:
    paths = {path for path, _ in COMMANDS}
    assert {("chat",), ("serve",), ("memory", "search"), ("memory", "restore")} <= paths


@pytest.mark.parametrize(
    ("path", "options"), COMMANDS, ids=[" ".join(p) or "dl-app" for p, _ in COMMANDS]
)
def test_command_documented(path: tuple[str, ...], options: list[str]) -> None:
    command = " ".join(("dl-app", *path))
    named = re.compile(rf"{re.escape(command)}(?![\w-])")
    assert named.search(DOCS), f"`{command}` is not in docs/ or README.md"
    lines = [line for line in DOCS.splitlines() if named.search(line)]
    for option in options:
        pattern = re.compile(rf"(?<![\w-]){re.escape(option)}(?![\w-])")
        assert any(pattern.search(line) for line in lines), (
            f"option {option} of `{command}` is on no line of docs/ or README.md naming it"
        )


# -- DL_* variables ------------------------------------------------------------------


def _variables() -> list[str]:
    """Every ``DL_*`` name in a string literal under src/ (docstrings included)."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.update(DL_VAR.findall(node.value))
    return sorted(found)


VARIABLES = _variables()


def test_variables_are_collected() -> None:
    assert {"DL_DATA_DIR", "DL_LLM_BASE_URL", "DL_LLM_API_KEY"} <= set(VARIABLES)


@pytest.mark.parametrize("name", VARIABLES)
def test_variable_documented(name: str) -> None:
    assert _has_table_row(name), f"{name} has no row in a variable table (README.md or docs/)"
