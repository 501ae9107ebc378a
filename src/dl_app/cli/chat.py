"""``dl-app chat``: a conversation in the terminal (streamed on a terminal,
one reply per line in a pipe)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..core.errors import DLError
from .common import EXIT_ERROR, err, fail, open_memory
from .progress import Progress, cli_lang, say

if TYPE_CHECKING:
    from ..core.engine import TurnResult
    from ..core.ports import ChatDelta
    from ..memory import Memory


def _notes(result: TurnResult) -> None:
    """What a turn has to tell besides its reply, on stderr."""
    from ..messages import render

    for note in result.notices:
        err(render(note, cli_lang()))


def cmd_chat(_args: argparse.Namespace) -> int:
    from .setup import SetupCancelled, prepare

    try:  # first run: choose a model (asks on a terminal; the demo model in a pipe)
        env = prepare(sys.stdin.isatty())
    except SetupCancelled as e:
        err(str(e))
        return EXIT_ERROR
    mem = open_memory(env)
    try:
        if not mem.model().demo:  # ollama cuts what is over its context, silently
            from ..connection import budget_warning

            s = mem.settings
            warning = budget_warning(s.llm.base_url, s.llm.model, s.memory.token_budget,
                                     mem.lang)
            if warning:
                err(warning)
        if mem.is_idle():
            try:
                mem.consolidate(Progress(say("cli.writing_diary")))
            except DLError as e:
                err(say("cli.diary_later", error=e))
        indexed, total, _model = mem.index_status()
        from .limits import Limits

        limits = Limits(err)
        if limits.said_down(mem):  # recall is full text until the embedder is back
            indexed = total = 0
        if indexed < total:
            if sys.stdin.isatty():
                try:  # the embedder changed or an import was interrupted
                    mem.reindex(Progress(say("cli.indexing_diary")))
                except KeyboardInterrupt:
                    err(say("cli.index_paused"))
                except DLError as e:
                    err(say("cli.index_failed", error=e))
            else:
                err(say("cli.lacking_vectors", n=total - indexed))
        watch = limits.watch(mem)  # probes with backoff, fills vectors once it is back
        try:
            return _chat_tty(mem) if sys.stdin.isatty() else _chat_lines(mem)
        finally:
            watch.stop()
    finally:
        mem.close()


def _chat_lines(mem: Memory) -> int:
    """stdin is not a terminal: one message per line, each reply in full."""
    failed = False
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        try:
            result = mem.send(text)
        except DLError as e:
            fail(e)
            failed = True
            continue
        print(result.reply, flush=True)
        _notes(result)
    return EXIT_ERROR if failed else 0


def _chat_tty(mem: Memory) -> int:
    profile = mem.profile()
    me, ai = profile.user_name, profile.self_name
    from ..messages import msg, render
    from .setup import model_label

    def words(key: str, **params: str) -> str:  # the app's language, as its replies
        return render(msg(key, **params), mem.lang)

    hint = words("cli.chat_hint", ai=ai, model=model_label(mem))
    print(hint)
    while True:
        try:
            text = input(f"{me} > ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return 0
        if text == "/consolidate":
            try:
                entry = mem.consolidate(Progress(say("cli.diary")))
                print(entry.title if entry else words("cli.nothing_to_write"))
            except DLError as e:
                fail(e)
            continue
        if text == "/clear":
            mem.clear_conversation()
            continue
        print(f"{ai} > ", end="", flush=True)
        in_reasoning = False

        def on_delta(d: ChatDelta) -> None:
            nonlocal in_reasoning
            if d.kind == "reasoning":
                if not in_reasoning:
                    sys.stdout.write("\x1b[2m")
                    in_reasoning = True
            elif in_reasoning:
                sys.stdout.write("\x1b[0m\n")
                in_reasoning = False
            sys.stdout.write(d.text)
            sys.stdout.flush()

        def on_event(name: str, _data: dict[str, object]) -> None:
            nonlocal in_reasoning
            if name == "withdraw":  # the reply broke off: it is asked for once more
                print("\x1b[0m", flush=True)
                in_reasoning = False
                err(say("cli.withdrawn"))
                print(f"{ai} > ", end="", flush=True)

        try:
            result = mem.send(text, on_delta=on_delta, on_event=on_event)
            print("\x1b[0m" if in_reasoning else "")
            _notes(result)
        except DLError as e:
            print("\x1b[0m" if in_reasoning else "")
            fail(e)
