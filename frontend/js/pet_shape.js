// The desktop pet's input shape: where the page draws something a click is meant for
// (the avatar as drawn, its bubble and note, the pet's input, note and menu), sent to
// the desktop with `pet_shape`, which makes it the window's input shape where the
// platform allows it (X11, desktop/x11.py): a click beside those goes to the desktop.
// Sent again whenever it changes (the menu opens, the bubble grows, the model moves).

import { call } from "./transport.js";

const PAD = 10; // px around each part: a model that breathes stays inside
const EVERY_MS = 700; // the model moves on its own: look again this often
const CELL = 12; // px: the Live2D model's silhouette is read in rows this high
const AVATAR_RECTS = 24; // at most (the bridge takes 32 in all)

/** Rows [[x, y, w, h], ...] merged pairwise (the pair that adds least area first)
 * until at most `max` are left. */
export function mergeRows(rows, max = AVATAR_RECTS) {
  const out = rows.map((r) => [...r]);
  const union = (a, b) => {
    const x = Math.min(a[0], b[0]);
    const y = Math.min(a[1], b[1]);
    return [x, y, Math.max(a[0] + a[2], b[0] + b[2]) - x, Math.max(a[1] + a[3], b[1] + b[3]) - y];
  };
  while (out.length > max) {
    let best = 0;
    let cost = Infinity;
    for (let i = 0; i + 1 < out.length; i++) {
      const u = union(out[i], out[i + 1]);
      const added = u[2] * u[3] - out[i][2] * out[i][3] - out[i + 1][2] * out[i + 1][3];
      if (added < cost) [best, cost] = [i, added];
    }
    out.splice(best, 2, union(out[best], out[best + 1]));
  }
  return out;
}

/** The rectangles [x, y, width, height] in window pixels (CSS px) of what takes clicks:
 * `avatar` ([[x, y, w, h], ...], where the avatar draws) and the visible `parts`. */
export function shapeRects(parts, avatar) {
  const rects = [];
  const add = (left, top, width, height) => {
    if (!(width > 0) || !(height > 0)) return;
    const x = Math.max(0, Math.floor(left - PAD));
    const y = Math.max(0, Math.floor(top - PAD));
    const right = Math.min(window.innerWidth, Math.ceil(left + width + PAD));
    const bottom = Math.min(window.innerHeight, Math.ceil(top + height + PAD));
    if (right > x && bottom > y) rects.push([x, y, right - x, bottom - y]);
  };
  for (const r of mergeRows(avatar || [])) add(...r);
  for (const node of parts) {
    if (!node || node.hidden || !node.isConnected || !node.getClientRects().length) continue;
    const r = node.getBoundingClientRect();
    add(r.left, r.top, r.width, r.height);
  }
  return rects;
}

/** Keeps the desktop told; `avatar(cell)` says where the avatar draws ([[x, y, w, h],
 * ...] in client px; null: its whole stage). */
export function watchShape(root, parts, avatar) {
  let last = "";
  let queued = false;
  let stopped = false;

  function send() {
    queued = false;
    if (stopped) return;
    let drawn = avatar(CELL);
    if (!drawn) {
      const stage = root.querySelector(".avatar-stage")?.getBoundingClientRect();
      drawn = stage ? [[stage.left, stage.top, stage.width, stage.height]] : [];
    }
    const rects = shapeRects(parts(), drawn);
    if (!rects.length) return; // nothing drawn yet: the whole window stays clickable
    const key = JSON.stringify(rects);
    if (key === last) return;
    last = key;
    call("pet_shape", { rects, scale: window.devicePixelRatio || 1 }).then((res) => {
      if (res.ok && res.done === false) stop(); // the browser, or not on this desktop
      else if (!res.ok) last = ""; // try again with the next change
    });
  }

  function soon() {
    if (!queued) {
      queued = true;
      requestAnimationFrame(send);
    }
  }

  const observer = new MutationObserver(soon);
  observer.observe(root, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden", "style", "class"],
  });
  window.addEventListener("resize", soon);
  const timer = setInterval(soon, EVERY_MS);

  function stop() {
    stopped = true;
    observer.disconnect();
    window.removeEventListener("resize", soon);
    clearInterval(timer);
  }

  soon();
}
