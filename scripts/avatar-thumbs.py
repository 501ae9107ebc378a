"""Make the avatar pictures the setup and settings show (frontend/img/avatars/):
each bundled avatar rendered by the real page in Debian's Chromium on a
transparent background (the card behind it is the page's, in the theme's
colours: css/setup.css), cropped to its upper body from where it is drawn.
Run again after a bundled model changes:

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

from PIL import Image  # noqa: E402

from frontend_helpers import TIMEOUT_MS, Opened, chromium, dl_serve, settle  # noqa: E402

OUT = ROOT / "frontend" / "img" / "avatars"
SIZE = (128, 160)
MODELS = ("haru", "shizuku", "hijiki", "svg")
WAIT = {"shizuku": 800}  # her idle motion closes her eyes later
# The part of the drawn figure the picture shows: its top (head) down to this
# share of its height (haru stands; the others are drawn to the waist or whole).
SHOWN = {"shizuku": 1.0, "hijiki": 1.0, "svg": 1.0}
UPPER_BODY = 0.42
# Only the avatar is drawn: no background or border from the avatar area up to
# the page, nothing in the area but the drawing (the Live2D canvas or the SVG face).
CLEAR = """
for (let n = document.querySelector('#avatar-area'); n; n = n.parentElement) {
  n.style.setProperty('background', 'transparent', 'important');
  n.style.setProperty('border-color', 'transparent', 'important');
}
const style = document.createElement('style');
style.textContent = `#avatar-area * { visibility: hidden !important; }
  #avatar-area canvas, #avatar-area .avatar-svg, #avatar-area .avatar-svg * {
    visibility: visible !important; }
  .avatar-stage { border: 0 !important; box-shadow: none !important; }`;
document.head.append(style);
"""


def upper_body(shot: Image.Image, share: float) -> Image.Image:
    """The top ``share`` of the drawn figure, in the picture's proportions, centred
    on the head (the widest part below it may be an arm)."""
    alpha = shot.getchannel("A").point(lambda a: 255 if a > 24 else 0)
    x0, y0, x1, y1 = alpha.getbbox() or (0, 0, shot.width, shot.height)
    height = (y1 - y0) * share * 1.1
    width = height * SIZE[0] / SIZE[1]
    head = alpha.crop((x0, y0, x1, y0 + max(1, (y1 - y0) // 6))).getbbox()
    centre = x0 + (head[0] + head[2]) / 2 if head else (x0 + x1) / 2
    top = y0 - height * 0.07
    box = (round(centre - width / 2), round(top), round(centre + width / 2), round(top + height))
    return shot.crop(box)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for model in sys.argv[1:] or MODELS:  # a blink caught? make that one again
        data = Path(tempfile.mkdtemp())
        (data / "settings.json").write_text(json.dumps({"avatar": {"model": model}}))
        with dl_serve(data, "http://127.0.0.1:9/v1") as url, \
                chromium("--enable-unsafe-swiftshader") as browser:
            ctx = browser.new_context(viewport={"width": 1100, "height": 800},
                                      device_scale_factor=2)
            ctx.set_default_timeout(TIMEOUT_MS)
            opened = Opened(ctx.new_page())
            opened.goto(url)
            page = opened.page
            settle(page, "fallback" if model == "svg" else "live2d")
            page.evaluate("document.querySelector('#setup')?.remove()")
            page.evaluate(CLEAR)  # only the avatar is drawn: no page colours behind it
            page.wait_for_timeout(WAIT.get(model, 2500))  # the idle motion settles into its pose
            area = page.locator("#avatar-area")
            shot = Image.open(io.BytesIO(area.screenshot(omit_background=True))).convert("RGBA")
        crop = upper_body(shot, SHOWN.get(model, UPPER_BODY))
        crop.resize(SIZE, Image.Resampling.LANCZOS).save(OUT / f"{model}.png", optimize=True)
        print(model, (OUT / f"{model}.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
