"""One home for each fact the page and Python share (issue 15).

The ``DL_*`` variable table (``settings.ENV_SETTINGS``/``ENV_SECRETS``), the
delete-all phrases (``bridge/memory_api.DELETE_PHRASES``) and the emotion-tag
pattern (``core/emotion.TAG_PATTERN``) live in Python and reach the page through
the bridge; the sentence splitter lives only in the page
(``frontend/js/voice/speech.js``, specified by ``tests/data/speech_cases.json``).
These tests fail when a copy reappears (in the page or in another Python module)
or when a user of a fact stops deriving it from its home.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from bridge_helpers import ok
from dl_app.adapters.secrets import SecretStore
from dl_app.bridge.api import Api
from dl_app.bridge.fields import describe_settings, env_names, env_overrides
from dl_app.bridge.memory_api import DELETE_PHRASES
from dl_app.core.emotion import TAG_PATTERN, split_tag
from dl_app.settings import ENV_SECRETS, ENV_SETTINGS, PROVIDER_VARIABLE, Settings, load_settings
from where import ROOT

SRC = ROOT / "src" / "dl_app"
PAGE_FILES = [
    *sorted((ROOT / "frontend" / "js").rglob("*.js")),
    *sorted((ROOT / "frontend").glob("*.html")),
]
VARIABLES = {*ENV_SETTINGS.values(), *ENV_SECRETS.values()}


def _page_hits(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in PAGE_FILES
        for m in pattern.finditer(path.read_text(encoding="utf-8"))
    ]


# -- the page keeps no copy -------------------------------------------------------------


def test_the_page_files_are_found() -> None:
    names = {p.name for p in PAGE_FILES}
    assert {"settings.js", "setup.js", "transfer.js", "index.js", "speech.js"} <= names


def test_the_page_names_no_dl_variable() -> None:
    """settings_get's and setup_status's ``env_names`` carry them."""
    assert _page_hits(re.compile(r"\bDL_[A-Z][A-Z0-9_]*")) == []


@pytest.mark.parametrize("lang", sorted(DELETE_PHRASES))
def test_the_page_has_no_copy_of_the_delete_phrase(lang: str) -> None:
    """app_info's ``delete_phrases`` carries them; memory_delete_all checks them. The
    card's title and the button's label may read the same in Chinese: they are labels,
    not the phrase."""
    literal = re.compile(rf"^.*([\"'`]){re.escape(DELETE_PHRASES[lang])}\1.*$", re.M)
    labels = ('"transfer.deleteAll":', '"transfer.dangerTitle":')
    hits = [h for h in _page_hits(literal) if not any(k in h for k in labels)]
    assert hits == []


def test_the_page_has_no_copy_of_the_emotion_tag_pattern() -> None:
    """avatar_models' ``emotion_tag`` carries it. A copy would hold its brackets."""
    brackets = re.search(r"\[\\\[(.*?)\]", TAG_PATTERN)
    assert brackets is not None and brackets.group(1) == "【(（"
    assert _page_hits(re.compile(re.escape(brackets.group(1)))) == []


# -- Python keeps one table ----------------------------------------------------------


def test_no_other_python_module_holds_a_copy_of_the_variable_table() -> None:
    """A literal (dict, list, tuple, set) naming two or more of the variables is a copy."""
    copies = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "settings" / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                items = [*node.keys, *node.values]
            elif isinstance(node, ast.List | ast.Tuple | ast.Set):
                items = list(node.elts)
            else:
                continue
            named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in VARIABLES}
            if len(named) >= 2:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(named)}")
    assert copies == []


def _sample(path: str) -> str:
    """A valid value for the setting at ``path``, unlike its default."""
    kind = {f["path"]: f for f in describe_settings()[0]}[path]["type"]
    return "4096" if kind == "integer" else "http://127.0.0.1:9/v1-from-env"


@pytest.mark.parametrize("path", [p for p, v in ENV_SETTINGS.items() if v != PROVIDER_VARIABLE])
def test_load_settings_applies_each_variable_of_the_table(tmp_path: Path, path: str) -> None:
    value = _sample(path)
    section, key = path.split(".")
    got = getattr(getattr(load_settings(tmp_path, {ENV_SETTINGS[path]: value}), section), key)
    assert str(got) == value


def test_the_provider_variable_is_marked_but_not_written_into_settings(tmp_path: Path) -> None:
    assert PROVIDER_VARIABLE == "DL_LLM_PROVIDER"
    s = load_settings(tmp_path, {PROVIDER_VARIABLE: "demo"})
    assert s.llm.provider == Settings().llm.provider
    assert env_overrides({PROVIDER_VARIABLE: "demo"}) == ["llm.provider"]


def test_overrides_names_and_secrets_come_from_the_table(tmp_path: Path) -> None:
    every = {var: "x" for var in VARIABLES}
    assert env_overrides(every) == list(ENV_SETTINGS)
    assert env_names() == {**ENV_SETTINGS, **ENV_SECRETS}
    for name, var in ENV_SECRETS.items():
        store = SecretStore(tmp_path, env={var: "from-env"})
        assert store.from_env(name) and store.get(name) == "from-env"


# -- the bridge serves each fact from its home ------------------------------------------


def test_the_bridge_serves_the_facts(api: Api) -> None:
    # The scripted service is given by DL_LLM_BASE_URL: it decides the model source.
    names = {**ENV_SETTINGS, **ENV_SECRETS, "llm.provider": ENV_SETTINGS["llm.base_url"]}
    assert ok(api.settings_get())["env_names"] == names
    assert ok(api.setup_status())["env_names"] == names
    assert ok(api.app_info())["delete_phrases"] == DELETE_PHRASES
    tag = ok(api.avatar_models())["emotion_tag"]
    assert tag == TAG_PATTERN and re.match(tag, "[joy] Hi") and split_tag("[joy] Hi") == ("joy", "Hi")


@pytest.mark.parametrize(("env", "deciding", "provider"), [
    ({ENV_SETTINGS["llm.base_url"]: "http://127.0.0.1:9/v1"}, "DL_LLM_BASE_URL", "openai"),
    ({ENV_SETTINGS["llm.model"]: "qwen3:4b"}, "DL_LLM_MODEL", "openai"),
    ({PROVIDER_VARIABLE: "demo", ENV_SETTINGS["llm.model"]: "x"}, PROVIDER_VARIABLE, "demo"),
])
def test_a_service_given_by_variables_is_the_model_source_the_page_shows(
    data_dir: Path, env: dict[str, str], deciding: str, provider: str
) -> None:
    """The address or model in a variable decides the model source (``llm_provider``):
    Settings showed it empty, "not chosen yet", and editable."""
    bridge = Api(data_dir, env=env, emit=lambda *_: None)
    try:
        got = ok(bridge.settings_get())
        status = ok(bridge.setup_status())
        saved = ok(bridge.settings_set({"patch": {"memory": {"token_budget": 4000}}}))
    finally:
        bridge.close()
    assert got["settings"]["llm"]["provider"] == provider
    assert saved["settings"]["llm"]["provider"] == provider
    assert "llm.provider" in got["env_overrides"] and "llm.provider" in status["env_overrides"]
    assert got["env_names"]["llm.provider"] == deciding == status["env_names"]["llm.provider"]
    stored = json.loads((data_dir / "settings.json").read_text("utf-8"))
    assert stored["llm"]["provider"] is None  # shown, never written


def test_setup_status_names_the_provider_override_once(data_dir: Path) -> None:
    bridge = Api(data_dir, env={PROVIDER_VARIABLE: "demo"}, emit=lambda *_: None)
    try:
        got = ok(bridge.setup_status())
    finally:
        bridge.close()
    assert got["env_overrides"] == ["llm.provider"]
    assert got["env_names"]["llm.provider"] == PROVIDER_VARIABLE


# -- the splitter lives only in the page ------------------------------------------------


def test_no_python_sentence_splitter() -> None:
    """The page splits; test_voice_playwright checks it against the cases file."""
    defined = {
        node.name
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef | ast.FunctionDef)
    }
    assert not {"SentenceSplitter", "split_sentences"} & defined
    cases = json.loads((ROOT / "tests" / "data" / "speech_cases.json").read_text("utf-8"))
    assert cases["split"] and cases["stream"]


# -- the CJK ranges live in core/cjk.py -------------------------------------------------


def test_no_other_python_module_spells_a_cjk_range() -> None:
    """A range that starts or ends in the CJK blocks, escaped or as characters
    ("\\u4e00-\\u9fff", "一-鿿"), belongs in ``core/cjk.py``."""
    cjk_char = r"(?:\\u(?:2e8|30|31|34|4d|4e|9f|ac|d7|f9|fa|fe|ff)[0-9a-f]{1,2}|[\u2e80-\uffef])"
    spelled = re.compile(rf"{cjk_char}-{cjk_char}|\\u4e00|\\u3400", re.I)
    files = [*sorted(SRC.rglob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
    hits = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in files
        if path != SRC / "core" / "cjk.py"
        for m in spelled.finditer(path.read_text(encoding="utf-8"))
    ]
    assert hits == []
