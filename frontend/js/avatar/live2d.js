// Live2D renderer (pixi.js 6 + pixi-live2d-display 0.4, Cubism 2 and 3/4 models).
// Same interface as fallback.js: layout(), look(), tap(), setEmotion(), destroy().
// The mouth and the emotion's parameter overlay are written in the model's
// 'beforeModelUpdate' hook: after motions and physics, before the core update.

import { loadLive2D } from "./loader.js";
import { guardPose, shortenFades } from "./pose.js";
import { contentBox, fitFrame } from "./frame.js";

// Standard parameter ids (Cubism 3/4, then Cubism 2) -> value, per emotion. Applied on
// top of whatever the model's motions do; ids a model lacks are skipped.
const OVERLAYS = {
  joy: { EyeLSmile: 1, EyeRSmile: 1, MouthForm: 1, Cheek: 0.6 },
  sad: { BrowLY: -0.7, BrowRY: -0.7, BrowLForm: -1, BrowRForm: -1, MouthForm: -1, EyeBallY: -0.5 },
  angry: { BrowLAngle: -1, BrowRAngle: -1, BrowLForm: -1, BrowRForm: -1, BrowLY: -0.4, BrowRY: -0.4, MouthForm: -0.8 },
  surprised: { BrowLY: 1, BrowRY: 1, EyeBallY: 0.2 },
  shy: { Cheek: 1, Tere: 1, EyeBallY: -0.6, EyeBallX: 0.5, MouthForm: 0.3 },
  neutral: {},
};
const C2_NAMES = {
  EyeLSmile: "PARAM_EYE_L_SMILE", EyeRSmile: "PARAM_EYE_R_SMILE", MouthForm: "PARAM_MOUTH_FORM",
  Cheek: "PARAM_CHEEK", Tere: "PARAM_TERE", BrowLY: "PARAM_BROW_L_Y", BrowRY: "PARAM_BROW_R_Y",
  BrowLForm: "PARAM_BROW_L_FORM", BrowRForm: "PARAM_BROW_R_FORM", BrowLAngle: "PARAM_BROW_L_ANGLE",
  BrowRAngle: "PARAM_BROW_R_ANGLE", EyeBallX: "PARAM_EYE_BALL_X", EyeBallY: "PARAM_EYE_BALL_Y",
};
// Words that name an emotion in user models' expression / motion names.
const NAME_HINTS = {
  joy: /happy|smile|joy|laugh|glad|笑|喜/i,
  sad: /sad|cry|sorrow|tear|哭|悲|难过/i,
  angry: /angry|anger|mad|rage|怒|生气/i,
  surprised: /surpris|shock|wow|惊/i,
  shy: /shy|blush|embarrass|tere|羞|照/i,
  neutral: /neutral|normal|default|idle|普通|通常/i,
};
const FADE_MS = 450;

function rendererName(gl) {
  try {
    const ext = gl && gl.getExtension("WEBGL_debug_renderer_info");
    return String((ext && gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) || (gl && gl.getParameter(gl.RENDERER)) || "");
  } catch {
    return "";
  }
}

async function fetchJson(url) {
  try {
    const res = await fetch(url);
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function expressionNames(im) {
  const defs = (im.motionManager.expressionManager && im.motionManager.expressionManager.definitions) || [];
  return defs.map((d, i) => d.Name || d.name || String(i));
}

/** The per-model map: the bundled avatar.json, else guessed from the model's own names. */
function buildMap(im, given) {
  const map = { layout: {}, tap: {}, emotions: {}, ...(given || {}) };
  const groups = Object.keys(im.motionManager.definitions || {});
  if (!given) {
    const exprs = expressionNames(im);
    for (const [name, re] of Object.entries(NAME_HINTS)) {
      const expr = exprs.find((e) => re.test(e));
      const group = groups.find((g) => re.test(g));
      if (expr || group) map.emotions[name] = { expression: expr, motion: group ? [group] : undefined };
    }
    const tapGroups = groups.filter((g) => /tap|flick|touch|shake|点击/i.test(g));
    map.tap = { motions: tapGroups.length ? tapGroups : groups.filter((g) => !/idle/i.test(g)) };
  }
  map.groups = groups;
  return map;
}

/**
 * Render a model into `host`. Resolves to the renderer or rejects (the caller falls back).
 * opts: {url, mapUrl, getMouth(), onTap(area)}
 */
export async function createLive2D(host, opts) {
  const PIXI = await loadLive2D();
  const { Live2DModel, MotionPriority } = PIXI.live2d;
  Live2DModel.registerTicker(PIXI.Ticker);
  shortenFades(PIXI.live2d.config); // pose.js: arms are not blended half-way for long
  const canvas = document.createElement("canvas");
  const small = document.createElement("canvas"); // silhouette(): the canvas, shrunk
  canvas.className = "avatar-canvas";
  host.append(canvas);
  let app;
  try {
    app = new PIXI.Application({
      view: canvas,
      backgroundAlpha: 0,
      antialias: true,
      autoDensity: true,
      resolution: Math.min(2, window.devicePixelRatio || 1),
      resizeTo: host,
      preserveDrawingBuffer: true, // tests read the canvas back
    });
  } catch (err) {
    canvas.remove();
    throw err;
  }
  // Frame rate: full while speaking or touched, low when idle; lower still on software
  // WebGL (SwiftShader, llvmpipe), where every frame costs real CPU.
  const software = /swiftshader|llvmpipe|softpipe|software/i.test(rendererName(app.renderer.gl));
  const FPS = software ? { busy: 24, idle: 10 } : { busy: 60, idle: 30 };
  app.ticker.maxFPS = FPS.idle;
  let model;
  try {
    model = await Live2DModel.from(opts.url, { autoInteract: false });
  } catch (err) {
    app.destroy(true);
    throw err instanceof Error ? err : new Error(String(err && err.message ? err.message : err));
  }
  app.stage.addChild(model);
  const im = model.internalModel;
  const core = im.coreModel;
  const isC2 = typeof core.setParamFloat === "function";
  const map = buildMap(im, opts.mapUrl ? await fetchJson(opts.mapUrl) : null);
  const pose = guardPose(im); // one arm variant at a time (pose.js)

  // Cubism 3/4 list their parameter ids; Cubism 2 ignores unknown ones (no filter needed).
  const known = new Set(isC2 ? [] : (core.getModel && core.getModel().parameters.ids) || []);
  const paramId = (short) => (isC2 ? C2_NAMES[short] : `Param${short}`);
  const lipIds = (im.motionManager.lipSyncIds || []).filter((id) => /open/i.test(id));
  const mouthIds = lipIds.length ? lipIds : [isC2 ? "PARAM_MOUTH_OPEN_Y" : "ParamMouthOpenY"];
  const getParam = (id) => (isC2 ? core.getParamFloat(id) : core.getParameterValueById(id));
  const setParam = (id, v) => (isC2 ? core.setParamFloat(id, v) : core.setParameterValueById(id, v));

  let overlay = {};
  let overlayFrom = 0;
  let lastMouth = 0;
  im.on("beforeModelUpdate", () => {
    const w = Math.min(1, (performance.now() - overlayFrom) / FADE_MS);
    for (const [short, value] of Object.entries(overlay)) {
      const id = paramId(short);
      if (!id || (known.size && !known.has(id))) continue;
      const cur = getParam(id);
      setParam(id, cur + (value - cur) * w);
    }
    const mouth = opts.getMouth();
    for (const id of mouthIds) setParam(id, mouth);
    lastMouth = getParam(mouthIds[0]); // read back from the model: what this frame draws
  });

  // Framed from what the model draws (frame.js); the old zoom/anchor fit if that fails.
  const layoutOpts = { zoom: 1, anchorY: 0.5, y: 0.5, ...(map.layout || {}) };
  let box = null; // measured at the first update, once the pose has chosen its parts
  im.once("beforeModelUpdate", () => {
    box = contentBox(im, (layoutOpts.frame || {}).box);
    layout();
  });
  const natural = { w: im.width || model.width, h: im.height || model.height };
  let place = { offset_x: 0, offset_y: 0, scale: 1 };

  function layout(next = place) {
    place = { ...place, ...next };
    const W = host.clientWidth || 1;
    const H = host.clientHeight || 1;
    model.anchor.set(box ? 0 : 0.5, box ? 0 : layoutOpts.anchorY);
    if (box) {
      const fit = fitFrame(box, W, H, layoutOpts.frame, place);
      model.scale.set(fit.scale);
      model.position.set(fit.x, fit.y);
      return;
    }
    const fit = Math.min(W / natural.w, H / natural.h) * layoutOpts.zoom * place.scale;
    model.scale.set(fit);
    model.position.set(W / 2 + place.offset_x * W, H * layoutOpts.y + place.offset_y * H);
  }
  const resize = new ResizeObserver(() => {
    app.resize();
    layout();
  });
  resize.observe(host);

  function playMotion(group, index) {
    if (group === undefined || !(group in (im.motionManager.definitions || {}))) return false;
    const count = (im.motionManager.definitions[group] || []).length;
    if (!count) return false;
    const i = index === undefined ? Math.floor(Math.random() * count) : index % count;
    model.motion(group, i, MotionPriority.FORCE);
    return true;
  }

  return {
    kind: "live2d",
    cubism: isC2 ? 2 : 4,
    layout,
    look(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      model.focus(clientX - rect.left, clientY - rect.top);
    },
    /** A tap at client coordinates (or the middle): returns the hit area name. */
    tap(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      const x = clientX === undefined ? rect.width / 2 : clientX - rect.left;
      const y = clientY === undefined ? rect.height / 3 : clientY - rect.top;
      const hits = model.hitTest(x, y);
      const area = hits[0] || "body";
      const groups = (map.tap && map.tap.motions) || [];
      const choice = groups.filter((g) => g in (im.motionManager.definitions || {}));
      if (choice.length) playMotion(choice[Math.floor(Math.random() * choice.length)]);
      return area;
    },
    hits(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      const b = model.getBounds();
      const x = clientX - rect.left;
      const y = clientY - rect.top;
      return x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;
    },
    /** Where the model draws, in client coordinates (the pet's input shape). */
    box() {
      const r = canvas.getBoundingClientRect();
      const b = model.getBounds();
      return { left: r.left + b.x, top: r.top + b.y, width: b.width, height: b.height };
    },
    /** Where the model draws, row by row: [[left, top, width, height], ...] in client
     * px, one span of opaque pixels per `cell`-high row (the pet's input shape). */
    silhouette(cell = 12) {
      const r = canvas.getBoundingClientRect();
      if (!canvas.width || !canvas.height || !r.width || !r.height) return []; // not laid out
      const cols = Math.max(1, Math.ceil(r.width / cell));
      const rows = Math.max(1, Math.ceil(r.height / cell));
      small.width = cols;
      small.height = rows;
      const g = small.getContext("2d", { willReadFrequently: true });
      g.clearRect(0, 0, cols, rows);
      g.drawImage(canvas, 0, 0, cols, rows); // averaged: a thin part still shows a little
      const alpha = g.getImageData(0, 0, cols, rows).data;
      const out = [];
      for (let y = 0; y < rows; y++) {
        let first = -1;
        let last = -1;
        for (let x = 0; x < cols; x++) {
          if (alpha[(y * cols + x) * 4 + 3] > 8) {
            if (first < 0) first = x;
            last = x;
          }
        }
        if (first >= 0) out.push([r.left + first * cell, r.top + y * cell, (last - first + 1) * cell, cell]);
      }
      return out;
    },
    setEmotion(name) {
      overlay = OVERLAYS[name] || {};
      overlayFrom = performance.now();
      const spec = (map.emotions || {})[name] || {};
      const exprs = expressionNames(im);
      if (spec.expression && exprs.includes(spec.expression)) model.expression(spec.expression);
      else if (name === "neutral" && im.motionManager.expressionManager) im.motionManager.expressionManager.resetExpression();
      if (Array.isArray(spec.motion)) playMotion(spec.motion[0], spec.motion[1]);
      return Boolean(spec.expression || spec.motion || Object.keys(overlay).length);
    },
    /** The model's own mouth parameter value (what is drawn). */
    mouthParam() {
      return lastMouth;
    },
    get lastMouth() {
      return lastMouth;
    },
    setBusy(busy) {
      app.ticker.maxFPS = busy ? FPS.busy : FPS.idle;
    },
    info() {
      return {
        cubism: isC2 ? 2 : 4, expressions: expressionNames(im), groups: map.groups, mouthIds,
        software, fps: app.ticker.maxFPS, poseGroups: pose.groups.length, box,
      };
    },
    destroy() {
      resize.disconnect();
      pose.remove();
      app.destroy(true, { children: true });
    },
  };
}
