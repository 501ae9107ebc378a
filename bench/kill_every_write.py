"""Kill the first open, an import, a consolidation and a reindex at every
file-system write, and check the memory after each kill.

    python bench/kill_every_write.py [--ops open,import,consolidate,reindex] [--keep]

Each operation is counted once (tests/killpoint.c, preloaded: mkdir, rename,
link, unlink, file creation, fsync and data writes under the data dir), then
run again from the same start and SIGKILLed at each of them, structural calls
(the ones that leave a distinct state on disk) and every data write. After each
kill the memory is opened as the next start would open it: it must open,
finish or roll back what was pending (a staged import, a consolidation), and
hold exactly the memory from before or after the operation, with the diary
vectors and the turn index complete and without duplicates (tests/kill_points.py).
The scripted model server (tests/servers) answers the consolidation and the
embeddings. Needs Linux and a C compiler. CI runs a sample: tests/library/test_kill_points.py.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kill_points import OPS, Killer, campaign, every_point
from servers.companion import companion_responder
from servers.openai_compat import OpenAICompatServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", default=",".join(OPS), help="comma list of " + ", ".join(OPS))
    parser.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = parser.parse_args()
    failures = 0
    tmp = tempfile.mkdtemp(prefix="kill-every-write-")
    with OpenAICompatServer() as server, Killer() as killer:
        server.default_responder = companion_responder
        env = {"DL_LLM_BASE_URL": server.base_url, "DL_LLM_MODEL": "qwen-test",
               "DL_EMBED_BASE_URL": server.base_url, "DL_EMBED_MODEL": "test-embed",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        print(f"{'operation':<12} {'calls':>6} {'distinct':>8} {'writes':>6} {'killed':>6} "
              f"{'before':>6} {'after':>6} {'!killed':>7} {'failed':>6} {'s':>6}")
        for op in args.ops.split(","):
            start = time.monotonic()
            work = Path(tmp) / op
            work.mkdir()
            found = campaign(op, killer, work, env, every_point, stop_at_failure=False)
            s = found.seen
            print(f"{op:<12} {found.calls:>6} {found.distinct:>8} {found.writes:>6} "
                  f"{found.killed_at:>6} {s['before']:>6} {s['after']:>6} {s['not killed']:>7} "
                  f"{len(found.failures):>6} {time.monotonic() - start:>6.0f}", flush=True)
            for failure in found.failures:
                print("   ", failure.replace("\n", "\n    "))
            failures += len(found.failures)
    if args.keep:
        print("data dirs kept in", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("calls: mkdir/rename/link/unlink/create/fsync; distinct: the calls killed at (the "
          "others leave the same disk as the one before); writes: data writes, all killed at")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
