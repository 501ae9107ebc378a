"""``dl-app chat`` on a terminal (a pseudo-terminal here): the greeting line,
a streamed reply, the slash commands, in the app's language."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from servers.openai_compat import OpenAICompatServer


class Terminal:
    """``dl-app chat`` with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, "-m", "dl_app", "chat"], env=env,
                                     stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = ""

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Read until ``text`` has been shown (the timeout only ends a hung test)."""
        while text not in self.seen:
            ready, _, _ = select.select([self.master], [], [], timeout)
            assert ready, f"{text!r} never shown; the terminal showed:\n{self.seen}"
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the process is gone and its terminal closed
                chunk = b""
            assert chunk, f"{text!r} never shown; the terminal showed:\n{self.seen}"
            self.seen += chunk.decode("utf-8", "replace")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        code = self.proc.wait(timeout=120)
        os.close(self.master)
        return code


@pytest.mark.parametrize(("lang", "hint", "nothing"), [
    ("C.UTF-8", "Chatting with", "Nothing to consolidate: the conversation is empty."),
    ("zh_CN.UTF-8", "聊天（模型：", "没有可写进日记的内容：对话是空的。"),
])
def test_a_conversation_on_a_terminal(tmp_path: Path, openai_server: OpenAICompatServer,
                                      lang: str, hint: str, nothing: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG=lang, DL_DATA_DIR=str(tmp_path / "data"),
               DL_LLM_BASE_URL=openai_server.base_url, DL_EMBED_MODEL="e",
               DL_EMBED_BASE_URL=openai_server.base_url)
    term = Terminal(env)
    term.wait_for(hint)
    term.wait_for("> ")
    term.type("hello")
    term.wait_for("I hear you: hello")
    term.type("/clear")
    term.type("/consolidate")
    term.wait_for(nothing)
    term.type("/quit")
    assert term.close() == 0
    assert "Traceback" not in term.seen
