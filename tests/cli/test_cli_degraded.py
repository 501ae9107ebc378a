"""``dl-app chat`` with the embedding service down (issue 18, item 6): it
starts, says once on stderr that recall is full text only for now, asks the
service again with backoff while the conversation goes on, and when it is back
says so and fills in the vectors the diary and its conversations lack. The
image service (the model's picture tool) down at start is said once too, and
once when it is back.

Real parts: ``dl-app`` as a process, the scripted OpenAI-compatible server for
the chat and the embeddings (``embedding_error`` takes the embeddings down)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from servers.openai_compat import OpenAICompatServer

T0 = 1_700_000_000_000


def export() -> dict[str, object]:
    diary = [{"uuid": "e-1", "title": "Guitar", "summary": "The user started guitar lessons.",
              "startTime": T0, "endTime": T0 + 600_000}]
    archive = [{"id": f"m{i}", "belongTo": "e-1", "role": r, "content": t,
                "timestamp": T0 + i * 60_000}
               for i, (r, t) in enumerate([("user", "I bought a guitar today."),
                                           ("assistant", "Great, which one?")])]
    return {"selfName": "Leaf", "userName": "Ming", "memoryAboutSelf": "",
            "memoryAboutUser": "", "currentSummary": "", "longTermMemory": diary,
            "shortTermMemory": [], "archivedMemory": archive}


def lines_of(stream: object) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def wait_for(lines: queue.Queue[str], seen: list[str], words: str) -> None:
    """Read stderr lines until one holds ``words`` (the process is given a minute)."""
    while not any(words in line for line in seen):
        try:
            seen.append(lines.get(timeout=60))
        except queue.Empty:
            raise AssertionError(f"never said {words!r}; said: {seen!r}") from None


def test_chat_starts_with_the_embedder_down_and_fills_vectors_when_it_is_back(
    tmp_path: Path, openai_server: OpenAICompatServer
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG="C.UTF-8", DL_DATA_DIR=str(tmp_path / "data"),
               DL_LLM_BASE_URL=openai_server.base_url, DL_EMBED_BASE_URL=openai_server.base_url,
               DL_EMBED_MODEL="remote-embed")
    openai_server.embedding_error = 503  # down from the start
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export()), encoding="utf-8")
    imported = subprocess.run([sys.executable, "-m", "dl_app", "memory", "import", str(path)],
                              env=env, capture_output=True, text=True, timeout=300)
    assert imported.returncode == 0, imported.stderr

    chat = subprocess.Popen([sys.executable, "-m", "dl_app", "chat"], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert chat.stdin is not None and chat.stdout is not None
        said: list[str] = []
        errors = lines_of(chat.stderr)
        chat.stdin.write("hello\n")
        chat.stdin.flush()
        assert chat.stdout.readline() == "I hear you: hello\n"  # it started and answers
        wait_for(errors, said, "full-text search only for now")
        asked = len(openai_server.embedding_requests)
        openai_server.embedding_error = None  # the service is back
        wait_for(errors, said, "Filled in 3 missing vectors.")  # one entry, two turns
        assert len(openai_server.embedding_requests) > asked  # it was asked again by itself
        chat.stdin.write("and now?\n")
        chat.stdin.flush()
        assert chat.stdout.readline() == "I hear you: and now?\n"
        chat.stdin.close()
        assert chat.wait(timeout=120) == 0
        said += list(errors.queue)
    finally:
        if chat.poll() is None:
            chat.kill()
    text = "".join(said)
    assert text.count("full-text search only for now") == 1  # said once, not per probe
    assert text.count("The embedding service is back") == 1
    shown = subprocess.run([sys.executable, "-m", "dl_app", "memory", "show", "--json"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(shown.stdout)["indexedCount"] == 1


def test_chat_says_once_that_pictures_are_down_and_once_that_they_are_back(
    tmp_path: Path, openai_server: OpenAICompatServer
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    data = tmp_path / "data"
    data.mkdir()
    env.update(LANG="C.UTF-8", DL_DATA_DIR=str(data), DL_LLM_BASE_URL=openai_server.base_url)
    with OpenAICompatServer() as pics:
        pics.down = 503  # down from the start
        (data / "settings.json").write_text(json.dumps(
            {"images": {"enabled": True, "base_url": pics.base_url, "model": "img"}}))
        chat = subprocess.Popen([sys.executable, "-m", "dl_app", "chat"], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            assert chat.stdin is not None and chat.stdout is not None
            said: list[str] = []
            errors = lines_of(chat.stderr)
            chat.stdin.write("hello\n")
            chat.stdin.flush()
            assert chat.stdout.readline() == "I hear you: hello\n"  # it started and answers
            wait_for(errors, said, "cannot draw pictures for now")
            assert "503" in said[-1]  # with why
            pics.down = None  # back: the next probe (1, 2, 4 ... s) finds it
            wait_for(errors, said, "The image service is back")
            chat.stdin.close()
            assert chat.wait(timeout=120) == 0
            said += list(errors.queue)
        finally:
            if chat.poll() is None:
                chat.kill()
    text = "".join(said)
    assert text.count("cannot draw pictures for now") == 1  # said once, not per probe
    assert text.count("The image service is back") == 1
    assert "speech" not in text.lower() and "S3" not in text  # not set up: nothing said
