// Settings controls for values a person sees rather than types: the avatar picked
// by its picture, files chosen rather than named (the background picture, the
// voice's reference clip), its size and place on sliders (previewed on the avatar beside
// the page before saving), the theme as Light / Dark / Follow the system, and the
// voice page showing only the fields of the services chosen.

import { call } from "./transport.js";
import { t } from "./i18n.js";
import { el, errorLine } from "./ui.js";
import { publish, subscribe } from "./bus.js";
import { avatarChoices } from "./avatar_picker.js";
import "./avatar/strings.js"; // the background picture's words
import "./voice/strings.js"; // the reference clip's

let avatarModels = [];
let filesBase = ""; // where the data dir's avatar files (backgrounds) are served

/** Ask for the avatar models (bundled, the simple drawing, imported) once per page load of Settings. */
export async function loadAvatarModels() {
  const res = await call("avatar_models");
  if (res.ok) {
    avatarModels = res.models || [];
    filesBase = res.files_base || "";
  }
}

const SLIDERS = {
  "avatar.scale": { step: "0.05", show: (v) => `${Math.round(v * 100)}%` },
  "avatar.offset_x": { step: "0.01", show: (v) => `${v > 0 ? "+" : ""}${Math.round(v * 100)}%` },
  "avatar.offset_y": { step: "0.01", show: (v) => `${v > 0 ? "+" : ""}${Math.round(v * 100)}%` },
};

/** A control in place of the plain text/number input, or null. Returns
 * `{input, view}`: `input` holds the value (read, reset and drafted like any
 * other input; an "input" event re-syncs the view), `view` is what is shown. */
export function specialControl(field, id, value) {
  if (field.path === "avatar.model") return modelPicker(field, id, value);
  if (SLIDERS[field.path]) return slider(field, id, value);
  if (FILES[field.path]) return filePicker(field, id, value);
  return null;
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// A file kept in the data dir, chosen here: shown, replaced by one chosen here
// (stored at once through the bridge, in use once saved), or removed.
const FILES = {
  // the avatar's background picture (its preview) — saved under backgrounds/
  "avatar.background": {
    accept: "image/png,image/jpeg,image/webp,image/gif",
    preview: "div.bg-preview",
    choose: "avatar.bg.choose",
    remove: "avatar.bg.clear",
    async upload(name, data) {
      const res = await call("avatar_background", { name, data_base64: data });
      return res.ok ? { name: res.background } : res;
    },
    show: (name) => (name && filesBase
      ? el("img", { src: `${filesBase}backgrounds/${name}`, alt: "" })
      : el("span.muted", { text: t("common.none") })),
  },
  // the voice's reference clip (its file name) — saved in the voice folder
  "voice.reference_file": {
    accept: "audio/*,.wav,.mp3,.flac,.ogg",
    preview: "div.file-preview",
    choose: "voice.settings.choose",
    remove: "voice.settings.remove",
    async upload(name, data) {
      const res = await call("voice_reference_upload", { name, data_base64: data });
      return res.ok ? { name: res.reference.name, note: t("voice.settings.textHint") } : res;
    },
    show: (name) => (name
      ? el("span.file-name", { text: name, title: name })
      : el("span.muted", { text: t("voice.settings.none") })),
  },
};

function filePicker(field, id, value) {
  const spec = FILES[field.path];
  const input = el("input", { id, name: field.path, type: "hidden" });
  input.value = value;
  const preview = el(spec.preview, { id: `${id}-preview` });
  const file = el("input", { type: "file", id: `${id}-file`, accept: spec.accept, hidden: true });
  const choose = el("button.btn.small", { type: "button", id: `${id}-choose`, text: t(spec.choose), on: { click: () => file.click() } });
  const remove = el("button.btn.small.ghost", { type: "button", id: `${id}-remove`, text: t(spec.remove) });
  const status = el("span.field-error", { id: `${id}-upload-error`, role: "alert" });
  const note = el("span.field-note.muted", { id: `${id}-note`, role: "status" });
  const show = () => {
    preview.replaceChildren(spec.show(input.value));
    remove.hidden = !input.value;
  };
  const set = (name) => {
    input.value = name;
    input.dispatchEvent(new Event("input"));
  };
  remove.addEventListener("click", () => {
    note.textContent = "";
    set("");
  });
  file.addEventListener("change", async () => {
    const picked = file.files && file.files[0];
    file.value = "";
    if (!picked) return;
    const res = await spec.upload(picked.name, await readBase64(picked));
    status.textContent = res.name ? "" : errorLine(res.error);
    note.textContent = (res.name && res.note) || "";
    if (res.name) set(res.name);
  });
  input.addEventListener("input", show);
  show();
  return { input, view: el("div.bg-picker.file-picker", {}, input, preview, choose, remove, file, status, note) };
}

function modelPicker(field, id, value) {
  const input = el("input", { id, name: field.path, type: "hidden" });
  input.value = value;
  let models = avatarModels.length ? avatarModels : [{ id: value, name: value }];
  if (value && !models.some((m) => m.id === value)) models = [...models, { id: value, name: value }];
  const choices = avatarChoices(models, { name: `${id}-pick`, current: value, idPrefix: `${id}-pick` });
  const view = el("fieldset.intro-avatars.settings-avatars", { role: "radiogroup", "aria-labelledby": `${id}-label` }, input, ...choices);
  view.addEventListener("change", (ev) => {
    if (ev.target.name !== `${id}-pick`) return;
    input.value = ev.target.value;
    input.dispatchEvent(new Event("input"));
  });
  input.addEventListener("input", () => {
    for (const radio of view.querySelectorAll("input[type=radio]")) radio.checked = radio.value === input.value;
  });
  return { input, view };
}

function slider(field, id, value) {
  const spec = SLIDERS[field.path];
  const input = el("input", {
    id, name: field.path, type: "range", step: spec.step,
    min: String(field.min ?? 0), max: String(field.max ?? 1),
  });
  input.value = value === "" ? String(field.default) : value;
  const out = el("output.slider-value", { id: `${id}-value`, for: id });
  const sync = () => {
    out.textContent = spec.show(Number(input.value));
    previewAvatar(field.path, Number(input.value));
  };
  input.addEventListener("input", sync);
  out.textContent = spec.show(Number(input.value));
  return { input, view: el("div.slider-row", {}, input, out) };
}

// ---- live preview on the avatar beside the page ---------------------------------
let preview = {}; // what the sliders show, not saved yet
let saved = null; // the saved values, to go back to when the page is left unsaved

function previewAvatar(path, value) {
  preview[path.split(".")[1]] = value;
  publish("avatar.preview", { ...preview });
}

/** The form (re)built from saved settings: the preview starts again from them. */
export function resetPreview(settings) {
  const avatar = (settings && settings.avatar) || {};
  saved = { offset_x: avatar.offset_x, offset_y: avatar.offset_y, scale: avatar.scale };
  if (Object.keys(preview).length) publish("avatar.preview", saved);
  preview = {};
}

subscribe("page.changed", ({ page }) => {
  if (page !== "settings" && saved && Object.keys(preview).length) {
    publish("avatar.preview", saved);
    preview = {};
  }
});

// ---- theme: Light / Dark / Follow the system, applied at once -------------------
/** A three-way segmented control; `prefs.setTheme` applies and stores the choice. */
export function themeControl(field, prefs) {
  const current = prefs.getTheme();
  const group = el("div.segmented#pref-theme", { role: "radiogroup", "aria-labelledby": "pref-theme-label", dataset: { value: current } });
  for (const value of ["light", "dark", "system"]) {
    group.append(el(`button.segment#pref-theme-${value}`, {
      type: "button",
      role: "radio",
      "aria-checked": value === current ? "true" : "false",
      text: t(value === "system" ? "theme.follow" : `theme.${value}`),
      on: { click: () => prefs.setTheme(value) },
    }));
  }
  return el(
    "div.field",
    { dataset: { path: field ? field.path : "local.theme" } },
    el("div.field-head", {}, el("span.field-label#pref-theme-label", { text: t("appearance.theme") })),
    el("div.field-input", {}, group),
    el("div.field-help", { text: t("appearance.themeHelp") }),
  );
}

/** The control follows a theme chosen elsewhere (the header button). */
export function showTheme(value) {
  const group = document.getElementById("pref-theme");
  if (!group) return;
  group.dataset.value = value;
  for (const b of group.querySelectorAll(".segment")) b.setAttribute("aria-checked", b.id === `pref-theme-${value}` ? "true" : "false");
}

// ---- voice: only the fields of the chosen services ------------------------------
const webSpeech = () => Boolean(window.SpeechRecognition || window.webkitSpeechRecognition);
const TTS = "voice.tts_provider";
const STT = "voice.stt_provider";
// A row (setting path, or "secret:<name>") -> [the choice it depends on, when it is shown].
const SHOWN_WHEN = {
  "voice.f5_url": [TTS, (v) => v === "f5"],
  "voice.fish_url": [TTS, (v) => v === "fish"],
  "voice.reference_file": [TTS, (v) => v === "f5" || v === "fish"],
  "voice.reference_text": [TTS, (v) => v === "f5" || v === "fish"],
  "voice.openai_tts_url": [TTS, (v) => v === "openai"],
  "voice.openai_tts_model": [TTS, (v) => v === "openai"],
  "voice.openai_tts_voice": [TTS, (v) => v === "openai"],
  "secret:tts_api_key": [TTS, (v) => v === "openai"],
  // The browser's own recognition falls back to the server where this window has none.
  "voice.stt_url": [STT, (v) => v === "openai" || (v === "browser" && !webSpeech())],
  "voice.stt_model": [STT, (v) => v === "openai" || (v === "browser" && !webSpeech())],
  "secret:stt_api_key": [STT, (v) => v === "openai" || (v === "browser" && !webSpeech())],
  "voice.silence_ms": [STT, (v) => v !== "off"],
};

/** Hide the rows of `form` that belong to services not chosen in `inputs` (path ->
 * row), now and whenever a service choice changes. */
export function followServices(form, inputs) {
  const apply = () => {
    for (const row of form.querySelectorAll(".field")) {
      const key = row.dataset.secret ? `secret:${row.dataset.secret}` : row.dataset.path;
      const rule = SHOWN_WHEN[key];
      const choice = rule && inputs.get(rule[0]);
      if (choice) row.hidden = !rule[1](choice.input.value);
    }
    // Where keys are kept is said only while a key field is shown.
    const note = form.querySelector(".store-note");
    if (note) note.hidden = !form.querySelector(".field.secret:not([hidden])");
  };
  for (const path of [TTS, STT]) {
    const choice = inputs.get(path);
    if (choice) for (const ev of ["change", "input"]) choice.input.addEventListener(ev, apply);
  }
  apply();
}
