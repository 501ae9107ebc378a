"""Measure the box around everything a bundled Live2D model draws and store it in its
avatar.json ("layout": {"frame": {"box": [x0, y0, x1, y1]}}), which frame.js fits in
the avatar panel. Run again after a bundled model or its motions change:

    .venv/bin/python scripts/avatar-frame.py [MODEL...]

The real page loads the model in Debian's Chromium; the model is then stepped by hand
(its own ticker stopped) through every motion of every group, twice in opposite
orders (a motion also starts from where the one before left the arms), at 30 steps a
second, and the union of the visible meshes (hit areas left out) is kept.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from frontend_helpers import chromium, dl_serve, open_in, settle  # noqa: E402

MODELS = {"haru": "haru", "shizuku": "shizuku", "hijiki": "hijiki"}

CAPTURE = """() => new Promise((resolve) => {
  const proto = PIXI.live2d.Live2DModel.prototype;
  const render = proto._render;
  proto._render = function (r) {
    window.__l2d = this;
    proto._render = render;
    resolve();
    return render.call(this, r);
  };
})"""

SWEEP = """async () => {
  const { drawnBox } = await import('/js/avatar/frame.js');
  const m = window.__l2d, im = m.internalModel;
  m.visible = false;                 // no renders: nothing else steps the model
  PIXI.Ticker.shared.stop();
  const groups = im.motionManager.definitions || {};
  const order = [];
  for (const [g, list] of Object.entries(groups)) list.forEach((_, i) => order.push([g, i]));
  let now = performance.now();
  let box = null;
  const step = () => {
    now += 1000 / 30;
    im.update(1000 / 30, now);
    const b = drawnBox(im);
    if (!b) return;
    box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]),
                 Math.max(box[2], b[2]), Math.max(box[3], b[3])] : b;
  };
  for (const [g, i] of [...order, ...order.slice().reverse()]) {
    await im.motionManager.startMotion(g, i, PIXI.live2d.MotionPriority.FORCE);
    for (let n = 0; n < 30 * 8 && (n < 30 || !im.motionManager.isFinished()); n++) step();
  }
  return { box: box && box.map((v) => Math.round(v)), motions: order.length };
}"""


def main() -> None:
    for model in sys.argv[1:] or MODELS:
        data = Path(tempfile.mkdtemp())
        (data / "settings.json").write_text(json.dumps({"avatar": {"model": model}}))
        with dl_serve(data, "http://127.0.0.1:9/v1") as url, \
                chromium("--enable-unsafe-swiftshader") as browser:
            page = open_in(browser, url, width=1100, height=800).page
            settle(page)
            page.evaluate(CAPTURE)
            got = page.evaluate(SWEEP)
        path = ROOT / "frontend" / "models" / MODELS[model] / "avatar.json"
        spec = json.loads(path.read_text(encoding="utf-8"))
        frame = spec.setdefault("layout", {}).setdefault("frame", {})
        frame["box"] = got["box"]
        text = json.dumps(spec, ensure_ascii=False, indent=2)
        path.write_text(text + "\n", encoding="utf-8")
        print(model, got)


if __name__ == "__main__":
    main()
