"""Prompt files (``<lang>/<name>.md``) and labels, rendered with ``string.Template``.

Loading is I/O on package data only, done once per language and cached; the
domain receives a ``PromptSet`` and renders without touching files. Missing
variables raise ``MissingVariables`` (a prompt never goes out half-filled).
Volatile values (dates, names) are passed in at render time.
"""

from __future__ import annotations

import json
import string
from functools import cache
from importlib import resources
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class MissingVariables(KeyError):
    """A prompt was rendered without all its ``$variables``."""


class PromptSet:
    """All prompt templates and labels of one language."""

    def __init__(self, lang: Lang, templates: dict[str, str], labels: dict[str, str]) -> None:
        self.lang = lang
        self._templates = templates
        self._labels = labels

    def names(self) -> list[str]:
        return sorted(self._templates)

    def label_names(self) -> list[str]:
        return sorted(self._labels)

    def render(self, name: str, /, **values: object) -> str:
        return _render(self._templates[name], f"{self.lang}/{name}.md", values)

    def label(self, name: str, /, **values: object) -> str:
        return _render(self._labels[name], f"{self.lang}/labels.json:{name}", values)

    def source(self, name: str) -> str:
        """The template ``name`` as written, ``$variables`` unfilled."""
        return self._templates[name]

    def label_source(self, name: str) -> str:
        return self._labels[name]

    def variables(self, name: str) -> set[str]:
        return _variables(self._templates[name])


def _variables(text: str) -> set[str]:
    found: set[str] = set()
    for match in string.Template.pattern.finditer(text):
        var = match.group("named") or match.group("braced")
        if var:
            found.add(var)
    return found


def _render(text: str, where: str, values: dict[str, object]) -> str:
    missing = _variables(text) - values.keys()
    if missing:
        raise MissingVariables(f"{where}: missing {', '.join(sorted(missing))}")
    return string.Template(text).substitute({k: str(v) for k, v in values.items()}).strip()


@cache
def load(lang: Lang) -> PromptSet:
    """The prompts of ``lang`` from package data."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    root = resources.files(__name__).joinpath(lang)
    templates = {
        entry.name[:-3]: entry.read_text(encoding="utf-8")
        for entry in root.iterdir()
        if entry.name.endswith(".md")
    }
    labels = json.loads(root.joinpath("labels.json").read_text(encoding="utf-8"))
    return PromptSet(lang, templates, labels)
