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
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..core.errors import DLError
from . import remote
from .chat import cmd_chat
from .common import EXIT_ERROR, err, fail, open_memory
from .progress import Progress, cli_lang, say

# -- window -----------------------------------------------------------------


def cmd_window(args: argparse.Namespace) -> int:
    from ..desktop.environment import ShellUnavailable
    from ..desktop.shell import run

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

        err(say("cli.window_cannot_open", why=render(e.args[0], cli_lang()) if e.args else ""))
        err(say("cli.window_instead"))
        return EXIT_ERROR


# -- memory -----------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    mem = open_memory()
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
    mem = open_memory()
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
    mem = open_memory()
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
    mem = open_memory()
    try:
        report = mem.import_file(args.path, Progress(say("cli.indexing_diary")))
    finally:
        mem.close()
    for w in report.warnings:
        err(say("cli.warning", warning=w))
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
    mem = open_memory()
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
    mem = open_memory()
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
        err(str(e))
        return EXIT_ERROR
    except OSError as e:
        err(say("cli.cannot_serve", port=args.port, error=os_reason(e)))
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
        fail(e)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
