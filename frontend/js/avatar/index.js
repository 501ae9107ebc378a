// The avatar beside the chat (issue 4): Live2D when it can, the SVG face when it
// cannot (and says why), lip-sync from voice's audio or the streamed text, a speech
// bubble, emotions, tap reactions, drag to move and wheel to scale (saved in settings).
// Talks to voice only through bus.js (docs/avatar-voice.md); never edits the chat.

import { call, on, ready } from "../transport.js";
import { publish, subscribe } from "../bus.js";
import { t, onLangChange } from "../i18n.js";
import { el, clear } from "../ui.js";
import { webglProblem } from "./loader.js";
import { createLipSync } from "./lipsync.js";
import { createFallback } from "./fallback.js";
import { createPanel } from "./panel.js";
import { showAbout } from "./about.js";
import "./strings.js";

const NARROW = "(max-width: 799px)";
const EMOTION_HOLD_MS = 9000;
const SENTENCE_END = /[。！？!?…\n]|\.(?=\s|$)/g;
const DEFAULTS = { enabled: true, model: "haru", offset_x: 0, offset_y: 0, scale: 1, background: "", background_area: "avatar" };

/** `text` without a leading emotion tag (`tag`: avatar_models' `emotion_tag`, a RegExp). */
function stripTag(text, tag) {
  return tag ? text.replace(tag, "") : text;
}

/** The sentence of `text` that holds character `at` (leading emotion tag removed). */
export function sentenceAt(text, at, tag) {
  const clean = stripTag(text, tag);
  const shift = text.length - clean.length;
  const pos = Math.max(0, Math.min(clean.length - 1, at - shift));
  let start = 0;
  SENTENCE_END.lastIndex = 0;
  let m;
  while ((m = SENTENCE_END.exec(clean))) {
    const end = m.index + m[0].length;
    if (end > pos) return clean.slice(start, end).trim();
    start = end;
  }
  return clean.slice(start).trim();
}

// `pet`: the desktop pet (js/pet.js): any window width, no background picture, and a
// drag moves the window (pywebview's drag region), not the model; a drag is told from a
// tap by where the pointer went on the screen, since the window moves along with it.
export function createAvatar(area, { pet = false } = {}) {
  if (!area) return null;
  const stage = el("div.avatar-stage");
  const bubbleText = el("span.avatar-bubble-text");
  const bubbleBox = el("div.avatar-bubble", { role: "status", "aria-live": "polite", hidden: true }, bubbleText);
  const note = el("div.avatar-note", { hidden: true });
  area.classList.add("avatar-ready");
  area.removeAttribute("aria-hidden");
  area.setAttribute("aria-label", t("avatar.label"));
  area.append(stage, bubbleBox, note);

  const lip = createLipSync();
  let settings = { ...DEFAULTS };
  let models = [];
  let filesBase = "";
  let tag = null; // the emotion-tag pattern, from avatar_models
  let renderer = null;
  let state = "loading";
  let reason = "";
  let building = 0; // generation counter: a newer build wins
  let emotion = "neutral";
  let emotionTimer = 0;
  let mouth = 0;
  let voiceEnabled = false;
  let reply = "";
  let replyDone = true;
  let bubbleHide = 0;
  let manualBubble = false;
  const narrow = window.matchMedia ? window.matchMedia(NARROW) : { matches: false, addEventListener() {} };

  function setState(next, why = "") {
    state = next;
    reason = why;
    area.dataset.state = next;
    area.dataset.reason = why;
    renderNote();
  }

  function renderNote() {
    if (state !== "fallback" || !reason || reason === "chosen") {
      note.hidden = true;
      return;
    }
    const key = reason === "webgl" ? "avatar.reason.webgl" : "avatar.reason.load";
    note.textContent = t(key, { error: reason.replace(/^load: /, "") });
    note.hidden = false;
  }

  // ---- mouth loop -------------------------------------------------------------
  let busyNow = null;
  let activeUntil = 0; // pointer or emotion activity keeps the frame rate up a moment
  function loop(now) {
    requestAnimationFrame(loop);
    if (!renderer) return;
    mouth = lip.tick(now);
    const busy = lip.speaking || mouth > 0.01 || Boolean(drag) || now < activeUntil;
    if (busy !== busyNow && renderer.setBusy) renderer.setBusy(busy);
    busyNow = busy;
    // The sentence being said, while the reply streams or the mouth still follows it;
    // afterwards the bubble fades (below) and stays gone.
    if (!voiceEnabled && reply && !manualBubble && (!replyDone || lip.speaking)) {
      showBubble(sentenceAt(reply, lip.spoken, tag));
    }
    if (replyDone && !lip.speaking && !bubbleBox.hidden && !bubbleHide && !manualBubble) {
      bubbleHide = setTimeout(hideBubble, 3500);
    }
  }
  requestAnimationFrame(loop);

  function showBubble(text) {
    if (!text) return;
    if (bubbleHide) {
      clearTimeout(bubbleHide);
      bubbleHide = 0;
    }
    if (bubbleText.textContent !== text) bubbleText.textContent = text;
    bubbleBox.hidden = false;
  }

  function hideBubble() {
    bubbleHide = 0;
    manualBubble = false;
    bubbleBox.hidden = true;
  }

  /** Gone now, and not brought back by a reply that has ended (page or model change). */
  function clearBubble() {
    if (bubbleHide) clearTimeout(bubbleHide);
    hideBubble();
    if (replyDone) reply = "";
  }

  // ---- emotion ----------------------------------------------------------------
  function setEmotion(name, hold = EMOTION_HOLD_MS) {
    emotion = String(name || "neutral");
    clearTimeout(emotionTimer);
    activeUntil = performance.now() + 1500;
    const shown = renderer ? renderer.setEmotion(emotion) : false;
    area.dataset.emotion = emotion;
    publish("avatar.emotion", { name: emotion });
    if (emotion !== "neutral" && hold > 0) emotionTimer = setTimeout(() => setEmotion("neutral", 0), hold);
    return shown;
  }

  // ---- renderers --------------------------------------------------------------
  function currentModel() {
    return models.find((m) => m.id === settings.model) || models.find((m) => m.id === DEFAULTS.model) || null;
  }

  function modelUrl(m) {
    return m.kind === "user" ? `${filesBase}${m.path}` : m.url;
  }

  function useFallback(why) {
    if (renderer) renderer.destroy();
    clear(stage);
    renderer = createFallback(stage, { getMouth: () => mouth });
    renderer.layout(settings);
    renderer.setEmotion(emotion);
    setState("fallback", why);
  }

  async function build() {
    const gen = ++building;
    clearBubble(); // another model says nothing yet
    if (!settings.enabled) {
      if (renderer) renderer.destroy();
      renderer = null;
      clear(stage);
      area.classList.add("avatar-off");
      setState("off");
      return;
    }
    area.classList.remove("avatar-off");
    if (narrow.matches && !pet) {
      setState("hidden"); // nothing loads until the window is wide enough
      return;
    }
    const m = currentModel();
    if (!m || m.id === "svg" || !m.url && !m.path) {
      useFallback(m && m.id === "svg" ? "chosen" : "load: unknown model");
      return;
    }
    const problem = webglProblem();
    if (problem) {
      useFallback(problem);
      return;
    }
    setState("loading");
    area.dataset.model = m.id;
    try {
      const { createLive2D } = await import("./live2d.js");
      const host = el("div.avatar-host");
      const next = await createLive2D(host, {
        url: modelUrl(m),
        mapUrl: m.kind === "bundled" ? m.map : "",
        getMouth: () => mouth,
      });
      if (gen !== building) {
        next.destroy();
        return;
      }
      if (renderer) renderer.destroy();
      clear(stage);
      stage.append(host);
      renderer = next;
      busyNow = null;
      renderer.layout(settings);
      setState("live2d");
      if (emotion !== "neutral") renderer.setEmotion(emotion);
    } catch (err) {
      if (gen !== building) return;
      console.warn("avatar: Live2D failed, using the built-in avatar", err);
      useFallback(`load: ${String((err && err.message) || err).slice(0, 200)}`);
    }
  }

  // ---- background ---------------------------------------------------------------
  function applyBackground() {
    if (pet) return; // the pet's window is see-through
    const app = document.getElementById("app") || document.body;
    const url = settings.background && filesBase ? `${filesBase}backgrounds/${settings.background}` : "";
    const value = url ? `url("${url.replace(/["\\]/g, "")}")` : "none";
    const windowBg = Boolean(url) && settings.background_area === "window";
    app.classList.toggle("has-window-bg", windowBg);
    app.style.setProperty("--dl-window-bg", windowBg ? value : "none");
    area.classList.toggle("has-avatar-bg", Boolean(url) && !windowBg);
    area.style.setProperty("--dl-avatar-bg", url && !windowBg ? value : "none");
  }

  // ---- settings -----------------------------------------------------------------
  function apply(next, { rebuild = false } = {}) {
    const prev = settings;
    settings = { ...DEFAULTS, ...(next || {}) };
    applyBackground();
    panel.refresh();
    const idle = !renderer && !["hidden", "loading"].includes(state);
    if (rebuild || idle || prev.model !== settings.model || prev.enabled !== settings.enabled) build();
    else if (renderer) renderer.layout(settings);
  }

  // Position and scale: saved a moment after the last change (drag, wheel, slider).
  let saveTimer = 0;
  let saving = false;
  let pending = {};
  function persist(patch) {
    Object.assign(settings, patch);
    Object.assign(pending, patch);
    clearTimeout(saveTimer);
    saving = true;
    saveTimer = setTimeout(async () => {
      const body = pending;
      pending = {};
      const res = await call("settings_set", { patch: { avatar: body } });
      saving = Object.keys(pending).length > 0;
      if (!res.ok) panel.status(res.error && res.error.message ? res.error.message : t("avatar.saveFailed"), true);
    }, 400);
  }

  // Model, background, on/off: saved now, then applied from what was saved.
  async function update(patch) {
    const res = await call("settings_set", { patch: { avatar: patch } });
    if (!res.ok) {
      panel.status(res.error && res.error.message ? res.error.message : t("avatar.saveFailed"), true);
      return res;
    }
    if ("model" in patch) await refreshModels();
    apply(res.settings.avatar);
    return res;
  }

  async function refreshModels() {
    const res = await call("avatar_models");
    if (res.ok) {
      models = res.models || [];
      filesBase = res.files_base || "";
      tag = res.emotion_tag ? new RegExp(res.emotion_tag) : null;
      panel.setLimits(res.limits || {});
    }
    return res;
  }

  // ---- pointer: look, tap, drag, wheel -------------------------------------------------
  let lookPending = null;
  document.addEventListener("pointermove", (ev) => {
    if (!renderer || lookPending) return;
    lookPending = requestAnimationFrame(() => {
      lookPending = null;
      activeUntil = performance.now() + 2000;
      if (renderer) renderer.look(ev.clientX, ev.clientY);
    });
  });

  let drag = null;
  stage.addEventListener("pointerdown", (ev) => {
    if (!renderer || ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, sx: ev.screenX, sy: ev.screenY, ox: settings.offset_x, oy: settings.offset_y, moved: false };
    stage.setPointerCapture(ev.pointerId);
  });
  stage.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    if (pet) {
      drag.moved = drag.moved || Math.hypot(ev.screenX - drag.sx, ev.screenY - drag.sy) >= 5;
      return;
    }
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 5) return;
    drag.moved = true;
    area.classList.add("dragging");
    const clamp = (v) => Math.max(-1, Math.min(1, Math.round(v * 1000) / 1000));
    settings.offset_x = clamp(drag.ox + dx / Math.max(1, stage.clientWidth));
    settings.offset_y = clamp(drag.oy + dy / Math.max(1, stage.clientHeight));
    renderer.layout(settings);
  });
  stage.addEventListener("pointerup", (ev) => {
    if (!drag) return;
    const was = drag;
    drag = null;
    area.classList.remove("dragging");
    if (was.moved) {
      if (!pet) persist({ offset_x: settings.offset_x, offset_y: settings.offset_y });
    } else tap(ev.clientX, ev.clientY);
  });
  stage.addEventListener("pointercancel", () => {
    drag = null;
    area.classList.remove("dragging");
  });
  stage.addEventListener("wheel", (ev) => {
    if (!renderer) return;
    ev.preventDefault();
    setScale(settings.scale * Math.exp(-ev.deltaY * 0.0015));
  }, { passive: false });

  function setScale(value) {
    const scale = Math.max(0.2, Math.min(4, Math.round(Number(value) * 1000) / 1000));
    settings.scale = scale;
    if (renderer) renderer.layout(settings);
    persist({ scale });
    panel.refresh();
  }

  function tap(x, y) {
    if (!renderer) return "";
    const where = renderer.tap(x, y);
    publish("avatar.tap", { area: where });
    setEmotion(where === "head" || where === "Head" ? "shy" : "joy", 2500);
    return where;
  }

  // ---- voice and chat events --------------------------------------------------------
  subscribe("voice.sentence", (d) => {
    if (d && d.audio) lip.follow(d.audio);
    if (d && d.text) showBubble(stripTag(String(d.text), tag));
  });
  subscribe("voice.idle", () => lip.stopAudio());
  subscribe("page.changed", () => clearBubble());
  subscribe("voice.enabled", (d) => {
    voiceEnabled = Boolean(d && d.enabled);
  });
  on("chat.delta", (d) => {
    if (!d || d.kind !== "content" || !d.text) return;
    if (replyDone) {
      reply = "";
      lip.resetText();
      replyDone = false;
      manualBubble = false;
    }
    reply += d.text;
    if (!voiceEnabled) lip.feed(d.text);
  });
  on("chat.done", () => {
    replyDone = true;
  });
  on("chat.withdraw", () => {
    reply = "";
    lip.resetText();
  });
  on("chat.error", () => {
    replyDone = true;
    lip.resetText();
    reply = "";
  });
  on("chat.emotion", (d) => setEmotion(d && d.name));
  // Settings → Appearance previews its sliders here before they are saved.
  subscribe("avatar.preview", (d) => {
    if (!d || drag) return;
    for (const key of ["offset_x", "offset_y", "scale"]) if (Number.isFinite(d[key])) settings[key] = d[key];
    if (renderer) renderer.layout(settings);
  });
  on("settings.changed", async (d) => {
    if (!d || !d.settings || !d.settings.avatar || drag || saving) return; // our own echo
    if (d.settings.avatar.model !== settings.model) await refreshModels();
    apply(d.settings.avatar);
  });
  narrow.addEventListener("change", () => {
    if (pet) return;
    if (!narrow.matches && (state === "hidden" || !renderer)) build();
  });
  onLangChange(() => {
    area.setAttribute("aria-label", t("avatar.label"));
    renderNote();
    panel.refresh();
  });

  // ---- panel (model, import, scale, background, about) ------------------------------------
  const panel = createPanel(area, {
    getSettings: () => settings,
    getModels: () => models,
    persist,
    update,
    resetPlace() {
      persist({ offset_x: 0, offset_y: 0, scale: 1 });
      if (renderer) renderer.layout(settings);
      panel.refresh();
    },
    setScale,
    async reloadModels() {
      await refreshModels();
      panel.refresh();
    },
    about: showAbout,
  });

  // ---- footer link to About ------------------------------------------------------------
  const footer = document.querySelector(".footer");
  if (footer) {
    const link = el("button.linklike.footer-about#footer-about", { type: "button", text: t("avatar.about"), on: { click: showAbout } });
    onLangChange(() => {
      link.textContent = t("avatar.about");
    });
    footer.insertBefore(link, footer.lastElementChild);
  }

  // ---- test / shell hook ----------------------------------------------------------------
  window.dlAvatar = {
    get state() {
      return state;
    },
    get reason() {
      return reason;
    },
    get mouth() {
      return mouth;
    },
    get emotion() {
      return emotion;
    },
    get model() {
      return settings.model;
    },
    get settings() {
      return { ...settings };
    },
    setMouth: (v) => lip.setManual(v),
    setEmotion: (name) => setEmotion(name),
    bubble(text) {
      if (text) {
        manualBubble = true;
        showBubble(String(text));
      } else hideBubble();
    },
    tap: (x, y) => tap(x, y),
    mouthParam: () => (renderer ? renderer.mouthParam() : 0),
    info: () => (renderer ? renderer.info() : null),
    box: () => (renderer && renderer.box ? renderer.box() : null), // where it draws (client px)
    silhouette: (cell) => (renderer && renderer.silhouette ? renderer.silhouette(cell) : null),
    get bubbleText() {
      return bubbleBox.hidden ? "" : bubbleText.textContent;
    },
  };

  (async () => {
    await ready();
    const [got] = await Promise.all([call("settings_get"), refreshModels()]);
    apply(got.ok && got.settings ? got.settings.avatar : DEFAULTS, { rebuild: true });
  })();

  return window.dlAvatar;
}
