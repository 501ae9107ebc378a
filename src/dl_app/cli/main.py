"""The ``dl-app`` command line.

    dl-app                         the desktop window (same as ``dl-app window``)
    dl-app window [--selftest]     the window; --selftest closes it once the page is ready
                                   (then checks the engine); --tray starts in the tray
    dl-app [window] --pet          the desktop pet (a running app switches to it)
    dl-app chat                    a conversation in the terminal
    dl-app memory show [--json]    names, self-concept, profile, diary count, summary
    dl-app memory consolidate      end the conversation now (write the diary entry)
    dl-app memory export PATH|-    the original app's JSON format plus a version
    dl-app memory import PATH      validate, back up the current memory, replace
    dl-app memory search QUERY [-k N] [--json]
    dl-app memory reindex [--all]  embed diary entries the current embedder lacks
    dl-app memory backup           upload a backup to the S3 bucket (see cli/backup.py)
    dl-app memory backups [--json] the backups in the bucket, newest first
    dl-app memory restore KEY      replace memory with a backup (local backup first)
    dl-app serve [--port N] [--no-browser]   the app in a browser, on 127.0.0.1 only

Errors go to stderr with a non-zero exit code; stdout stays parseable. When the app
runs on the same data dir, it answers ``memory show`` and ``memory search`` with its
open memory (``remote.py``): the same output, without opening the data dir again.
This module imports little at the top: each command imports what it uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..core.errors import DLError
from . import remote
from .progress import Progress, cli_lang, say

if TYPE_CHECKING:
    from ..core.engine import TurnResult
    from ..core.ports import ChatDelta
    from ..memory import Memory

EXIT_ERROR = 1
EXIT_USAGE = 2


def _open(env: Mapping[str, str] | None = None) -> Memory:
    """The memory of the data dir; in the running app answering a command, its own."""
    mem = remote.borrowed()
    if mem is not None:
        return mem
    from ..memory import Memory

    return Memory.open(env=env)


def _err(message: str) -> None:
    print(f"dl-app: {message}", file=sys.stderr)


def _notes(result: TurnResult) -> None:
    """What a turn has to tell besides its reply, on stderr."""
    from ..messages import render

    for note in result.notices:
        _err(render(note, cli_lang()))


def _fail(error: DLError) -> None:
    from ..messages import error_text

    _err(error_text(error, cli_lang()))


# -- chat -------------------------------------------------------------------


def cmd_chat(_args: argparse.Namespace) -> int:
    from .setup import SetupCancelled, prepare

    try:  # first run: choose a model (asks on a terminal; the demo model in a pipe)
        env = prepare(sys.stdin.isatty())
    except SetupCancelled as e:
        _err(str(e))
        return EXIT_ERROR
    mem = _open(env)
    try:
        if not mem.model().demo:  # ollama cuts what is over its context, silently
            from ..connection import budget_warning

            s = mem.settings
            warning = budget_warning(s.llm.base_url, s.llm.model, s.memory.token_budget,
                                     mem.lang)
            if warning:
                _err(warning)
        if mem.is_idle():
            try:
                mem.consolidate(Progress(say("cli.writing_diary")))
            except DLError as e:
                _err(say("cli.diary_later", error=e))
        indexed, total, _model = mem.index_status()
        from .limits import Limits

        limits = Limits(_err)
        if limits.said_down(mem):  # recall is full text until the embedder is back
            indexed = total = 0
        if indexed < total:
            if sys.stdin.isatty():
                try:  # the embedder changed or an import was interrupted
                    mem.reindex(Progress(say("cli.indexing_diary")))
                except KeyboardInterrupt:
                    _err(say("cli.index_paused"))
                except DLError as e:
                    _err(say("cli.index_failed", error=e))
            else:
                _err(say("cli.lacking_vectors", n=total - indexed))
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
            _fail(e)
            failed = True
            continue
        print(result.reply, flush=True)
        _notes(result)
    return EXIT_ERROR if failed else 0


def _chat_tty(mem: Memory) -> int:
    zh = mem.lang == "zh"
    profile = mem.profile()
    me, ai = profile.user_name, profile.self_name
    from .setup import model_label

    model = model_label(mem)
    hint = (
        f"和{ai}聊天（模型：{model}）。/consolidate 写日记，/clear 清除对话，/quit 退出。"
        if zh
        else f"Chatting with {ai} (model: {model}). /consolidate writes the diary, "
        "/clear discards the conversation, /quit leaves."
    )
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
                empty = "（没有可写的对话）" if zh else "(nothing to write)"
                print(entry.title if entry else empty)
            except DLError as e:
                _fail(e)
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
                _err(say("cli.withdrawn"))
                print(f"{ai} > ", end="", flush=True)

        try:
            result = mem.send(text, on_delta=on_delta, on_event=on_event)
            print("\x1b[0m" if in_reasoning else "")
            _notes(result)
        except DLError as e:
            print("\x1b[0m" if in_reasoning else "")
            _fail(e)


# -- window -----------------------------------------------------------------


def cmd_window(args: argparse.Namespace) -> int:
    from ..desktop.shell import ShellUnavailable, run

    try:
        selftest = getattr(args, "selftest", False)
        return run(
            selftest=selftest,
            timeout=getattr(args, "timeout", 60.0),
            single_instance=not selftest,
            in_tray=getattr(args, "tray", False),
            cli=main,
            pet=getattr(args, "pet", False) or getattr(args, "pet_mode", False),
        )
    except ShellUnavailable as e:
        from ..messages import render

        _err(say("cli.window_cannot_open", why=render(e.args[0], cli_lang()) if e.args else ""))
        _err(say("cli.window_instead"))
        return EXIT_ERROR


# -- memory -----------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    mem = _open()
    try:
        info = mem.show()
    finally:
        mem.close()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(say("cli.show", self_name=info["selfName"], user_name=info["userName"],
              diary=info["diaryCount"], indexed=info["indexedCount"],
              messages=info["conversationMessages"], self_concept=info["memoryAboutSelf"] or "-",
              profile=info["memoryAboutUser"] or "-", summary=info["currentSummary"] or "-"))
    return 0


def cmd_consolidate(_args: argparse.Namespace) -> int:
    mem = _open()
    try:
        entry = mem.consolidate(Progress(say("cli.writing_diary")))
    finally:
        mem.close()
    if entry is None:
        print(say("cli.nothing_to_write"), file=sys.stderr)
        return 0
    print(entry.title)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    mem = _open()
    try:
        if args.path == "-":
            json.dump(mem.export_dict(), sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            mem.export(args.path)
            print(say("cli.exported", path=args.path), file=sys.stderr)
    finally:
        mem.close()
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    mem = _open()
    try:
        report = mem.import_file(args.path, Progress(say("cli.indexing_diary")))
    finally:
        mem.close()
    for w in report.warnings:
        _err(say("cli.warning", warning=w))
    p = report.preview
    print(say("cli.imported", entries=report.entries, messages=report.messages,
              archived=report.archived, self_name=p["self_name"], user_name=p["user_name"]))
    if report.backup:
        print(say("cli.replaced_saved", path=report.backup))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from ..core.timefmt import format_date, format_datetime

    if args.k < 1 or (args.budget is not None and args.budget < 0):
        print(say("cli.bad_search_args"), file=sys.stderr)
        return 2
    mem = _open()
    try:
        hits = mem.search_evidence(args.query, k=args.k, budget=args.budget)
        lang = mem.lang
        off = mem.utc_offset_minutes()
    finally:
        mem.close()
    if args.json:
        rows = [
            {
                "rank": i + 1,
                "uuid": h.entry.uuid,
                "title": h.entry.title,
                "startTime": h.entry.start_time,
                "endTime": h.entry.end_time,
                "score": round(h.score, 6),
                "similarity": None if h.similarity is None else round(h.similarity, 6),
                "textMatch": h.text_match,
                "summary": h.entry.summary,
                "evidence": [
                    {"id": ev.turn.id, "role": ev.turn.role, "text": ev.turn.text,
                     "timestamp": ev.turn.ts, "tokens": ev.tokens, "match": ev.match}
                    for ev in h.evidence
                ],
            }
            for i, h in enumerate(hits)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print(say("cli.no_hits"), file=sys.stderr)
    for i, h in enumerate(hits, 1):
        e = h.entry
        span = f"{format_date(e.start_time, off, lang)} – {format_date(e.end_time, off, lang)}"
        first = (e.summary.strip().splitlines() or [""])[0]
        print(say("cli.hit", i=i, title=e.title, span=span, score=h.score))
        print(f"   {first}")
        for ev in h.evidence:
            mark = "*" if ev.match else " "
            when = format_datetime(ev.turn.ts, off, lang)
            print(f"   {mark} [{when}] {ev.turn.role}: {ev.turn.text}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    mem = _open()
    try:
        n = mem.reindex(Progress(say("cli.indexing")), everything=args.all)
    finally:
        mem.close()
    print(say("cli.indexed", n=n), file=sys.stderr)
    return 0


# -- browser ------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from ..messages import os_reason
    from ..server import serve

    try:
        return serve(port=args.port, open_browser=not args.no_browser, frontend=args.frontend)
    except FileNotFoundError as e:
        _err(str(e))
        return EXIT_ERROR
    except OSError as e:
        _err(say("cli.cannot_serve", port=args.port, error=os_reason(e)))
        return EXIT_ERROR


def _port(value: str) -> int:
    if value.isdigit() and int(value) <= 65535:
        return int(value)
    raise argparse.ArgumentTypeError(say("cli.bad_port", value=value))


def parser() -> argparse.ArgumentParser:
    """The command line, its help in the terminal's language (``cli/args.py``)."""
    from .args import Parser

    ap = Parser(prog="dl-app", description=say("cli.help.app"),
                names={"command": say("cli.arg.command")})
    ap.add_argument("--version", action="version", version=f"dl-app {__version__}")
    # Its own dest: a subcommand's default would overwrite it (``dl-app --pet window``).
    ap.add_argument("--pet", action="store_true", dest="pet_mode", help=say("cli.help.pet"))
    sub = ap.add_subparsers(dest="command")
    win = sub.add_parser("window", help=say("cli.help.window"))
    win.add_argument("--selftest", action="store_true", help=say("cli.help.selftest"))
    win.add_argument("--timeout", type=float, default=60.0, metavar=say("cli.arg.seconds"),
                     help=say("cli.help.timeout"))
    win.add_argument("--tray", action="store_true", help=say("cli.help.tray"))
    win.add_argument("--pet", action="store_true", help=say("cli.help.pet"))
    win.set_defaults(fn=cmd_window)
    sub.add_parser("chat", help=say("cli.help.chat")).set_defaults(fn=cmd_chat)
    mem = sub.add_parser("memory", help=say("cli.help.memory"),
                         names={"memory_command": say("cli.arg.command")})
    msub = mem.add_subparsers(dest="memory_command", required=True)
    show = msub.add_parser("show", help=say("cli.help.show"))
    show.add_argument("--json", action="store_true", help=say("cli.help.json_object"))
    show.set_defaults(fn=cmd_show)
    msub.add_parser("consolidate", help=say("cli.help.consolidate")).set_defaults(
        fn=cmd_consolidate
    )
    exp = msub.add_parser("export", help=say("cli.help.export"))
    exp.add_argument("path", metavar=say("cli.arg.path"))
    exp.set_defaults(fn=cmd_export)
    imp = msub.add_parser("import", help=say("cli.help.import"))
    imp.add_argument("path", metavar=say("cli.arg.path"))
    imp.set_defaults(fn=cmd_import)
    search = msub.add_parser("search", help=say("cli.help.search"))
    search.add_argument("query", metavar=say("cli.arg.query"))
    search.add_argument("-k", type=int, default=5, metavar=say("cli.arg.k"),
                        help=say("cli.help.k"))
    search.add_argument("--budget", type=int, default=None, metavar=say("cli.arg.tokens"),
                        help=say("cli.help.budget"))
    search.add_argument("--json", action="store_true", help=say("cli.help.json_array"))
    search.set_defaults(fn=cmd_search)
    reindex = msub.add_parser("reindex", help=say("cli.help.reindex"))
    reindex.add_argument("--all", action="store_true", help=say("cli.help.reindex_all"))
    reindex.set_defaults(fn=cmd_reindex)
    from .backup import add_commands

    add_commands(msub)
    serve = sub.add_parser("serve", help=say("cli.help.serve"))
    serve.add_argument("--port", type=_port, default=0, metavar=say("cli.arg.port"),
                       help=say("cli.help.port"))
    serve.add_argument("--no-browser", action="store_true", help=say("cli.help.no_browser"))
    serve.add_argument("--frontend", type=Path, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(fn=cmd_serve)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    fn = getattr(args, "fn", cmd_window)
    try:
        answered = remote.ask(argv)  # read-only commands: the running app, if any
        if answered is not None:
            return answered
        return int(fn(args))
    except DLError as e:
        _fail(e)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
