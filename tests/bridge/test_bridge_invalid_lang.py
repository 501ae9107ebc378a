"""Parameters and settings the bridge refuses are said in the app's language
(``bridge/problems.py``): the message and each field's message, Chinese with
no English words but the names of fields and values, English with no Chinese."""

from __future__ import annotations

from typing import Any

import pytest

from bridge_helpers import ok
from dl_app.adapters.secrets import SECRET_NAMES
from dl_app.bridge import Api
from lang_check import cjk_chars, latin_words

# method, params, the field, its Chinese words, its English words
CASES: list[tuple[str, Any, str, str, str]] = [
    ("chat_send", {}, "text", "消息是空的", "the message is empty"),
    ("chat_send", {"text": "   "}, "text", "消息是空的", "the message is empty"),
    ("chat_send", {"text": "hi", "extra": 1}, "extra", "没有这个参数", "unknown parameter"),
    ("chat_send", {"text": "hi", "images": [{"mime": "image/png", "data_base64": "aQ=="}] * 5},
     "images", "最多 4 项", "at most 4 items"),
    ("chat_send", {"text": "hi", "images": [{"data_base64": "aQ=="}]}, "images.0.mime",
     "必须填写", "required"),
    ("chat_send", {"text": "hi", "images": ["x"]}, "images.0", "应为一个对象", "expected an object"),
    ("secret_set", {"name": "openai", "value": "x"}, "name", "没有这个密钥名，只能是",
     "unknown secret; expected one of llm_api_key, "),
    ("secret_set", {"name": "llm_api_key", "value": ""}, "value", "不能为空", "must not be empty"),
    ("test_connection", {"kind": "tts"}, "kind", "只能是 llm / embed 之一，实际是「tts」",
     "must be one of llm / embed, got tts"),
    ("index_rebuild", {"all": "maybe"}, "all", "应为「true」或「false」，实际是「maybe」",
     "expected true or false, got maybe"),
    ("settings_set", {"patch": {"memory": {"token_budget": 10}}}, "memory.token_budget",
     "不能小于 1500，实际是 10", "must be at least 1500, got 10"),
    ("settings_set", {"patch": {"llm": {"colour": "red"}}}, "llm.colour", "没有这项设置",
     "unknown setting"),
    ("settings_set", {"patch": {"llm": {"temperature": "x" * 5000}}}, "llm.temperature",
     "应为数字，实际是「xxx", "expected a number, got xxx"),
]


def _refused(api: Api, lang: str, method: str, params: Any) -> dict[str, Any]:
    ok(api.settings_set({"patch": {"language": lang}}))
    res = getattr(api, method)(params)
    assert res["ok"] is False and res["error"]["type"] == "InvalidInput", res
    return res["error"]


@pytest.mark.parametrize(("method", "params", "path", "zh", "en"), CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_refused_parameter_is_said_in_the_apps_language(
    api: Api, method: str, params: Any, path: str, zh: str, en: str
) -> None:
    error = _refused(api, "zh", method, params)
    field = next(f for f in error["fields"] if f["path"] == path)
    assert field["message"].startswith(zh), field
    assert f"「{path}」：{zh}" in error["message"], error
    assert error["message"].startswith("设置无效：" if method == "settings_set" else "参数无效：")
    assert latin_words(error["message"], ["maybe", "tts", "llm", "embed", *SECRET_NAMES]) == [], error["message"]
    assert len(error["message"]) < 300  # a long value is cut, not repeated whole

    error = _refused(api, "en", method, params)
    field = next(f for f in error["fields"] if f["path"] == path)
    assert field["message"].startswith(en), field
    assert f"{path}: {en}" in error["message"], error
    assert error["message"].startswith(
        "Invalid settings: " if method == "settings_set" else "Invalid parameters: ")
    assert cjk_chars(error["message"]) == [], error["message"]


def test_every_problem_is_listed_and_a_non_object_is_said_too(api: Api) -> None:
    patch = {"memory": {"token_budget": 10}, "llm": {"colour": 1}}
    zh = _refused(api, "zh", "settings_set", {"patch": patch})
    assert zh["message"] == ("设置无效：「llm.colour」：没有这项设置；"
                             "「memory.token_budget」：不能小于 1500，实际是 10")
    assert _refused(api, "zh", "chat_send", "hello")["message"] == "参数必须是一个 JSON 对象。"
    en = _refused(api, "en", "settings_set", {"patch": patch})
    assert en["message"] == ("Invalid settings: llm.colour: unknown setting; "
                             "memory.token_budget: must be at least 1500, got 10")
    assert _refused(api, "en", "chat_send", "hello")["message"] == (
        "The parameters must be a JSON object.")
