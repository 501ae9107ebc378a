"""Kill a memory operation at an exact file-system write, then check the memory.

For tests/library/test_kill_points.py and bench/kill_every_write.py. ``killpoint.c``
(LD_PRELOAD) counts the writes under the data dir with one counter for the
whole process and SIGKILLs it on entry to the Nth. ``Killer`` starts one
Python process with it preloaded and ``dl_app`` imported, which forks a child
per run (so a run costs the operation, not Python's start):

    with Killer() as killer:
        n = killer.run("import", data, env, KINDS, at=0, arg=file).count   # how many
        out = killer.run("import", data, env, KINDS, at=7, arg=file)       # killed at the 7th
        assert out.killed

Operations: ``open`` (the first open of a new data dir), ``import`` (of the
file ``arg``), ``consolidate``, ``reindex`` (everything). ``Expect`` checks
the memory after a kill: it opens, and holds exactly the memory from before
or from after the operation (nothing lost, nothing duplicated), with the
turn index consistent and complete once ``reindex`` has run.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory_helpers import make_export

HERE = Path(__file__).resolve().parent
STRUCTURE = "mkdir,rename,unlink,create,fsync"  # every one of these is killed at in CI
DATA_WRITES = "write"  # a seeded sample of these


def build_shim(out_dir: Path) -> Path | None:
    """Compile killpoint.c; None when there is no C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    so = out_dir / "killpoint.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(so), str(HERE / "killpoint.c"),
                    "-ldl"], check=True, capture_output=True)
    return so


@dataclass(frozen=True)
class Outcome:
    killed: bool  # SIGKILLed at the armed write
    count: int  # writes counted (when not killed)
    error: str  # a traceback if the operation failed on its own


class Killer:
    """The preloaded fork server; ``run`` one operation, armed to kill."""

    def __init__(self, so: Path | None = None) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="killpoint-"))
        so = so or build_shim(self._tmp)
        if so is None:
            raise RuntimeError("killpoint needs a C compiler (cc)")
        env = {**os.environ, "LD_PRELOAD": str(so), "DLK_SO": str(so),
               "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), str(HERE),
                                              os.environ.get("PYTHONPATH", "")])}
        self._proc = subprocess.Popen([sys.executable, "-u", __file__], env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "ready"

    def run(self, op: str, data: Path, env: Mapping[str, str], kinds: str, at: int = 0,
            arg: str = "", log: Path | None = None) -> Outcome:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        order = {"op": op, "data": str(data), "env": dict(env), "kinds": kinds, "at": at,
                 "arg": arg, "log": str(log or "")}
        self._proc.stdin.write(json.dumps(order) + "\n")
        self._proc.stdin.flush()
        return Outcome(**json.loads(self._proc.stdout.readline()))

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=30)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Killer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def kill_points(log: Path) -> tuple[int, list[int]]:
    """From a counting run's log: how many counted calls, and the kill points
    that leave distinct states on disk. Killing before call n leaves what the
    calls before it did; that is what killing before n-1 leaves when nothing
    between the two changed the disk (an fsync, a call that failed: a process
    kill loses no page cache), so n is skipped."""
    counted, distinct, changed = 0, [], True
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        flag, kind, result = line.split(" ", 3)[:3]
        if flag == "+":
            counted += 1
            if changed:
                distinct.append(counted)
            changed = False
        if result == "ok" and kind != "fsync":
            changed = True
    return counted, distinct


def _operate(order: dict[str, Any]) -> str:
    """In the forked child: arm the shim, run the operation."""
    from dl_app.memory import Memory

    os.environ.update(order["env"])
    shim = ctypes.CDLL(os.environ["DLK_SO"])
    shim.dlk_arm.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_long, ctypes.c_char_p]
    shim.dlk_count.restype = ctypes.c_long
    data = Path(order["data"])
    shim.dlk_arm(str(data).encode(), order["kinds"].encode(), order["at"], order["log"].encode())
    with Memory.open(data, env=order["env"]) as mem:
        if order["op"] == "import":
            mem.import_bytes(Path(order["arg"]).read_bytes())
        elif order["op"] == "consolidate":
            mem.consolidate()
        elif order["op"] == "reindex":
            mem.reindex(everything=True)
    return json.dumps({"killed": False, "count": shim.dlk_count(), "error": ""})


def _in_child(work: Callable[[], str]) -> tuple[str, int]:
    """Run ``work`` in a forked child; its last line of output and its status."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        code = 0
        try:
            print(work(), flush=True)
        except BaseException:
            print(json.dumps({"killed": False, "count": -1, "error": traceback.format_exc()}),
                  flush=True)
            code = 3
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        said = f.read().strip()
    _, status = os.waitpid(pid, 0)
    return (said.splitlines()[-1] if said else ""), status


def _warm_up(env: dict[str, str]) -> None:
    """Import here what opening a memory imports (in a child: no LanceDB
    threads here), so that each forked run pays for its work only."""
    def modules() -> str:
        from dl_app.memory import Memory

        with tempfile.TemporaryDirectory() as tmp, Memory.open(Path(tmp) / "d", env=env):
            pass
        return json.dumps(sorted(sys.modules))

    said, _ = _in_child(modules)
    for name in json.loads(said) if said.startswith("[") else []:
        with contextlib.suppress(Exception):  # one that imports only in its own context
            __import__(name)
    from dl_app.adapters.tokenizer import QwenCounter

    QwenCounter().count("warm")  # its tables take most of an open's time to load


def _serve() -> None:
    import warnings

    import lancedb  # noqa: F401

    import dl_app.memory  # noqa: F401  (imported once, before forking)

    warnings.filterwarnings("ignore", "lancedb fork support", RuntimeWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    print("ready", flush=True)
    warm = False
    for line in sys.stdin:
        order = json.loads(line)
        if not warm:
            _warm_up(order["env"])
            warm = True
        said, status = _in_child(lambda order=order: _operate(order))
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            said = json.dumps({"killed": True, "count": order["at"], "error": ""})
        print(said or json.dumps({"killed": False, "count": -1,
                                  "error": f"no answer, status {status}"}), flush=True)


# -- what a killed operation may leave: the memory from before or after it -------


def picture(data: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """Open the memory (as the next start would), complete its indexes, and
    check them: every entry has a vector, the turn index holds each archived
    user/assistant message exactly once, with a vector. Returns the export."""
    from dl_app.memory import Memory

    with Memory.open(data, env=env) as mem:
        mem.reindex()
        shown, snap = mem.show(), mem.snapshot()
        assert shown["indexedCount"] == shown["diaryCount"] == len(snap.diary), shown
        uuids = [e.uuid for e in snap.diary]
        assert len(uuids) == len(set(uuids)), uuids
        engine = mem._engine
        if engine.turns is not None:
            want = sorted(m.id for m in snap.archive if m.role in ("user", "assistant"))
            have = sorted(t.id for t in engine.turns.of_entries(uuids))
            assert have == want, ("turn index", have, want)
            assert engine.turns.count() == len(want)
            space = engine.indexer.space()
            assert space is not None and engine.turns.embedded_count(*space) == len(want)
        export = mem.export_dict()
    export.pop("version")
    return export


def consolidated(before: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether ``now`` is ``before`` after one whole consolidation."""
    def said(messages: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
        return sorted((m["role"], m["content"], m["timestamp"]) for m in messages)

    old = {e["uuid"] for e in before["longTermMemory"]}
    new = [e for e in now["longTermMemory"] if e["uuid"] not in old]
    assert not now["shortTermMemory"], now["shortTermMemory"]
    assert len(new) == 1 and old <= {e["uuid"] for e in now["longTermMemory"]}, now
    assert said(now["archivedMemory"]) == said(
        before["archivedMemory"] + before["shortTermMemory"]), now["archivedMemory"]
    assert {m["belongTo"] for m in now["archivedMemory"]} <= {e["uuid"] for e in
                                                              now["longTermMemory"]}
    return True


def conversation(entries: int = 2) -> dict[str, Any]:
    """An export with a conversation of two turns going on."""
    export = make_export(entries)
    export["shortTermMemory"] = [
        {"role": role, "content": text, "timestamp": 1_700_900_000_000 + i * 1000}
        for i, (role, text) in enumerate([("user", "我养了一只猫"), ("assistant", "好可爱！"),
                                          ("user", "它叫咪咪"), ("assistant", "咪咪好名字")])
    ]
    return export


# -- a campaign: count, then kill at each chosen point and check -----------------

OPS = ("open", "import", "consolidate", "reindex")


def prepare(op: str, tmp: Path, env: dict[str, str]) -> tuple[Path, str, dict[str, str]]:
    """The data dir an operation starts from, its argument and its environment
    (reindexing starts from a memory indexed by another embedding model)."""
    from dl_app.memory import Memory

    template = tmp / "template"
    if op == "open":
        return template, "", env
    export = conversation() if op == "consolidate" else make_export(2)
    with Memory.open(template, env=env) as mem:
        mem.import_bytes(json.dumps(export).encode())
    new = tmp / "new.json"
    new.write_text(json.dumps(make_export(3, self_name="新名", user_name="小华"),
                              ensure_ascii=False), encoding="utf-8")
    if op == "reindex":
        return template, "", {**env, "DL_EMBED_MODEL": "test-embed-2"}
    return template, str(new), env


@dataclass
class Campaign:
    """What one operation's kills found."""

    op: str
    calls: int = 0  # mkdir/rename/link/unlink/create/fsync calls under the data dir
    distinct: int = 0  # of them, the points that leave distinct states
    writes: int = 0  # data writes
    killed_at: int = 0  # points killed at
    seen: dict[str, int] = field(default_factory=lambda: {"before": 0, "after": 0,
                                                          "not killed": 0})
    failures: list[str] = field(default_factory=list)


Choose = Callable[[list[int], int], list[tuple[str, int]]]  # (distinct points, writes)


def every_point(points: list[int], writes: int) -> list[tuple[str, int]]:
    return [(STRUCTURE, n) for n in points] + [(DATA_WRITES, n) for n in range(1, writes + 1)]


def sampled(writes_kept: int, seed: str, most: int | None = None) -> Choose:
    """Every structural point (or ``most`` of them, evenly spread from a seeded
    start) and a seeded sample of the data writes."""
    def choose(points: list[int], writes: int) -> list[tuple[str, int]]:
        rng = random.Random(seed)
        if most is not None and len(points) > most:
            step, start = len(points) / most, rng.random() * len(points) / most
            points = [points[int(start + i * step)] for i in range(most)]
        some = rng.sample(range(1, writes + 1), min(writes_kept, writes))
        return [(STRUCTURE, n) for n in points] + [(DATA_WRITES, n) for n in sorted(some)]
    return choose


def campaign(op: str, killer: Killer, tmp: Path, env: dict[str, str], choose: Choose,
             stop_at_failure: bool = True) -> Campaign:
    """Count the operation's writes, kill at the chosen ones, check after each."""
    template, arg, env = prepare(op, tmp, env)
    runs = iter(range(1_000_000))
    result = Campaign(op)

    def fresh() -> Path:
        data = tmp / f"run{next(runs)}"
        if template.exists():
            shutil.copytree(template, data)
        return data

    before = picture(fresh(), env) if template.exists() else None
    logs = {kinds: tmp / f"{kinds[:5]}.log" for kinds in (STRUCTURE, DATA_WRITES)}
    done = {}
    for kinds, log in logs.items():  # the counting runs
        data = fresh()
        out = killer.run(op, data, env, kinds, at=0, arg=arg, log=log)
        assert not out.killed and not out.error, out.error
        done[kinds] = picture(data, env)
    after = done[STRUCTURE]
    if op == "consolidate":
        assert before is not None and consolidated(before, after)
    else:
        assert after == done[DATA_WRITES], op
        assert (after == before) == (op == "reindex"), op
    result.calls, points = kill_points(logs[STRUCTURE])
    result.writes, _ = kill_points(logs[DATA_WRITES])
    result.distinct = len(points)
    for kinds, n in choose(points, result.writes):
        result.killed_at += 1
        data = fresh()
        where = f"{op} killed at {'data write' if kinds == DATA_WRITES else 'call'} #{n}"
        try:
            out = killer.run(op, data, env, kinds, at=n, arg=arg)
            assert not out.error, out.error
            now = picture(data, env)  # it opens, pending work done, indexes whole
            if not out.killed:
                result.seen["not killed"] += 1  # the threads took another order this time
            if now == before:
                result.seen["before"] += 1
            else:
                assert now == after or (op == "consolidate" and consolidated(before or {}, now))
                result.seen["after"] += 1
        except Exception as e:
            result.failures.append(f"{where} ({data}): {type(e).__name__}: {e}"[:2000])
            if stop_at_failure:
                break
    return result


if __name__ == "__main__":
    _serve()
