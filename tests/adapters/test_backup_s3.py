"""S3 backup against a real local S3 server (moto in a thread), with a proxy
that cuts connections to simulate a network failure mid-transfer."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bridge_helpers import Events, make_env, ok
from dl_app.bridge import Api
from dl_app.cli import main as cli_main
from memory_helpers import export_text
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer

BUCKET = "dl-backups"
ACCESS, SECRET_KEY = "AKIATESTKEY0123456789", "s3-secret-do-not-upload-9f8e7d"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_url: str) -> Any:
    """A boto3 client on a fresh moto state with the bucket created."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    client.create_bucket(Bucket=BUCKET)
    return client


class CutProxy:
    """A TCP proxy to ``target`` that drops each connection after ``limit`` bytes
    in one direction ("up": client to server, "down": server to client)."""

    def __init__(self, target: str, limit: int, direction: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.limit, self.direction = limit, direction
        self.cuts = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, "down"),
                             daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, direction: str) -> None:
        sent = 0
        try:
            while data := src.recv(16384):
                if direction == self.direction and sent + len(data) > self.limit:
                    dst.sendall(data[: self.limit - sent])
                    self.cuts += 1
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def events() -> Events:
    return Events()


def make_api(server: OpenAICompatServer, data_dir: Path, events: Events | None,
             endpoint: str, **backup: Any) -> Api:
    server.default_responder = companion_responder
    api = Api(data_dir, env=make_env(server), emit=events)
    api._ctx.backup_timeout = 5.0
    patch = {"endpoint": endpoint, "bucket": BUCKET, "region": "us-east-1", **backup}
    ok(api.settings_set({"patch": {"backup": patch}}))
    ok(api.secret_set({"name": "s3_access_key", "value": ACCESS}))
    ok(api.secret_set({"name": "s3_secret_key", "value": SECRET_KEY}))
    return api


@pytest.fixture
def api(openai_server: OpenAICompatServer, tmp_path: Path, events: Events, moto_url: str,
        s3: Any) -> Iterator[Api]:
    bridge = make_api(openai_server, tmp_path / "data", events, moto_url)
    ok(bridge.transfer_import({"content": export_text(4)}))
    yield bridge
    bridge.close()


# The app's language here is Chinese (LANG=zh_CN, tests/bridge_helpers.py): the
# messages are checked in Chinese; the English words are the catalogue's en.json.
def failed(result: dict[str, Any], kind: str) -> dict[str, Any]:
    assert result["ok"] is False, result
    assert result["error"]["type"] == kind, result
    return result["error"]


def memory_of(api: Api) -> Any:
    data = json.loads(ok(api.transfer_export())["content"])
    data.pop("version")
    return data


def keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_upload_list_preview_restore_round_trip(api: Api, s3: Any, events: Events) -> None:
    assert ok(api.backup_test())["message"].startswith("已连接")
    original = memory_of(api)
    first = ok(api.backup_upload())["object"]
    assert first["key"].startswith("digital-life/memory-") and first["key"].endswith("Z.json")
    assert first["encrypted"] is False and first["size"] > 0 and len(first["sha256"]) == 64
    second = ok(api.backup_upload())["object"]  # same second: a new name, no overwrite
    assert second["key"] != first["key"]
    head = s3.head_object(Bucket=BUCKET, Key=first["key"])
    assert head["Metadata"]["sha256"] == first["sha256"]
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=first["key"])["Body"].read())
    assert body["settings"]["backup"]["bucket"] == BUCKET and body["selfName"] == "小忆"
    progress = [p for p in events.named("task.progress") if p["task"] == "backup"]
    assert progress[0]["done"] == 0 and progress[-1]["done"] == progress[-1]["total"] > 0

    listed = ok(api.backup_list())["objects"]
    assert {o["key"] for o in listed} == {first["key"], second["key"]}
    assert listed[0]["at"] >= listed[1]["at"]
    s3.put_object(Bucket=BUCKET, Key="digital-life/notes.txt", Body=b"not ours")
    assert len(ok(api.backup_list())["objects"]) == 2

    prev = ok(api.backup_preview({"key": first["key"]}))
    assert prev["preview"]["diary_entries"] == 4 and prev["encrypted"] is False
    assert prev["settings"]["backup"]["bucket"] == BUCKET

    uuid = ok(api.diary_list())["entries"][0]["uuid"]
    ok(api.diary_delete({"uuid": uuid}))
    ok(api.memory_profile_set({"profile": {"self_name": "新名字"}}))
    report = ok(api.backup_restore({"key": first["key"]}))["report"]
    assert report["entries"] == 4 and report["backup"].startswith("memory-before-import-")
    assert memory_of(api) == original
    assert ok(api.transfer_backups())["backups"][0]["name"] == report["backup"]
    assert ok(api.index_status())["indexed"] == 4
    assert any(p["task"] == "restore" for p in events.named("task.progress"))
    failed(api.backup_restore({"key": "digital-life/memory-nope.json"}), "NotFound")


def test_encrypted_round_trip_and_secrets_never_uploaded(
    api: Api, s3: Any, openai_server: OpenAICompatServer, tmp_path: Path, moto_url: str
) -> None:
    secrets = {"llm_api_key": "sk-llm-secret-111", "embed_api_key": "sk-embed-secret-222",
               "weather_api_key": "weather-secret-333", "backup_passphrase": "芝麻开门-444"}
    for name, value in secrets.items():
        ok(api.secret_set({"name": name, "value": value}))
    plain = ok(api.backup_upload())["object"]
    ok(api.settings_set({"patch": {"backup": {"encrypt": True}}}))
    sealed = ok(api.backup_upload())["object"]
    assert sealed["encrypted"] is True and sealed["key"].endswith(".json.enc")
    for key in (plain["key"], sealed["key"]):
        raw = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        for value in (*secrets.values(), ACCESS, SECRET_KEY):
            assert value.encode() not in raw, (key, value)
    raw = s3.get_object(Bucket=BUCKET, Key=sealed["key"])["Body"].read()
    assert "小忆".encode() not in raw and b"digital-life-encrypted" in raw

    original = memory_of(api)
    other = make_api(openai_server, tmp_path / "other", None, moto_url)
    try:
        assert ok(other.backup_list())["objects"][0]["encrypted"] is True
        need = failed(other.backup_preview({"key": sealed["key"]}), "PassphraseRequired")
        assert "备份密码" in need["message"]
        ok(other.secret_set({"name": "backup_passphrase", "value": "wrong"}))
        failed(other.backup_restore({"key": sealed["key"]}), "ImportFailed")
        assert ok(other.diary_list())["total"] == 0
        ok(other.secret_set({"name": "backup_passphrase", "value": secrets["backup_passphrase"]}))
        assert ok(other.backup_preview({"key": sealed["key"]}))["encrypted"] is True
        report = ok(other.backup_restore({"key": sealed["key"]}))["report"]
        assert report["backup"] is None  # the new memory was empty: nothing to back up
        assert memory_of(other) == original
    finally:
        other.close()


def test_a_damaged_object_is_refused_and_memory_unchanged(api: Api, s3: Any) -> None:
    obj = ok(api.backup_upload())["object"]
    got = s3.get_object(Bucket=BUCKET, Key=obj["key"])
    body = got["Body"].read().replace("小忆".encode(), "小坏".encode())
    s3.put_object(Bucket=BUCKET, Key=obj["key"], Body=body, Metadata=got["Metadata"])
    ok(api.memory_profile_set({"profile": {"user_name": "现在的名字"}}))
    before = memory_of(api)
    err = failed(api.backup_restore({"key": obj["key"]}), "ImportFailed")
    assert "已损坏" in err["message"] and "校验和" in err["message"]
    failed(api.backup_preview({"key": obj["key"]}), "ImportFailed")
    assert memory_of(api) == before
    assert ok(api.transfer_backups())["backups"] == []  # no import was started


def test_network_failure_mid_upload_leaves_both_sides_intact(
    api: Api, s3: Any, moto_url: str
) -> None:
    earlier = ok(api.backup_upload())["object"]
    stored = s3.get_object(Bucket=BUCKET, Key=earlier["key"])["Body"].read()
    before = memory_of(api)
    proxy = CutProxy(moto_url, limit=3000, direction="up")
    try:
        ok(api.settings_set({"patch": {"backup": {"endpoint": proxy.url}}}))
        err = failed(api.backup_upload(), "ServiceUnreachable")
        assert "连接中断了" in err["message"] or "连不上存储服务" in err["message"]
        assert proxy.cuts >= 1
    finally:
        proxy.close()
    assert keys(s3) == [earlier["key"]]
    assert s3.get_object(Bucket=BUCKET, Key=earlier["key"])["Body"].read() == stored
    assert memory_of(api) == before

    ok(api.settings_set({"patch": {"backup": {"endpoint": "http://127.0.0.1:9"}}}))
    err = failed(api.backup_test(), "ServiceUnreachable")
    assert "连不上存储服务" in err["message"] and ACCESS not in err["message"]


def test_network_failure_mid_download_changes_nothing(
    api: Api, s3: Any, moto_url: str
) -> None:
    obj = ok(api.backup_upload())["object"]
    ok(api.memory_profile_set({"profile": {"self_name": "现在"}}))
    before = memory_of(api)
    proxy = CutProxy(moto_url, limit=obj["size"] // 2, direction="down")
    try:
        ok(api.settings_set({"patch": {"backup": {"endpoint": proxy.url}}}))
        err = failed(api.backup_restore({"key": obj["key"]}), "ServiceUnreachable")
        assert "没有做任何改动" in err["message"]
    finally:
        proxy.close()
    assert memory_of(api) == before
    assert ok(api.transfer_backups())["backups"] == []


def test_setup_problems_are_explained(api: Api, s3: Any) -> None:
    ok(api.settings_set({"patch": {"backup": {"bucket": "no-such-bucket"}}}))
    err = failed(api.backup_test(), "NotFound")
    assert "no-such-bucket" in err["message"] and "上没有存储桶" in err["message"]
    assert api.backup_test()["message"] == err["message"]
    failed(api.backup_upload(), "NotFound")
    ok(api.settings_set({"patch": {"backup": {"bucket": ""}}}))
    assert "存储桶" in failed(api.backup_list(), "SettingsError")["message"]
    ok(api.settings_set({"patch": {"backup": {"bucket": BUCKET, "encrypt": True}}}))
    assert "备份密码" in failed(api.backup_upload(), "SettingsError")["message"]
    ok(api.secret_delete({"name": "s3_secret_key"}))
    assert "私有密钥" in failed(api.backup_list(), "SettingsError")["message"]
    assert keys(s3) == []


def test_auto_backup_after_consolidation(api: Api, s3: Any, events: Events) -> None:
    ok(api.chat_send({"text": "今天去爬山了"}))
    assert ok(api.memory_consolidate())["auto_backup"] is False  # off by default
    assert keys(s3) == []
    ok(api.settings_set({"patch": {"backup": {"auto_after_diary": True}}}))
    ok(api.chat_send({"text": "明天去游泳"}))
    res = ok(api.memory_consolidate())
    assert res["entry"] is not None and res["auto_backup"] is True
    assert api._ctx.auto_thread is not None
    api._ctx.auto_thread.join(timeout=30)
    done = events.named("backup.auto")
    assert len(done) == 1 and done[0]["ok"] is True
    assert keys(s3) == [done[0]["object"]["key"]]
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=keys(s3)[0])["Body"].read())
    assert len(body["longTermMemory"]) == 6  # 4 imported + 2 written


def test_large_memory_uploads_in_parts_with_progress(
    openai_server: OpenAICompatServer, tmp_path: Path, events: Events, moto_url: str, s3: Any
) -> None:
    api = make_api(openai_server, tmp_path / "big", events, moto_url)
    api._ctx.backup_part_size = 5 * 1024 * 1024  # S3's smallest part
    try:
        ok(api.transfer_import({"content": export_text(2000, messages=4, summary_chars=1000)}))
        started = time.perf_counter()
        obj = ok(api.backup_upload())["object"]
        upload_s = time.perf_counter() - started
        assert obj["size"] > 6 * 1024 * 1024
        head = s3.head_object(Bucket=BUCKET, Key=obj["key"])
        assert "-" in head["ETag"]  # a multipart upload
        progress = [p for p in events.named("task.progress") if p["task"] == "backup"]
        assert 3 <= len(progress) <= 110
        assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
        assert progress[-1] == {"task": "backup", "done": obj["size"], "total": obj["size"]}

        started = time.perf_counter()
        report = ok(api.backup_restore({"key": obj["key"]}))["report"]
        restore_s = time.perf_counter() - started
        assert report["entries"] == 2000 and report["archived"] == 8000
        print(f"\nlarge memory: {obj['size'] / 1e6:.1f} MB, upload {upload_s:.2f} s, "
              f"restore (download + import + index) {restore_s:.2f} s")
    finally:
        api.close()


def test_cli_backup_backups_and_restore(
    api: Api, s3: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name, value in make_env_vars(api).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DL_DATA_DIR", str(api._ctx.data_dir))
    api.close()
    assert cli_main(["memory", "backup"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("digital-life/memory-") and "已上传" in out.err  # LANG is Chinese
    assert cli_main(["memory", "backups", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [o["key"] for o in listed] == [key]
    assert cli_main(["memory", "restore", key]) == 0
    out = capsys.readouterr()
    assert f"已从 {key} 恢复 4 篇日记" in out.out and "memory-before-import-" in out.out
    assert "Restored" not in out.out
    assert cli_main(["memory", "restore", "digital-life/none.json"]) == 1
    assert "没有备份" in capsys.readouterr().err


def make_env_vars(api: Api) -> dict[str, str]:
    return {k: v for k, v in api._ctx.env.items() if k.startswith("DL_") or k == "LANG"}
