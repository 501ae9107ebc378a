"""What the avatar costs the page: bytes it loads, time until each model shows, and
the browser's CPU while the chat page sits idle with it (Debian Chromium, headless,
SwiftShader WebGL, against the real ``dl-app serve``).

    .venv/bin/python bench/avatar_cost.py [--seconds 8]

CPU is the browser's process tree's user+system time over the idle window, as a
share of one core. Software WebGL makes it far higher than on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from frontend_helpers import CHROMIUM, CHROMIUM_ARGS, dl_serve

ARGS = [*CHROMIUM_ARGS, "--enable-unsafe-swiftshader"]
TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root_pid: int) -> float:
    """CPU seconds (user+system) of ``root_pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
        todo.extend(children.get(pid, []))
    return total


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    front = ROOT / "frontend"
    print(f"vendored runtime scripts: {folder_bytes(front / 'vendor') / 1e6:.2f} MB on disk")
    for model in ("haru", "shizuku", "hijiki"):
        print(f"model {model}: {folder_bytes(front / 'models' / model) / 1e6:.2f} MB on disk")
    rows = []
    with sync_playwright() as p:
        for model in ("svg", "haru", "shizuku", "hijiki", "off"):
            data = Path(tempfile.mkdtemp())
            avatar = {"enabled": False} if model == "off" else {"model": model}
            (data / "settings.json").write_text(json.dumps({"avatar": avatar}))
            with dl_serve(data, "http://127.0.0.1:9/v1") as url:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 720})
                start = time.monotonic()
                page.goto(url)
                page.wait_for_function(
                    "window.dlAvatar && ['live2d', 'fallback', 'off'].includes(dlAvatar.state)",
                    timeout=60_000,
                )
                shown = time.monotonic() - start
                state = page.evaluate("dlAvatar.state")
                time.sleep(1.0)
                loaded = page.evaluate(
                    "performance.getEntriesByType('resource')"
                    ".reduce((n, e) => n + (e.decodedBodySize || 0), 0)"
                )
                # this process's children: Playwright's driver, Chromium, dl-app serve
                before = tree_cpu(os.getpid()) - _own_cpu()
                time.sleep(args.seconds)
                cpu = (tree_cpu(os.getpid()) - _own_cpu() - before) / args.seconds
                rows.append((model, state, shown, loaded / 1e6, cpu))
                browser.close()
    print(f"{'model':8} {'state':9} {'shown after':>12} {'page loaded':>12} {'idle CPU':>9}")
    for model, state, shown, mb, cpu in rows:
        print(f"{model:8} {state:9} {shown:>10.2f} s {mb:>9.2f} MB {cpu * 100:>8.0f}%")


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


if __name__ == "__main__":
    main()
