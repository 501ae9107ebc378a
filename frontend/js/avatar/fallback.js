// The built-in avatar: an animated SVG face, licence-free, no WebGL needed.
// Same interface as live2d.js: layout(), look(), tap(), setEmotion(), destroy();
// the mouth opens with getMouth() each frame; it blinks and breathes by itself.

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

// Brow tilt (deg, inner end up = positive), brow lift, eye squint, cheek blush, mouth curve.
const FACES = {
  neutral: { tilt: 0, lift: 0, squint: 0, blush: 0.25, curve: 4 },
  joy: { tilt: 0, lift: 3, squint: 0.45, blush: 0.55, curve: 9 },
  sad: { tilt: 14, lift: 1, squint: 0.15, blush: 0.1, curve: -6 },
  angry: { tilt: -16, lift: -3, squint: 0.25, blush: 0.2, curve: -4 },
  surprised: { tilt: 0, lift: 7, squint: -0.15, blush: 0.2, curve: 0 },
  shy: { tilt: 6, lift: 1, squint: 0.3, blush: 1, curve: 5 },
};

export function createFallback(host, { getMouth }) {
  const cheekL = svg("ellipse", { cx: 66, cy: 128, rx: 13, ry: 7, class: "fb-cheek" });
  const cheekR = svg("ellipse", { cx: 134, cy: 128, rx: 13, ry: 7, class: "fb-cheek" });
  const iris = () => svg("circle", { cx: 0, cy: 1, r: 8.5, class: "fb-iris" });
  const pupil = () => svg("circle", { cx: 0, cy: 1, r: 4.2, class: "fb-pupil" });
  const shine = () => svg("circle", { cx: -3, cy: -3, r: 2.6, class: "fb-shine" });
  const lookL = svg("g", {}, iris(), pupil(), shine());
  const lookR = svg("g", {}, iris(), pupil(), shine());
  const lash = () => svg("path", { d: "M-13 -7 Q0 -18 13 -7", class: "fb-lash" });
  const eyeL = svg("g", { transform: "translate(74 106)" }, svg("ellipse", { rx: 12.5, ry: 14, class: "fb-eye" }), lookL, lash());
  const eyeR = svg("g", { transform: "translate(126 106)" }, svg("ellipse", { rx: 12.5, ry: 14, class: "fb-eye" }), lookR, lash());
  const lidL = svg("g", { class: "fb-lid-wrap" }, eyeL);
  const lidR = svg("g", { class: "fb-lid-wrap" }, eyeR);
  const browL = svg("path", { d: "M-12 0 Q0 -5 12 0", class: "fb-brow" });
  const browR = svg("path", { d: "M-12 0 Q0 -5 12 0", class: "fb-brow" });
  const browGL = svg("g", { transform: "translate(74 84)" }, browL);
  const browGR = svg("g", { transform: "translate(126 84)" }, browR);
  const mouth = svg("path", { class: "fb-mouth" });
  const tongue = svg("ellipse", { cx: 100, cy: 146, rx: 7, ry: 3, class: "fb-tongue" });
  const face = svg(
    "g",
    { class: "fb-face" },
    svg("path", { d: "M36 108 Q30 40 100 34 Q170 40 164 108 L168 176 Q140 160 132 120 L68 120 Q60 160 32 176 Z", class: "fb-hair-back" }),
    svg("ellipse", { cx: 100, cy: 112, rx: 62, ry: 66, class: "fb-skin" }),
    svg("path", { d: "M38 102 Q42 46 100 44 Q158 46 162 102 Q150 74 122 66 Q112 84 88 78 Q60 74 38 102 Z", class: "fb-hair" }),
    cheekL, cheekR, lidL, lidR, browGL, browGR, tongue, mouth,
  );
  const body = svg("path", { d: "M52 250 Q56 186 100 180 Q144 186 148 250 Z", class: "fb-body" });
  const neck = svg("rect", { x: 88, y: 168, width: 24, height: 20, rx: 8, class: "fb-skin" });
  const collar = svg("path", { d: "M80 186 L100 204 L120 186 Q112 182 100 192 Q88 182 80 186 Z", class: "fb-collar" });
  const figure = svg("g", { class: "fb-figure" }, body, neck, collar, face);
  const root = svg("svg", { viewBox: "0 0 200 250", class: "avatar-svg", role: "img", "aria-label": "avatar" }, figure);
  host.append(root);

  let faceNow = { ...FACES.neutral };
  let faceTarget = FACES.neutral;
  let look = { x: 0, y: 0 };
  let lookTarget = { x: 0, y: 0 };
  let blinkAt = performance.now() + 2000;
  let bounceAt = -1e9;
  let lastMouth = 0;
  let place = { offset_x: 0, offset_y: 0, scale: 1 };
  let raf = 0;

  function layout(next = place) {
    place = { ...place, ...next };
    root.style.transform = `translate(${place.offset_x * 100}%, ${place.offset_y * 100}%) scale(${place.scale})`;
  }

  let drawn = 0;
  let busy = false;
  function frame(now) {
    raf = requestAnimationFrame(frame);
    if (now - drawn < (busy ? 30 : 60)) return; // about 30 fps when busy, 15 when idle
    drawn = now;
    for (const k of Object.keys(faceNow)) faceNow[k] += (faceTarget[k] - faceNow[k]) * 0.15;
    look.x += (lookTarget.x - look.x) * 0.2;
    look.y += (lookTarget.y - look.y) * 0.2;
    const f = faceNow;
    // blink: 130 ms closed every 2.5–6 s
    let open = 1 - Math.max(0, Math.min(0.85, f.squint));
    if (now >= blinkAt) {
      const t = (now - blinkAt) / 130;
      if (t >= 2) blinkAt = now + 2500 + Math.random() * 3500;
      else open *= Math.abs(1 - t) * 0.9 + 0.1;
    }
    for (const [lid, cx] of [[lidL, 74], [lidR, 126]]) {
      lid.setAttribute("transform", `translate(0 106) translate(${cx} 0) scale(1 ${open.toFixed(3)}) translate(${-cx} -106)`);
    }
    for (const g of [lookL, lookR]) g.setAttribute("transform", `translate(${(look.x * 4).toFixed(2)} ${(look.y * 4).toFixed(2)})`);
    browGL.setAttribute("transform", `translate(74 ${84 - f.lift}) rotate(${f.tilt})`);
    browGR.setAttribute("transform", `translate(126 ${84 - f.lift}) rotate(${-f.tilt})`);
    cheekL.style.opacity = cheekR.style.opacity = f.blush.toFixed(2);
    // mouth: width 30, opening from the lip-sync value, corners follow the emotion curve
    const m = Math.max(0, Math.min(1, getMouth()));
    lastMouth = m;
    const c = f.curve;
    const o = 3 + m * 34;
    mouth.setAttribute(
      "d",
      `M85 ${146 - c * 0.4} Q100 ${146 + c * 0.6} 115 ${146 - c * 0.4} Q100 ${146 + c * 0.6 + o} 85 ${146 - c * 0.4} Z`,
    );
    tongue.setAttribute("cy", (146 + c * 0.3 + o * 0.55).toFixed(1));
    tongue.style.opacity = m > 0.25 ? "1" : "0";
    const breath = Math.sin(now / 900) * 1.2;
    const bt = (now - bounceAt) / 450;
    const bounce = bt >= 0 && bt < 1 ? -Math.sin(bt * Math.PI) * 10 : 0;
    figure.setAttribute("transform", `translate(0 ${(breath + bounce).toFixed(2)}) rotate(${(look.x * 3).toFixed(2)} 100 200)`);
  }
  raf = requestAnimationFrame(frame);

  return {
    kind: "fallback",
    layout,
    look(clientX, clientY) {
      const r = root.getBoundingClientRect();
      const nx = (clientX - (r.left + r.width / 2)) / Math.max(200, r.width);
      const ny = (clientY - (r.top + r.height * 0.42)) / Math.max(200, r.height);
      lookTarget = { x: Math.max(-1, Math.min(1, nx * 2)), y: Math.max(-1, Math.min(1, ny * 2)) };
    },
    tap() {
      bounceAt = performance.now();
      blinkAt = performance.now();
      return "head";
    },
    hits(clientX, clientY) {
      const r = root.getBoundingClientRect();
      return clientX >= r.left && clientX <= r.right && clientY >= r.top && clientY <= r.bottom;
    },
    box: () => root.getBoundingClientRect(), // where it draws, for the pet's input shape
    setEmotion(name) {
      faceTarget = FACES[name] || FACES.neutral;
      return name in FACES;
    },
    setBusy(next) {
      busy = Boolean(next);
    },
    mouthParam: () => lastMouth,
    get lastMouth() {
      return lastMouth;
    },
    info: () => ({ emotions: Object.keys(FACES) }),
    destroy() {
      cancelAnimationFrame(raf);
      root.remove();
    },
  };
}
