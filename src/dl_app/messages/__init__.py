"""The message catalogue: every sentence a person reads from Python (errors,
connection tests, import problems, CLI output), one JSON file per language
(``zh.json``, ``en.json``), keyed, with ``{named}`` values (``str.format``;
``{n:,}`` works). A value that depends on a count is ``{"one": ..., "other": ...}``,
chosen by the value ``n``.

    from dl_app.core.errors import ServiceUnreachable, msg   # (re-exported there)
    raise ServiceUnreachable(msg("service.unreachable", what=msg("what.chat"), ...))
    error_text(err, "zh")   # the words for people, in the app's language
    say("zh", "cli.progress", task="diary", done=3, total=5)

Values are rendered in the same language: a ``Text`` by its key, an error by its
``Text`` (``error_text``), a list of them one per line, a ``FieldPath`` (a place
in an import file) in words
(``fields.*`` keys: ``longTermMemory[2].startTime`` -> 日记第 3 条的开始时间; in
English the path stays as written, the names of the file format). A value
named ``url`` (or ``root``, ``base_url``, ``endpoint``) is shown without its
password or query values (``shown_url``): a key may be written there.
"""

from __future__ import annotations

import errno
import json
import locale
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "LANGS", "FieldPath", "Text", "catalogue", "error_text", "lang_of", "locale_lang", "msg",
    "os_reason",
    "render", "resolve_lang", "say", "shown_url",
]

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Text:
    """Words for people, in no language yet: a catalogue key and its values.
    A value may be a ``Text``, a list of them (one per line) or a ``FieldPath``."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self, "en")


def msg(key: str, /, **params: Any) -> Text:
    """``Text(key, params)``, shorter."""
    return Text(key, params)


class FieldPath(str):
    """A place in an import file (``longTermMemory[2].startTime``), said in words."""

_FORMATTER = string.Formatter()
_URL_VALUES = frozenset({"url", "root", "base_url", "endpoint"})  # shown with ``shown_url``
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The messages of ``lang`` (``zh`` or ``en``; anything else is English)."""
    name = "zh.json" if lang == "zh" else "en.json"
    data: dict[str, Any] = json.loads(
        resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    )
    return data


def lang_of(value: str | None) -> str:
    return "zh" if value == "zh" else "en"


def locale_lang(env: Mapping[str, str] | None = None) -> str:
    """The language of the system locale: ``zh`` for zh_*, else ``en``
    (LC_ALL, LC_MESSAGES, LANG, LANGUAGE, then Python's locale). Light: the
    command line asks it before it imports anything else."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "zh" if code.lower().startswith("zh") else "en"


def resolve_lang(setting: str, env: Mapping[str, str] | None = None) -> str:
    """``zh`` or ``en``: the language setting, or for any other value ("auto") the
    system locale's (zh for zh_*)."""
    return setting if setting in LANGS else locale_lang(env)


def shown_url(url: str) -> str:
    """``url`` as shown to people: a password in it and the values of its query
    (``?key=...``: some services take the API key there) masked as ``***``."""
    if "@" not in url and "?" not in url:
        return url
    head, _, query = url.partition("?")
    scheme, sep, rest = head.rpartition("://")
    auth, at, host = rest.rpartition("@")
    if at:
        user = auth.partition(":")[0]
        head = f"{scheme}{sep}{user}{':***' if ':' in auth else ''}@{host}"
    if query:
        pairs = [p.partition("=") for p in query.split("&")]
        query = "&".join(f"{k}={'***' if v else ''}" if eq else k for k, eq, v in pairs)
        return f"{head}?{query}"
    return head


def _value(value: Any, lang: str, name: str = "") -> Any:
    if name in _URL_VALUES and isinstance(value, str):
        return shown_url(value)
    if isinstance(value, Text):
        return render(value, lang)
    if isinstance(value, BaseException):  # an error as a value: its words in ``lang``
        return error_text(value, lang)
    if isinstance(value, FieldPath):
        return _path(value, lang)
    if isinstance(value, list | tuple):
        return "\n".join(str(_value(v, lang)) for v in value)
    return value


def render(text: Text | str, lang: str) -> str:
    """``text`` in ``lang``; a plain string as it is."""
    if not isinstance(text, Text):
        return str(text)
    lang = lang_of(lang)
    template = catalogue(lang).get(text.key)
    if template is None:
        template = catalogue("en")[text.key]  # KeyError: a key missing everywhere is a bug
    if isinstance(template, Mapping):
        template = template["one" if text.params.get("n") == 1 else "other"]
    values = {k: _value(v, lang, k) for k, v in text.params.items()}
    return _FORMATTER.vformat(template, (), values)


def say(lang: str, key: str, /, **params: Any) -> str:
    return render(Text(key, params), lang)


def error_text(error: BaseException, lang: str) -> str:
    """What to tell a person about ``error``, in ``lang``."""
    text = getattr(error, "text", None)
    if isinstance(text, Text):
        return render(text, lang)
    return str(error)


_OS_REASONS = {
    errno.ENOENT: "os.not_found", errno.EACCES: "os.denied", errno.EPERM: "os.denied",
    errno.ENOSPC: "os.disk_full", errno.EROFS: "os.read_only", errno.EISDIR: "os.is_folder",
    errno.ENOTDIR: "os.not_folder",
    errno.EEXIST: "os.exists",
}


def os_reason(error: BaseException) -> Text | str:
    """Why a file could not be read or written, in words: the common OS errors
    (missing, permission, disk full, ...) from the catalogue; others as the OS says."""
    if isinstance(error, OSError) and error.errno in _OS_REASONS:
        return Text(_OS_REASONS[error.errno])
    if isinstance(error, json.JSONDecodeError):
        return Text("os.not_json", {"line": error.lineno, "col": error.colno})
    return getattr(error, "strerror", None) or str(error)


def _path(path: str, lang: str) -> str:
    """A place in an import file in words: its fields named by ``fields.<name>``,
    an index as ``fields.item``; a path with an unknown name stays as written."""
    table = catalogue(lang_of(lang))
    words: list[str] = []
    for name, index in _SEGMENT.findall(path):
        if index:
            if not words:
                return path
            words[-1] = table["fields.item"].format(what=words[-1], i=int(index), n=int(index) + 1)
            continue
        word = table.get(f"fields.{name}")
        if word is None:
            return path
        words.append(word)
    return table["fields.join"].join(words) if words else path
