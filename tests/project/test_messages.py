"""The message catalogue (dl_app/messages/{zh,en}.json): both languages hold the
same keys with the same values to fill, the Chinese has no English words, errors
render in either language, and every settings label has Chinese words of its own."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

import dl_app.messages
from dl_app.adapters.service_errors import status_error, unreachable
from dl_app.bridge.fields import describe_settings
from dl_app.core.errors import FieldPath, ServiceUnreachable, msg
from dl_app.messages import catalogue, error_text, render
from lang_check import cjk_chars, latin_words


def _fields(template: str) -> set[str]:
    return {f for _t, f, _s, _c in string.Formatter().parse(template) if f}


def _texts(value: object) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [str(value)]


def test_both_languages_have_the_same_keys_and_values_to_fill() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert zh.keys() == en.keys()
    for key in en:
        wanted = set().union(*(_fields(t) for t in _texts(en[key])))
        for text in _texts(zh[key]):
            assert _fields(text) <= wanted | {"n", "i"}, key


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_key_is_written_twice(lang: str) -> None:
    # json keeps the last of two equal keys silently: a second sentence added
    # under a key in use would replace the first everywhere.
    twice: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _v in items]
        twice.extend(sorted({k for k in keys if keys.count(k) > 1}))
        return dict(items)

    path = Path(dl_app.messages.__file__).with_name(f"{lang}.json")
    json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)
    assert twice == []


def test_the_chinese_has_no_english_words_and_the_english_no_chinese() -> None:
    for key, value in catalogue("zh").items():
        if key.startswith(("json.", "fields.")) and key != "fields.item":
            continue  # a value's JSON name, or (in en) a field's own name
        for text in _texts(value):
            assert latin_words(text) == [], (key, text)
    for key, value in catalogue("en").items():
        for text in _texts(value):
            assert cjk_chars(text) == [], (key, text)


def test_an_error_keeps_its_type_and_says_it_in_each_language() -> None:
    err = unreachable("http://127.0.0.1:11434/v1", ConnectionRefusedError("refused"), "chat service")
    assert isinstance(err, ServiceUnreachable)
    assert str(err) == error_text(err, "en") == (
        "Cannot reach the chat service at http://127.0.0.1:11434/v1 (connection refused). "
        "Is ollama running?")
    assert error_text(err, "zh") == (
        "无法连接对话服务（http://127.0.0.1:11434/v1）：连接被拒绝。ollama 启动了吗？")
    bad_key = status_error(401, "invalid key", what="model service", base_url="http://h/v1",
                           model="m")
    assert error_text(bad_key, "zh").endswith("服务的原话：「invalid key」")
    assert str(bad_key).endswith(" The service said: invalid key")


def test_a_place_in_an_import_file_is_said_in_words() -> None:
    text = msg("import.problem", path=FieldPath("longTermMemory[2].startTime"),
               what=msg("import.no_millis"))
    assert render(text, "zh") == "- 日记第 3 条的开始时间：缺少（应为毫秒数）"
    assert render(text, "en") == "- longTermMemory[2].startTime: missing (expected a number of milliseconds)"
    odd = msg("import.problem", path=FieldPath("top level, field name 'x'"), what="?")
    assert render(odd, "zh") == "- top level, field name 'x'：?"  # unknown: as written


@pytest.mark.parametrize("n", [1, 3])
def test_counts_choose_the_english_form(n: int) -> None:
    said = render(msg("import.invalid", n=n, problems=[]), "en")
    assert said.startswith(f"This file is not a valid memory export ({n} problem{'s' if n > 1 else ''}):")


def test_every_settings_label_has_its_own_chinese_words() -> None:
    fields, *_rest = describe_settings()
    for field in fields:
        zh = field["label"]["zh"]
        assert (latin_words(zh) == [] and zh != field["label"]["en"]) or field["path"] in (
            "language",), (field["path"], zh)
