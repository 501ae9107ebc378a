"""argparse in the terminal's language: ``Parser`` says its frame ("usage:",
the section titles, ``-h``'s help, the error line and argparse's own error
messages) with the catalogue's ``cli.args.*`` words.

argparse builds those words with ``gettext`` inside its own module; rather than
patch that, ``Parser`` and its ``Formatter`` translate at the edges: the usage
prefix and the section titles where the help is formatted, and an error message
by matching it against argparse's message ids (``_ERRORS``). A message that
matches none (a newer Python's new wording) stays as argparse said it.

    ap = Parser(prog="dl-app", description=say("cli.help.app"))
    ap.add_argument("path", metavar=say("cli.arg.path"))
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from typing import Any, NoReturn

from ..core.cjk import WIDE_FROM
from .progress import say

__all__ = ["Formatter", "Parser", "translate_error"]

# argparse's words in help output (its gettext ids) -> catalogue keys.
_WORDS = {
    "positional arguments": "cli.args.positional",
    "options": "cli.args.options",
    "optional arguments": "cli.args.options",  # Python before 3.10
    "show this help message and exit": "cli.args.help",
    "show program's version number and exit": "cli.args.version",
}

# argparse's error messages (its gettext ids) -> catalogue keys. ``%(name)s`` and
# ``%s`` become the values of the same name (``%s``: ``names``), ``%r`` ones are
# given without their quotes.
_ERRORS = [
    ("argument %(argument_name)s: %(message)s", "cli.args.argument"),
    ("the following arguments are required: %s", "cli.args.required"),
    ("unrecognized arguments: %s", "cli.args.unrecognized"),
    ("invalid choice: %(value)r (choose from %(choices)s)", "cli.args.choice"),
    ("invalid %(type)s value: %(value)r", "cli.args.invalid_value"),
    ("expected one argument", "cli.args.expected_one"),
    ("expected at most one argument", "cli.args.expected_at_most_one"),
    ("expected at least one argument", "cli.args.expected_at_least_one"),
    ("ignored explicit argument %r", "cli.args.ignored"),
    ("ambiguous option: %(option)s could match %(matches)s", "cli.args.ambiguous"),
    ("not allowed with argument %s", "cli.args.not_allowed"),
]
_TYPES = {"int": "cli.args.type_int", "float": "cli.args.type_float"}


def _pattern(msgid: str) -> re.Pattern[str]:
    out = []
    for part in re.split(r"(%\(\w+\)[sr]|%[sr])", msgid):
        m = re.fullmatch(r"%(?:\((\w+)\))?([sr])", part)
        if m is None:
            out.append(re.escape(part))
        elif m.group(2) == "r":
            out.append(rf"['\"](?P<{m.group(1) or 'value'}>.*?)['\"]")
        else:
            out.append(rf"(?P<{m.group(1) or 'names'}>.*?)")
    return re.compile("".join(out), re.S)


_COMPILED = [(_pattern(msgid), key) for msgid, key in _ERRORS]


def translate_error(message: str, names: dict[str, str] | None = None) -> str:
    """argparse's error ``message`` in the terminal's language (as it is if
    argparse said something this module does not know). ``names``: words for
    the names of arguments without one (a subcommand's ``dest``)."""
    names = names or {}
    for pattern, key in _COMPILED:
        m = pattern.fullmatch(message)
        if m is None:
            continue
        values = m.groupdict()
        if "message" in values:  # "argument --port: <what argparse or our type said>"
            values["message"] = translate_error(values["message"], names)
        if "argument_name" in values:
            values["argument_name"] = names.get(values["argument_name"],
                                                values["argument_name"])
        if "names" in values:
            values["names"] = ", ".join(names.get(n, n) for n in values["names"].split(", "))
        if "choices" in values:
            values["choices"] = ", ".join(c.strip("'\"") for c in values["choices"].split(", "))
        if "type" in values and values["type"] in _TYPES:
            values["type"] = say(_TYPES[values["type"]])
        return say(key, **values)
    return message


def _wide(text: str) -> int:
    """How many more columns ``text`` takes than characters (CJK: two each)."""
    return sum(unicodedata.east_asian_width(c) in "WF" for c in text)


def _lines(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns (CJK characters count two)."""
    lines, line = [], ""
    for token in re.findall(rf"\s+|[^\s{WIDE_FROM}-\uffff]+|.", text.strip()):
        if line and len(line) + _wide(line) + len(token) + _wide(token) > width:
            lines.append(line.rstrip())
            line = ""
        if line or not token.isspace():
            line += " " if token.isspace() else token
    return [*lines, line.rstrip()] if line.strip() else lines


class Formatter(argparse.HelpFormatter):
    """Help in the terminal's language: the usage prefix, section titles and
    argparse's own option help (``-h``, ``--version``); columns counted as a
    terminal shows them (a CJK character takes two)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return _lines(text, width) if _wide(text) else super()._split_lines(text, width)

    def _format_usage(self, *args: Any) -> str:
        text = super()._format_usage(*args)
        first, *rest = text.split("\n")
        shift = " " * _wide(first[:first.find("dl-app")] if "dl-app" in first else "")
        return "\n".join([first, *(shift + r if r.startswith(" ") else r for r in rest)])

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:
            shown = self._format_action_invocation(action)
            self._action_max_length = max(self._action_max_length,
                                          len(shown) + _wide(shown) + self._current_indent)

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        extra = _wide(self._format_action_invocation(action))
        first, sep, rest = text.partition("\n")
        m = re.match(r"(\s*\S.*?)( {2,})(\S.*)?$", first)
        if extra and m and m.group(3) and len(m.group(2)) - extra >= 2:
            first = m.group(1) + m.group(2)[extra:] + m.group(3)
        return first + sep + rest

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, say("cli.args.usage") if prefix is None
                          else prefix)

    def start_section(self, heading: str | None) -> None:
        super().start_section(say(_WORDS[heading]) if heading in _WORDS else heading)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        return say(_WORDS[text]) if text in _WORDS else text


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose frame and errors are in the terminal's language
    (subparsers are ``Parser``s too: argparse makes them of the parent's class)."""

    def __init__(self, *args: Any, names: dict[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self.names = names or {}

    def format_help(self) -> str:
        text = super().format_help()
        for key in ("cli.args.positional", "cli.args.options"):
            title = say(key)
            text = text.replace(f"\n{title}:\n", "\n" + say("cli.args.section", title=title) + "\n")
        return text

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, say("cli.args.error", prog=self.prog,
                         message=translate_error(message, self.names)) + "\n")
