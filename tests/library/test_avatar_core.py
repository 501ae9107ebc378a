"""The avatar's Python side: emotion inference (pure), the model-folder import and
background checks, the bridge methods and events, and the file routes in both modes
(the ``dl-app serve`` route and the window's loopback file server)."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bridge_helpers import Events, ok
from dl_app.bridge.api import Api
from dl_app.core.emotion import emotion_of, infer_emotion, split_tag
from servers.openai_compat import OpenAICompatServer
from servers.openai_wire import ChatReply
from where import FRONTEND

HARU = FRONTEND / "models" / "haru"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def folder_files(root: Path, prefix: str) -> list[dict[str, str]]:
    """A picked folder as the page sends it: ``Folder/relative/path`` + base64."""
    return [
        {"path": f"{prefix}/{p.relative_to(root).as_posix()}", "data_base64": b64(p.read_bytes())}
        for p in sorted(root.rglob("*")) if p.is_file()
    ]


# -- emotion (pure) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("太好了！我好开心 😄", "joy"),
        ("Haha, that's great news!", "joy"),
        ("对不起，我有点难过……", "sad"),
        ("I'm so sorry, that is sad.", "sad"),
        ("哼！你太过分了，我很生气", "angry"),
        ("哇，真的吗？没想到！", "surprised"),
        ("Wow, no way!", "surprised"),
        ("人家……有点不好意思啦", "shy"),
        ("今天下午三点开会。", None),
        ("", None),
    ],
)
def test_emotion_is_inferred_from_words_and_emoji(text: str, name: str | None) -> None:
    assert infer_emotion(text) == name


def test_a_leading_tag_wins_and_is_taken_off() -> None:
    assert split_tag("[joy] Hello!") == ("joy", "Hello!")
    assert split_tag("【难过】唉") == ("sad", "唉")
    assert split_tag("[note] keep me") == (None, "[note] keep me")  # unknown word: left in
    assert emotion_of("[angry] 哈哈哈哈") == "angry"
    assert emotion_of("哈哈哈哈") == "joy"


def test_english_words_match_whole_words_only() -> None:
    assert infer_emotion("The madness of crowds is a book.") is None  # not "mad"
    assert infer_emotion("I'm mad at the bus.") == "angry"


# -- the bridge ----------------------------------------------------------------


def test_a_reply_emits_its_emotion_before_done(
    api: Api, events: Events, openai_server: OpenAICompatServer
) -> None:
    openai_server.enqueue(ChatReply(content="哇，真的吗？太没想到了！"))
    ok(api.chat_send({"text": "我中了彩票"}))
    names = [n for n, _ in events.items]
    assert events.named("chat.emotion") == [{"name": "surprised"}]
    assert names.index("chat.emotion") < names.index("chat.done")
    openai_server.enqueue(ChatReply(content="今天下午三点开会。"))
    ok(api.chat_send({"text": "几点开会"}))
    assert events.named("chat.emotion")[-1] == {"name": "neutral"}


def test_avatar_settings_persist_and_validate(api: Api, events: Events) -> None:
    got = ok(api.settings_get())
    assert got["settings"]["avatar"]["model"] == "haru"
    assert any(f["path"] == "avatar.background_area" for f in got["fields"])
    res = ok(api.settings_set({"patch": {"avatar": {"offset_x": 0.25, "scale": 1.5}}}))
    assert res["settings"]["avatar"]["offset_x"] == 0.25
    assert events.named("settings.changed")[-1]["settings"]["avatar"]["scale"] == 1.5
    bad = api.settings_set({"patch": {"avatar": {"scale": 99, "background": "../x.png"}}})
    assert bad["ok"] is False
    assert ok(api.settings_get())["settings"]["avatar"]["scale"] == 1.5  # nothing lost


def test_models_list_bundled_and_imported(api: Api, data_dir: Path) -> None:
    first = ok(api.avatar_models())
    ids = [m["id"] for m in first["models"]]
    assert ids[:4] == ["haru", "shizuku", "hijiki", "svg"]
    for m in first["models"][:3]:
        assert (FRONTEND / m["url"]).is_file(), m
    files = folder_files(HARU, "MyHaru")
    files.append({"path": "MyHaru/source.psd", "data_base64": b64(b"8BPS....")})
    model = ok(api.avatar_import({"name": "MyHaru", "files": files}))["model"]
    assert model["id"].startswith("u-myharu-")
    assert model["skipped"] == ["MyHaru/source.psd"]
    assert model["path"] == f"avatars/{model['id']}/haru_greeter_t03.model3.json"
    stored = data_dir / "avatars" / model["id"]
    assert (stored / "haru_greeter_t03.2048" / "texture_00.png").read_bytes() == (
        HARU / "haru_greeter_t03.2048" / "texture_00.png"
    ).read_bytes()
    assert not (stored / "source.psd").exists()
    listed = ok(api.avatar_models())["models"]
    assert listed[-1]["id"] == model["id"] and listed[-1]["kind"] == "user"
    ok(api.avatar_remove({"id": model["id"]}))
    assert not stored.exists()
    assert [m["id"] for m in ok(api.avatar_models())["models"]] == ids


def test_the_drawn_avatar_is_named_in_the_apps_language(api: Api) -> None:
    def names() -> dict[str, str]:
        return {m["id"]: m["name"] for m in ok(api.avatar_models())["models"]}

    ok(api.settings_set({"patch": {"language": "zh"}}))
    assert names()["svg"] == "简笔头像（内置）" and names()["haru"] == "Haru"
    ok(api.settings_set({"patch": {"language": "en"}}))
    assert names()["svg"] == "Simple (built-in)"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([{"path": "M/../../evil.json", "data_base64": b64(b"{}")}], "文件夹里面"),
        ([{"path": "/etc/passwd.json", "data_base64": b64(b"{}")}], "文件夹里面"),
        ([{"path": "C:/x/model.json", "data_base64": b64(b"{}")}], "文件夹里面"),
        ([{"path": "M/readme.txt", "data_base64": b64(b"hi")}], "没有找到模型文件"),
        ([{"path": "M/x.model3.json", "data_base64": b64(b"{not json")}], "不是有效的 JSON"),
        (
            [{"path": "M/x.model3.json",
              "data_base64": b64(json.dumps({"FileReferences": {"Moc": "x.moc3"}}).encode())}],
            "但文件夹里没有",
        ),
        (
            [{"path": "M/model.json",
              "data_base64": b64(json.dumps({"model": "../../outside.moc"}).encode())}],
            "文件夹里面",
        ),
        (
            [{"path": "M/model.json", "data_base64": b64(json.dumps(
                {"model": "a.moc", "motions": {"idle": [{"file": "https://tracker.example/m"}]}}
            ).encode())}, {"path": "M/a.moc", "data_base64": b64(b"moc")}],
            "指向了文件夹外面",
        ),
        ([], "文件夹是空的"),
    ],
)
def test_hostile_or_broken_imports_are_refused(
    api: Api, data_dir: Path, files: list[dict[str, str]], message: str
) -> None:
    res = api.avatar_import({"name": "bad", "files": files})
    assert res["ok"] is False
    assert message in res["error"]["message"]  # in the app's language (zh)
    avatars = data_dir / "avatars"
    assert not avatars.exists() or not any(avatars.iterdir())  # nothing left behind
    assert not (data_dir.parent / "evil.json").exists()


def test_a_huge_import_is_refused_with_its_limit(api: Api, data_dir: Path) -> None:
    big = b64(b"\0" * 31_000_000)
    res = api.avatar_import({"name": "big", "files": [
        {"path": "M/model.json", "data_base64": b64(b'{"model": "a.moc"}')},
        {"path": "M/a.moc", "data_base64": big},
    ]})
    assert res["ok"] is False and "太大了" in res["error"]["message"]
    assert not (data_dir / "avatars").exists() or not any((data_dir / "avatars").iterdir())


def test_background_is_magic_checked_and_stored_in_the_data_dir(api: Api, data_dir: Path) -> None:
    res = ok(api.avatar_background({"name": "me.png", "data_base64": b64(PNG)}))
    assert res["background"].startswith("bg-") and res["background"].endswith(".png")
    assert (data_dir / "backgrounds" / res["background"]).read_bytes() == PNG
    ok(api.settings_set({"patch": {"avatar": {"background": res["background"]}}}))
    fake = api.avatar_background({"name": "x.png", "data_base64": b64(b"<svg onload=alert(1)>")})
    assert fake["ok"] is False and "这不是图片" in fake["error"]["message"]


# -- serving the files ---------------------------------------------------------


def test_the_window_file_server_serves_only_under_its_token(api: Api, data_dir: Path) -> None:
    model = ok(api.avatar_import({"name": "H", "files": folder_files(HARU, "H")}))["model"]
    base = ok(api.avatar_models())["files_base"]
    assert base.startswith("http://127.0.0.1:")
    url = f"{base}{model['path']}"
    req = urllib.request.Request(url, headers={"Origin": "http://127.0.0.1:5555"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["Version"] == 3
        assert resp.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5555"
    host, port = base.split("/")[2].split(":")
    wrong_token = "/" + "x" * 32 + "/" + model["path"]
    for path, headers, status in [
        (wrong_token, {}, 404),
        (f"/{base.split('/')[3]}/avatars/../settings.json", {}, 404),
        (f"/{base.split('/')[3]}/settings.json", {}, 404),
        (f"/{base.split('/')[3]}/{model['path']}", {"Origin": "http://evil.example"}, 403),
        (f"/{base.split('/')[3]}/{model['path']}", {"Host": "evil.example"}, 403),
    ]:
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", path, headers=headers)
        assert conn.getresponse().status == status, path
        conn.close()
    api._avatar_files().close()


def test_serve_route_needs_its_token(tmp_path: Path, api: Api) -> None:
    from dl_app.server import AppServer

    ok(api.avatar_background({"data_base64": b64(PNG)}))
    srv = AppServer(api, FRONTEND)
    import threading

    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        base = ok(api.avatar_models())["files_base"]
        assert base.startswith("/dl-files/")
        name = next((api._ctx.data_dir / "backgrounds").iterdir()).name
        host = f"127.0.0.1:{srv.port}"
        with urllib.request.urlopen(f"http://{host}{base}backgrounds/{name}", timeout=5) as r:
            assert r.read() == PNG
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://{host}/dl-files/wrong/backgrounds/{name}", timeout=5)
        assert e.value.code == 404
    finally:
        srv.shutdown()
        srv.server_close()
