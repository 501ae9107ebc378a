"""How fast ``dl-app`` answers as a whole process: wall time and peak RSS of
``memory search QUERY -k 5 --json``, ``memory show`` and ``--help``, each run
``--runs`` times on a data dir filled first (an export of ``--entries`` diary
entries imported with ``dl-app memory import``, built-in embedder).

    PYTHONPATH=src .venv/bin/python bench/cli_start.py [--runs 9] [--entries 200]
        [--data-dir DIR] [--app none|headless|window] [--bytecode cache|env] [--importtime]

``--app none`` (default): no app runs, every command opens the data dir itself.
``--app headless``: a running app for the data dir first (the bridge ``Api`` and
the single-instance channel, as the window has them, without the window); the
read-only commands are answered by it. ``--app window``: the real window under
``xvfb-run``. ``--bytecode cache`` (default) lets Python keep compiled modules in a
private cache (``PYTHONPYCACHEPREFIX``), as an installed app has them;
``--bytecode env`` keeps this environment's settings (with ``PYTHONDONTWRITEBYTECODE``
every third-party module is compiled from source on every start). One untimed
run warms the file cache first. ``--importtime`` prints where a search spends its
imports (``python -X importtime``). Wall times say little unless the machine is
quiet (the load average is printed beside them); the median CPU time (user +
system) of the process is steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from memory_helpers import make_export

QUERY = "话题12"
COMMANDS = {
    "memory search": ["memory", "search", QUERY, "-k", "5", "--json"],
    "memory show": ["memory", "show"],
    "--help": ["--help"],
}
APP = """
import sys, threading
from pathlib import Path
from dl_app.bridge.api import Api
from dl_app.desktop import instance
from dl_app.desktop.shell import app_handlers
from dl_app.cli.main import main
root = Path(sys.argv[1])
api = Api(root)
api.app_info()  # the window opens the memory while the page loads
inst = instance.claim(root, lambda _c: None, app_handlers(main, lambda: api))
print("ready" if inst else "busy", flush=True)
sys.stdin.read()
"""


def dl_app(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "dl_app", *args]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MiB (this child's own
    ``ru_maxrss``), stdout."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, text


def fill(data: Path, entries: int, env: dict[str, str]) -> None:
    export = data.parent / "cli_start_export.json"
    export.write_text(json.dumps(make_export(entries, messages=4, summary_chars=120),
                                 ensure_ascii=False), encoding="utf-8")
    t0 = time.perf_counter()
    subprocess.run(dl_app(["memory", "import", str(export)]), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"imported {entries} entries in {time.perf_counter() - t0:.0f} s")


def start_app(mode: str, data: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    if mode == "window":
        argv = ["xvfb-run", "-a", *dl_app(["window"])]
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        want = "Window ready"
    else:
        proc = subprocess.Popen([sys.executable, "-c", APP, str(data)], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        want = "ready"
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(want):
            return proc
    raise SystemExit(f"the app did not start ({proc.wait()})")


def importtime(env: dict[str, str], top: int = 15) -> None:
    argv = [sys.executable, "-X", "importtime", "-m", "dl_app", *COMMANDS["memory search"]]
    err = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            rows.append((int(parts[0]), int(parts[1]), parts[2].rstrip()))
        except ValueError:
            continue
    print(f"\nimports of a search: {sum(r[0] for r in rows) / 1e6:.2f} s in {len(rows)} modules")
    print(f"top {top} by cumulative time (ms):")
    for _self, cum, name in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"  {cum / 1000:8.0f}  {name}")
    print(f"top {top} by own time (ms):")
    for own, _cum, name in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"  {own / 1000:8.0f}  {name.strip()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--entries", type=int, default=200)
    ap.add_argument("--data-dir", type=Path, help="use (and keep) this data dir")
    ap.add_argument("--app", choices=("none", "headless", "window"), default="none")
    ap.add_argument("--bytecode", choices=("cache", "env"), default="cache")
    ap.add_argument("--importtime", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dl-cli-start-"))
    data = args.data_dir or tmp / "data"
    env = {**os.environ, "DL_DATA_DIR": str(data), "LANG": "en_US.UTF-8"}
    if args.bytecode == "cache":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "dl-cli-start-pyc")
    app = None
    try:
        if not (data / "diary.lance").exists():
            data.mkdir(parents=True, exist_ok=True)
            fill(data, args.entries, env)
        if args.app != "none":
            app = start_app(args.app, data, env)
        print(f"python {sys.version.split()[0]}, bytecode: {args.bytecode}, app: {args.app}, "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"{'command':<16}{'median s':>10}{'p90 s':>8}{'CPU s':>8}{'max RSS MiB':>13}")
        for name, cmd in COMMANDS.items():
            run_once(dl_app(cmd), env)  # warm the file cache (and the bytecode cache)
            walls, cpus, rss = [], [], []
            for _ in range(args.runs):
                wall, cpu, mib, out = run_once(dl_app(cmd), env)
                walls.append(wall)
                cpus.append(cpu)
                rss.append(mib)
            if name == "memory search":
                assert json.loads(out), "the search found nothing"
            p90 = statistics.quantiles(walls, n=10)[-1] if len(walls) > 1 else walls[0]
            print(f"{name:<16}{statistics.median(walls):>10.2f}{p90:>8.2f}"
                  f"{statistics.median(cpus):>8.2f}{max(rss):>13}")
        if args.importtime:
            importtime(env)
    finally:
        if app is not None:
            os.killpg(app.pid, signal.SIGTERM)  # xvfb-run's children too
            app.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
