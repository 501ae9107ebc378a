"""Write the upgrade fixture: a data dir as a user of this version leaves it.

    .venv/bin/python tests/data/upgrade/make_fixture.py tests/data/upgrade/v0.1.0

Run once per storage format, with the version that wrote it, and commit the
result; tests/library/test_upgrade.py opens every fixture here with the current code.
It talks through the real bridge to the scripted model (tests/servers), with
the built-in embedder (real vectors): two conversations become diary entries
(archived messages, vectors), a third stays open; settings are changed and an
API key is stored (in <data dir>/secrets.json, the store without an OS keyring).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS))

from bridge_helpers import Events  # noqa: E402
from dl_app import __version__  # noqa: E402
from dl_app.bridge import Api  # noqa: E402
from dl_app.memory import Memory  # noqa: E402
from servers.companion import companion_responder  # noqa: E402
from servers.openai_compat import OpenAICompatServer  # noqa: E402

KEY = "sk-upgrade-fixture-7f3a9c2e"
CONVERSATIONS = [
    ["你好！我叫林晓，在杭州做设计师。", "我养了一只橘猫，叫豆包。"],
    ["上周我去了黄山，看到了日出。", "下个月我要参加一个设计比赛。"],
]
STILL_OPEN = ["今天有点累，想早点休息。"]


def main(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    with OpenAICompatServer() as server:
        server.default_responder = companion_responder
        env = {k: v for k, v in os.environ.items() if not k.startswith("DL_")}
        env.update(DL_LLM_BASE_URL=server.base_url, LANG="zh_CN.UTF-8")
        api = Api(out, env=env, emit=Events())
        try:
            for name, value in (("llm_api_key", KEY),):
                assert api.secret_set({"name": name, "value": value})["ok"]
            patch = {"llm": {"model": "qwen-fixture"}, "memory": {"token_budget": 4000}}
            assert api.settings_set({"patch": patch})["ok"]
            for turns in CONVERSATIONS:
                for text in turns:
                    assert api.chat_send({"text": text})["ok"]
                assert api.memory_consolidate({})["entry"]
            for text in STILL_OPEN:
                assert api.chat_send({"text": text})["ok"]
            assert api.index_status({})["indexed"] == len(CONVERSATIONS)
        finally:
            api.close()
        # What a later version must find: the whole memory as exported, and recall.
        with Memory.open(out, env=env) as mem:
            export = mem.export_dict()
            shown = mem.show()
    export.pop("version")
    expected = {
        "written_by": __version__,
        "api_key": KEY,
        "settings": {"llm.model": "qwen-fixture", "memory.token_budget": 4000},
        "export": export,
        "indexed": shown["indexedCount"],
    }
    (out / "FIXTURE.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
