// The desktop pet's input shape: where the page draws something a click is meant for
// (the avatar as drawn, its bubble and note, the pet's input, note and menu), sent to
// the desktop with `pet_shape`, which makes it the window's input shape where the
// platform allows it (X11, desktop/x11.py): a click beside those goes to the desktop.
// Sent again whenever it changes (the menu opens, the bubble grows, the model moves).

import { call } from "./transport.js";

const PAD = 10; // px around each part: a model that breathes stays inside
const EVERY_MS = 700; // the model moves on its own: look again this often

/** The visible parts' rectangles [x, y, width, height] in window pixels (CSS px). */
export function shapeRects(parts, avatarBox) {
  const rects = [];
  const add = (r) => {
    if (!r || !(r.width > 0) || !(r.height > 0)) return;
    const x = Math.max(0, Math.floor(r.left - PAD));
    const y = Math.max(0, Math.floor(r.top - PAD));
    const right = Math.min(window.innerWidth, Math.ceil(r.left + r.width + PAD));
    const bottom = Math.min(window.innerHeight, Math.ceil(r.top + r.height + PAD));
    if (right > x && bottom > y) rects.push([x, y, right - x, bottom - y]);
  };
  add(avatarBox);
  for (const node of parts) {
    if (node && !node.hidden && node.isConnected && node.getClientRects().length) add(node.getBoundingClientRect());
  }
  return rects;
}

/** Keeps the desktop told; `box()` is where the avatar draws (or null: its stage). */
export function watchShape(root, parts, box) {
  let last = "";
  let queued = false;
  let stopped = false;

  function send() {
    queued = false;
    if (stopped) return;
    const stage = root.querySelector(".avatar-stage");
    const rects = shapeRects(parts(), box() || (stage && stage.getBoundingClientRect()));
    if (!rects.length) return; // nothing drawn yet: the whole window stays clickable
    const key = JSON.stringify(rects);
    if (key === last) return;
    last = key;
    call("pet_shape", { rects, scale: window.devicePixelRatio || 1 }).then((res) => {
      if (res.ok && res.done === false) stopped = true; // the browser, or not on this desktop
      else if (!res.ok) last = ""; // try again with the next change
    });
  }

  function soon() {
    if (!queued) {
      queued = true;
      requestAnimationFrame(send);
    }
  }

  new MutationObserver(soon).observe(root, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden", "style", "class"],
  });
  window.addEventListener("resize", soon);
  setInterval(soon, EVERY_MS);
  soon();
}
