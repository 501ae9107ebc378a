"""Draw the app icon: ``icon.svg`` (the source of the design) and the raster files the
installers need, ``icon.png`` (1024 px and 256 px), ``icon.ico`` (Windows) and
``icon.icns`` (macOS), and ``src/dl_app/icons/{tray,icon}.png`` (the tray and window
icons the app loads at run time), all from the same geometry below.

    python build/icons/make_icons.py        (needs pillow: pip install pillow)

The design: a rounded square with a blue-to-violet gradient and a white, smiling face
with a small spark above it -- a companion that is awake.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
S = 1024  # design units = pixels of the largest raster
RADIUS = 224
TOP, BOTTOM = (0x5B, 0x8D, 0xFF), (0xA8, 0x5C, 0xF5)  # gradient, top-left to bottom-right
FACE = (512, 560, 300)  # centre x, centre y, radius
RING = 44
EYES = ((408, 500), (616, 500))
EYE_R = 42
SMILE = (372, 520, 652, 760)  # bounding box of the smile arc (lower half)
SPARK = (512, 160, 78)  # a four-pointed star: centre x, y, arm length


def hexcol(c: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % c


def spark_points(cx: float, cy: float, arm: float, waist: float) -> list[tuple[float, float]]:
    return [
        (cx, cy - arm), (cx + waist, cy - waist), (cx + arm, cy), (cx + waist, cy + waist),
        (cx, cy + arm), (cx - waist, cy + waist), (cx - arm, cy), (cx - waist, cy - waist),
    ]


def svg() -> str:
    fx, fy, fr = FACE
    sx0, sy0, sx1, sy1 = SMILE
    rx, ry = (sx1 - sx0) / 2, (sy1 - sy0) / 2
    cy = (sy0 + sy1) / 2
    pts = " ".join(f"{x:g},{y:g}" for x, y in spark_points(*SPARK, SPARK[2] * 0.22))
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {S} {S}" width="{S}" height="{S}">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="{hexcol(TOP)}"/>
      <stop offset="1" stop-color="{hexcol(BOTTOM)}"/>
    </linearGradient>
  </defs>
  <rect width="{S}" height="{S}" rx="{RADIUS}" fill="url(#bg)"/>
  <circle cx="{fx}" cy="{fy}" r="{fr - RING / 2}" fill="none" stroke="#fff" stroke-width="{RING}"/>
  <circle cx="{EYES[0][0]}" cy="{EYES[0][1]}" r="{EYE_R}" fill="#fff"/>
  <circle cx="{EYES[1][0]}" cy="{EYES[1][1]}" r="{EYE_R}" fill="#fff"/>
  <path d="M {sx0} {cy} A {rx:g} {ry:g} 0 0 0 {sx1} {cy}" fill="none" stroke="#fff"
        stroke-width="{RING * 0.8:g}" stroke-linecap="round"/>
  <polygon points="{pts}" fill="#fff"/>
</svg>
"""


def raster(size: int) -> Image.Image:
    """Draw at 2x the largest size and scale down (pillow draws without anti-aliasing)."""
    big = 2 * S
    k = big / S
    grad = Image.new("RGB", (big, big))
    px = grad.load()
    assert px is not None
    for y in range(0, big, 2):
        for x in range(0, big, 2):
            t = (x + y) / (2 * big)
            c = tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM, strict=True))
            px[x, y] = px[x + 1, y] = px[x, y + 1] = px[x + 1, y + 1] = c
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), RADIUS * k, fill=255)
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    img.paste(grad, (0, 0), mask)
    d = ImageDraw.Draw(img)
    fx, fy, fr = (v * k for v in FACE)
    d.ellipse((fx - fr, fy - fr, fx + fr, fy + fr), outline="white", width=round(RING * k))
    for ex, ey in EYES:
        r = EYE_R * k
        d.ellipse((ex * k - r, ey * k - r, ex * k + r, ey * k + r), fill="white")
    w = round(RING * 0.8 * k)
    sx0, sy0, sx1, sy1 = (v * k for v in SMILE)
    d.arc((sx0, sy0, sx1, sy1), 0, 180, fill="white", width=w)
    for x in (sx0, sx1):  # round caps
        cy = (sy0 + sy1) / 2
        d.ellipse((x - w / 2, cy - w / 2, x + w / 2, cy + w / 2), fill="white")
    cx, cy, arm = (v * k for v in SPARK)
    d.polygon(spark_points(cx, cy, arm, arm * 0.22), fill="white")
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main(out: Path = HERE) -> int:
    out.mkdir(parents=True, exist_ok=True)
    (out / "icon.svg").write_text(svg(), encoding="utf-8")
    full = raster(S)
    full.save(out / "icon.png")
    full.resize((256, 256), Image.Resampling.LANCZOS).save(out / "icon-256.png")
    full.resize((64, 64), Image.Resampling.LANCZOS).save(out / "tray.png")
    full.save(out / "icon.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64),
                                      (128, 128), (256, 256)])
    full.save(out / "icon.icns")
    # The tray and the windows use these at run time (package data of dl_app).
    pkg = HERE.parents[1] / "src" / "dl_app" / "icons"
    pkg.mkdir(exist_ok=True)
    full.resize((64, 64), Image.Resampling.LANCZOS).save(pkg / "tray.png")
    full.resize((256, 256), Image.Resampling.LANCZOS).save(pkg / "icon.png")
    for name in ("icon.svg", "icon.png", "icon-256.png", "tray.png", "icon.ico", "icon.icns"):
        print(f"{out / name}: {(out / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
