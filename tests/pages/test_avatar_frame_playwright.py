"""Haru framed inside the avatar panel at every size (issue 17: her hands were cut off
at the panel's edges), in a real browser: while she plays her widest motions, every
drawn frame's meshes (what the Cubism core computed for that frame, placed by the
model's transforms) must lie inside the panel's canvas.

The model is reached through pixi-live2d-display's prototype, as in
test_avatar_pose_playwright.py, so the test needs no hook of the app's.
"""

from __future__ import annotations

from frontend_helpers import SHOTS, require_chromium, settle

require_chromium()

CHROMIUM_EXTRA = ("--enable-unsafe-swiftshader",)

# After every render: the box (CSS pixels of the canvas) around the drawn meshes, hit
# areas left out, into window.__boxes; the model in window.__l2d.
CAPTURE = """() => {
  window.__boxes = [];
  const proto = PIXI.live2d.Live2DModel.prototype;
  const render = proto._render;
  proto._render = function (renderer) {
    const out = render.call(this, renderer);
    window.__l2d = this;
    const im = this.internalModel, raw = im.coreModel.getModel(), d = raw.drawables;
    let box = null;
    const p = new PIXI.Point();
    for (let i = 0; i < d.count; i++) {
      if (d.opacities[i] <= 0.01 || /^HitArea/i.test(d.ids[i])) continue;
      const v = im.getDrawableVertices(i);
      for (let k = 0; k < v.length; k += 2) {
        p.set(v[k], v[k + 1]);
        const g = this.toGlobal(im.localTransform.apply(p, p));
        box = box ? [Math.min(box[0], g.x), Math.min(box[1], g.y), Math.max(box[2], g.x), Math.max(box[3], g.y)]
                  : [g.x, g.y, g.x, g.y];
      }
    }
    const c = renderer.view;
    window.__boxes.push({ box, w: c.clientWidth, h: c.clientHeight });
    return out;
  };
}"""

# Play a motion (forced, as a tap does) and resolve with the boxes drawn until it ends.
PLAY = """([group, index]) => new Promise((resolve) => {
  const m = window.__l2d, mm = m.internalModel.motionManager;
  window.__boxes = [];
  m.motion(group, index, PIXI.live2d.MotionPriority.FORCE);
  const wait = () => {
    const n = window.__boxes.length;
    const over = mm.state.currentGroup !== group || mm.state.currentIndex !== index || mm.isFinished();
    if ((n > 10 && over) || n > 120) resolve(window.__boxes);
    else requestAnimationFrame(wait);
  };
  requestAnimationFrame(wait);
})"""

# Haru's widest motions (scripts/avatar-frame.py measured every motion): the arms
# held out in "Use" 4 and 7, and the widest idle.
WIDE = [("Use", 7), ("Use", 4), ("Idle", 3)]


def outside(frames: list[dict]) -> list[tuple]:
    """(frame, box, canvas size) for every frame whose meshes leave the canvas at the
    sides or the top; the bottom is checked by the caller."""
    bad = []
    for n, f in enumerate(frames):
        x0, y0, x1, _ = f["box"]
        if x0 < -0.5 or y0 < -0.5 or x1 > f["w"] + 0.5:
            bad.append((n, [round(v) for v in f["box"]], (f["w"], f["h"])))
    return bad


def check_framed(page, size: str, full_body: bool, motions=WIDE) -> None:
    drawn: list[dict] = []
    for group, index in motions:
        drawn += page.evaluate(PLAY, [group, index])
    assert len(drawn) >= 15, len(drawn)  # Use 7 lasts 2.5 s: 25 frames at the idle 10 fps
    bad = outside(drawn)
    assert not bad, f"{size}: {len(bad)} of {len(drawn)} frames leave the canvas: {bad[:4]}"
    w, h = drawn[-1]["w"], drawn[-1]["h"]
    width = max(f["box"][2] for f in drawn) - min(f["box"][0] for f in drawn)
    top = min(f["box"][1] for f in drawn)
    bottom = max(f["box"][3] for f in drawn)
    if full_body:  # the whole figure fits: the feet are inside too
        assert bottom <= h + 0.5, (size, bottom, h)
    # ...and she fills the panel: across, or from the top margin down.
    assert width >= 0.75 * w or (bottom - top) >= 0.75 * h, (size, width, bottom - top, w, h)


def test_haru_stays_inside_the_chat_page_panel_at_every_size(serve, open_page) -> None:
    with serve() as url:
        opened = open_page(url, width=800, height=600, lang="zh")
        page = opened.page
        settle(page)
        page.evaluate(CAPTURE)
        page.wait_for_function("window.__l2d && window.__boxes.length > 2")
        for width, height in ((800, 600), (1280, 800), (1920, 1080), (1100, 720)):
            page.set_viewport_size({"width": width, "height": height})
            # the panel resized and the model laid out again, then drawn
            page.wait_for_function(
                "([w]) => { const b = window.__boxes.at(-1);"
                " return b && Math.abs(b.w - document.querySelector('#avatar-area').clientWidth) < 1; }",
                arg=[width],
            )
            # all three of the widest motions at one size, the widest at the others
            motions = WIDE if width == 1280 else WIDE[:1]
            check_framed(page, f"{width}x{height}", full_body=True, motions=motions)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"avatar-framed-{width}x{height}.png"))
        opened.check_clean()


def test_haru_stays_inside_the_desktop_pet(serve, open_page) -> None:
    with serve() as url:
        pet = url + ("&" if "?" in url else "?") + "pet=1"
        opened = open_page(pet, width=320, height=440, lang="en")
        page = opened.page
        settle(page)
        page.evaluate(CAPTURE)
        page.wait_for_function("window.__l2d && window.__boxes.length > 2")
        check_framed(page, "pet 320x440", full_body=False)
        opened.check_clean()
