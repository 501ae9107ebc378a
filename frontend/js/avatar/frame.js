// Framing a Live2D model inside its panel (issue 17: Haru's hands were cut off at the
// panel's edges). The fit is taken from what the model draws, not from its canvas,
// whose empty margins differ from model to model. A bundled model's avatar.json holds
// "frame": {"box": [x0, y0, x1, y1]}, the box around everything it draws in any frame
// of any of its motions (measured by scripts/avatar-frame.py, in the units of its
// drawable vertices); a user's model is measured at its first frame and given some
// room for the arms. "frame": {"bottom": 0.62} shows only the top of the box (Haru
// from her hair to mid-thigh): that part is fitted inside the panel with a margin,
// width and height, and what lies below it may run off the bottom edge. The user's
// scale zooms around the upper part of the frame (the face) and the offsets move by
// fractions of the panel.

const MARGIN = 0.04; // of the panel's width (sides) and height (top)
const SPARE = 0.12; // of a measured box's width, each side: arms swing wider in motions

/** The box [x0, y0, x1, y1] (drawable vertex units) around the meshes drawn now, hit areas left out; or null. */
export function drawnBox(im) {
  const core = im.coreModel;
  const c4 = typeof core.setParamFloat !== "function" && typeof core.getModel === "function";
  const raw = c4 ? core.getModel() : null; // Cubism 3/4: the core's arrays
  const ids = raw ? raw.drawables.ids : (im.getDrawableIDs ? im.getDrawableIDs() : []);
  const opacity = raw ? raw.drawables.opacities : null;
  const hitIds = new Set(Object.values(im.hitAreas || {}).map((h) => h.id));
  let box = null;
  for (let i = 0; i < ids.length; i++) {
    if (hitIds.has(ids[i]) || /^hitarea/i.test(ids[i]) || (opacity && opacity[i] <= 0.01)) continue;
    const v = im.getDrawableVertices(i);
    for (let k = 0; k + 1 < v.length; k += 2) {
      const x = v[k];
      const y = v[k + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (!box) box = [x, y, x, y];
      else box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)];
    }
  }
  return box && box[2] - box[0] >= 1 && box[3] - box[1] >= 1 ? box : null;
}

/**
 * The content box in the model's local units (before its scale): `stored` (avatar.json's
 * frame.box) or what is drawn now, widened by SPARE. Call after the pose has run.
 */
export function contentBox(im, stored) {
  let box = Array.isArray(stored) && stored.length === 4 && stored.every(Number.isFinite) ? stored : null;
  if (!box) {
    try {
      im.coreModel.update(); // the vertices of this frame's parameters
    } catch {
      // the last frame's vertices will do
    }
    box = drawnBox(im);
    if (!box) return null;
    const spare = (box[2] - box[0]) * SPARE;
    box = [box[0] - spare, box[1], box[2] + spare, box[3]];
  }
  const a = im.localTransform.apply({ x: box[0], y: box[1] });
  const b = im.localTransform.apply({ x: box[2], y: box[3] });
  return { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) };
}

/**
 * Scale and position (of the model's local origin) for a panel of W×H CSS pixels.
 * box: contentBox(); frame: {top, bottom} fractions of the box's height to show;
 * place: the user's {scale, offset_x, offset_y}.
 */
export function fitFrame(box, W, H, frame = {}, place = {}) {
  const top = Math.max(0, Math.min(0.9, Number(frame.top) || 0));
  const bottom = Math.max(top + 0.1, Math.min(1, Number(frame.bottom) || 1));
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  const fy0 = box.y0 + top * bh; // the frame, in model units
  const fh = (bottom - top) * bh;
  const side = Math.max(4, W * MARGIN);
  const head = Math.max(4, H * MARGIN);
  const foot = bottom < 1 ? 0 : head; // a frame cut above the feet ends at the edge
  const base = Math.min((W - 2 * side) / bw, (H - head - foot) / fh);
  // Laid out at the base scale: centred across; the whole box centred when all of it
  // fits (a narrow panel, where the width of the arms sets the scale), else the frame's
  // top at the top margin.
  const cx = (box.x0 + box.x1) / 2;
  const whole = bh * base;
  const frameTop = whole <= H - 2 * head ? (H - whole) / 2 + (fy0 - box.y0) * base : head;
  // The user's zoom keeps the point a quarter down the frame (the face) where it was.
  const fx = cx;
  const fyModel = fy0 + fh * 0.25;
  const sx = W / 2;
  const sy = frameTop + (fyModel - fy0) * base;
  const scale = base * (Number(place.scale) || 1);
  return {
    scale,
    x: sx - fx * scale + (Number(place.offset_x) || 0) * W,
    y: sy - fyModel * scale + (Number(place.offset_y) || 0) * H,
  };
}
