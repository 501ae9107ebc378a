"""Prompt files, settings and the layering rules."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dl_app import prompts
from dl_app.settings import Settings, SettingsError, load_settings, save_settings
from dl_app.wiring import resolve_lang
from where import FRONTEND, SRC


def test_both_languages_have_the_same_prompts_variables_and_labels() -> None:
    zh, en = prompts.load("zh"), prompts.load("en")
    assert zh.names() == en.names()
    assert zh.label_names() == en.label_names()
    for name in zh.names():
        assert zh.variables(name) == en.variables(name), name


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_prompt_renders_and_missing_values_are_refused(lang: str) -> None:
    p = prompts.load(lang)
    for name in p.names():
        values = {v: f"<{v}>" for v in p.variables(name)}
        text = p.render(name, **values)
        assert text
        for v in values:
            assert f"<{v}>" in text
        if values:
            with pytest.raises(prompts.MissingVariables):
                p.render(name)


def test_language_follows_setting_then_locale() -> None:
    assert resolve_lang("en", {"LANG": "zh_CN.UTF-8"}) == "en"
    assert resolve_lang("auto", {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert resolve_lang("auto", {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN"}) == "en"
    assert resolve_lang("auto", {"LANG": "de_DE.UTF-8"}) == "en"


def test_settings_env_overrides_and_file_round_trip(tmp_path: Path) -> None:
    env = {
        "DL_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "DL_LLM_MODEL": "deepseek-chat",
        "DL_EMBED_BASE_URL": "http://127.0.0.1:8/v1",
        "DL_EMBED_MODEL": "bge-m3",
        "DL_EMBED_DIMENSIONS": "1024",
        "DL_TOKEN_BUDGET": "6000",
        "DL_LLM_API_KEY": "sk-secret-value",
    }
    s = load_settings(tmp_path, env)
    assert (s.llm.base_url, s.llm.model) == ("http://127.0.0.1:9/v1", "deepseek-chat")
    assert (s.embed.model, s.embed.dimensions, s.memory.token_budget) == ("bge-m3", 1024, 6000)
    save_settings(tmp_path, s)
    text = (tmp_path / "settings.json").read_text()
    assert "sk-secret-value" not in text
    assert load_settings(tmp_path, {}).memory.token_budget == 6000


def test_bad_settings_are_reported_not_crashed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="token_budget"):
        load_settings(tmp_path, {"DL_TOKEN_BUDGET": "lots"})
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match="Cannot read"):
        load_settings(tmp_path, {})


def test_every_setting_has_a_bilingual_description() -> None:
    def walk(model: type) -> None:
        for name, field in model.model_fields.items():
            assert field.description and " || " in field.description, name
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann)

    walk(Settings)


def test_domain_does_no_io() -> None:
    banned = {
        "openai",
        "httpx",
        "lancedb",
        "webview",
        "boto3",
        "keyring",
        "sqlite3",
        "requests",
        "socket",
        "subprocess",
        "os",
        "pathlib",
        "shutil",
    }
    for path in (SRC / "core").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in banned, f"{path.name} imports {n}"
        assert "open(" not in path.read_text(), f"{path.name} opens files"


def test_no_source_file_over_500_lines() -> None:
    """Python, and the page's own JS and CSS (not vendored code, not the message
    catalogues ``frontend/js/lang/*.js``, which grow with every string)."""
    page = [p for ext in ("js", "css") for p in FRONTEND.rglob(f"*.{ext}")
            if not {"vendor", "models", "lang"} & set(p.relative_to(FRONTEND).parts)]
    assert any(p.name == "chat.js" for p in page) and any(p.suffix == ".css" for p in page)
    for path in [*SRC.rglob("*.py"), *page]:
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= 500, f"{path} has {lines} lines; split it by concept"


def test_labels_are_valid_json_objects_of_strings() -> None:
    for lang in ("zh", "en"):
        data = json.loads((SRC / "prompts" / lang / "labels.json").read_text())
        assert all(isinstance(v, str) for v in data.values())
