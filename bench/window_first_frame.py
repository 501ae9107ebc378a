"""How soon the desktop window shows something (issue 17: "the desktop window
shows its frame and a loading state within 1 s"), from outside the app.

Starts one Xvfb screen, then ``dl-app window --selftest`` (fresh data dir, a
service address nobody answers: the page does not wait for a model) several
times, and grabs the screen every 20 ms (Pillow's XCB grab) to find:

- frame: the first grab with the window on the screen (Xvfb has no window
  manager: the root is black until the window is mapped);
- painted: the first grab where the window holds more than two colours (a
  loading state, the native one of ``desktop/loading.py`` or the page's, or the
  page itself; not a blank white or dark surface);
- ready: when the app prints ``Window ready`` (the page has its engine and
  history; the figure ``build/selftest_bundle.sh`` reports for the package);
  cpu: the CPU time the app's process (all its threads, not the Qt WebEngine
  processes) had used by then, steadier than the wall time on a shared machine.

Times are from the launch of the process. Printed beside the load average.
``--src A --src B`` compares source trees (``PYTHONPATH``), one run of each in turn.

    .venv/bin/python bench/window_first_frame.py [--runs 5] [--src OLD/src --src src]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import ImageGrab

GRAB_EVERY = 0.02


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp",
         "-noreset"],  # no reset when the last client leaves (a grab then fails)
        pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            sys.exit("Xvfb did not start")
        number += chunk
    os.close(r)
    return xvfb, f":{number.decode().strip()}"


def colours(display: str, keep: Path | None = None) -> int:
    """0 while the screen is black (no window yet), else how many distinct colours
    the window shows (capped at 65: 'many' is enough); ``keep``: save the grab."""
    img = ImageGrab.grab(xdisplay=display).convert("RGB")
    if keep is not None:
        img.save(keep)
    box = img.getbbox()  # around everything that is not black
    if box is None:
        return 0
    found = img.crop(box).getcolors(maxcolors=64)
    return 65 if found is None else len(found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(display: str, timeout: float, shots: Path | None, theme: str,
            src: str | None = None) -> dict[str, float]:
    env = {**os.environ, "DISPLAY": display, "DL_LLM_BASE_URL": "http://127.0.0.1:9/v1",
           "QT_QPA_PLATFORM": "xcb"}
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    with tempfile.TemporaryDirectory(prefix="dl-frame-") as tmp:
        env["DL_DATA_DIR"] = tmp
        (Path(tmp) / "settings.json").write_text(json.dumps({"theme": theme}), encoding="utf-8")
        dl_app = shutil.which("dl-app", path=str(Path(sys.executable).parent)) or "dl-app"
        t0 = time.monotonic()
        proc = subprocess.Popen([dl_app, "window", "--selftest", "--timeout", str(int(timeout))],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got: dict[str, float] = {}
        out = b""
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() - t0 < timeout and "ready" not in got:
            now = time.monotonic() - t0
            n = colours(display, shots / f"{len(got)}.png" if shots and len(got) < 2 else None)
            if n and "frame" not in got:
                got["frame"] = now
            if n > 2 and "painted" not in got:  # more than a blank surface
                got["painted"] = now
            if select.select([proc.stdout], [], [], GRAB_EVERY)[0]:
                out += proc.stdout.read() or b""
                if b"Window ready" in out:
                    got["ready"] = time.monotonic() - t0
                    got["cpu"] = cpu_seconds(proc.pid)
        proc.wait(timeout=60)
        return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--theme", choices=["system", "light", "dark"], default="system")
    parser.add_argument("--shots", type=Path,
                        help="save the grabs at frame (0.png) and painted (1.png) here")
    parser.add_argument("--src", action="append",
                        help="a source tree to run (PYTHONPATH); repeat to alternate")
    args = parser.parse_args()
    sources: list[str | None] = list(args.src or [None])
    xvfb, display = start_xvfb()
    try:
        rows: dict[str | None, list[dict[str, float]]] = {s: [] for s in sources}
        loads = []
        for i in range(args.runs):
            for src in sources:
                got = one_run(display, args.timeout, args.shots, args.theme, src)
                rows[src].append(got)
                loads.append(os.getloadavg()[0])
                name = f" {src}" if src else ""
                print(f"run {i + 1}{name}: "
                      + ", ".join(f"{k} {v:.2f} s" for k, v in got.items())
                      + f" (load {loads[-1]:.1f})", flush=True)
        for src in sources:
            if src:
                print(f"-- {src}")
            for key in ("frame", "painted", "ready", "cpu"):
                seen = [r[key] for r in rows[src] if key in r]
                if seen:
                    print(f"{key}: median {statistics.median(seen):.2f} s, "
                          f"min {min(seen):.2f}, max {max(seen):.2f} ({len(seen)} runs)")
        print(f"load {min(loads):.1f}-{max(loads):.1f}")
    finally:
        xvfb.terminate()


if __name__ == "__main__":
    main()
