"""Make the avatar pictures the setup and settings show (frontend/img/avatars/):
each bundled avatar rendered by the real page in Debian's Chromium, cropped to
its upper body. Run again after a bundled model changes:

    .venv/bin/python scripts/avatar-thumbs.py [MODEL...]

Look at the pictures: a blink may be caught (then make that model again).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from frontend_helpers import chromium, dl_serve, open_in, settle  # noqa: E402
from PIL import Image  # noqa: E402

OUT = ROOT / "frontend" / "img" / "avatars"
SIZE = (128, 160)
# Top of the crop in the 308-px-wide avatar panel at 1100x800 (280x350 boxes).
WAIT = {"shizuku": 800}  # her idle motion closes her eyes later
TOPS = {"haru": 100, "shizuku": 165, "hijiki": 225, "svg": 285}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for model in sys.argv[1:] or TOPS:  # a blink caught? make that one again
        top = TOPS[model]
        data = Path(tempfile.mkdtemp())
        (data / "settings.json").write_text(json.dumps({"avatar": {"model": model}}))
        with dl_serve(data, "http://127.0.0.1:9/v1") as url, \
                chromium("--enable-unsafe-swiftshader") as browser:
            page = open_in(browser, url, width=1100, height=800).page
            settle(page, "fallback" if model == "svg" else "live2d")
            page.evaluate("document.querySelector('#setup')?.remove()")
            page.wait_for_timeout(WAIT.get(model, 2500))  # the idle motion settles into its pose
            shot = Image.open(io.BytesIO(page.locator("#avatar-area").screenshot()))
        left = (shot.width - 280) // 2
        crop = shot.convert("RGB").crop((left, top, left + 280, top + 350))
        crop = crop.resize(SIZE, Image.Resampling.LANCZOS).quantize(colors=128)
        crop.save(OUT / f"{model}.png", optimize=True)
        print(model, (OUT / f"{model}.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
