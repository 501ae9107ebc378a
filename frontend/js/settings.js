// Settings pages generated from settings_get's `fields` (label/help in both languages).
// Secrets are only ever "set / not set" here; their values go one way, into secret_set.

import { call, mode } from "./transport.js";
import { t, pick, getLang, onLangChange, hasKey } from "./i18n.js";
import { el, clear, toast, errorLine, getPath, setPath } from "./ui.js";
import { voiceSettingsBox } from "./voice/index.js";
import { testBox, weatherBox, indexBox } from "./settings_boxes.js";
import { specialControl, loadAvatarModels, resetPreview, themeControl, followServices } from "./settings_pickers.js";

const SECTIONS = ["llm", "embed", "memory", "appearance", "plugins", "voice", "other"];
const SKIP = new Set(["schema_version"]);
const SECRET_AFTER = {
  "llm.base_url": "llm_api_key",
  "embed.base_url": "embed_api_key",
  "plugins.weather_location": "weather_api_key",
  "images.base_url": "images_api_key",
  "voice.openai_tts_voice": "tts_api_key",
  "voice.stt_model": "stt_api_key",
};

function sectionOf(path) {
  const head = path.split(".")[0];
  if (head === "llm" || head === "embed" || head === "memory") return head;
  if (head === "backup") return "cloud"; // edited on Memory → Cloud backup, not listed here
  if (head === "plugins" || head === "images") return "plugins";
  if (!path.includes(".") || ["ui", "appearance", "avatar"].includes(head)) return "appearance";
  if (head === "voice") return "voice";
  if (!path.includes(".") || ["ui", "appearance"].includes(head)) return "appearance";
  return "other";
}

// A page in a browser (dl-app serve): the options only the desktop app acts on (its
// tray, starting on login, the pet; settings_get's `desktop`) show, but disabled.
const inBrowser = mode === "http";

/** Whether `field` is the desktop app's and this page runs in a browser. */
function desktopOnly(field) {
  return inBrowser && Boolean(field.desktop);
}

function kindOf(field) {
  if (Array.isArray(field.choices) && field.choices.length) return "choice";
  const type = String(field.type || "").toLowerCase();
  if (type.includes("bool")) return "bool";
  if (/\bint/.test(type)) return "int";
  if (/float|number|decimal/.test(type)) return "float";
  return "text";
}

function nullable(field) {
  if (typeof field.nullable === "boolean") return field.nullable;
  return field.default === null || /none|null|optional/i.test(String(field.type || ""));
}

function choiceLabel(path, value) {
  if (value === null) return t("settings.empty");
  const last = path.split(".").at(-1);
  const keys = [`choice.${path}.${value}`];
  if (last === "language") keys.push(`lang.${value}`);
  if (last === "theme") keys.push(`theme.${value}`);
  for (const key of keys) if (hasKey(key)) return t(key);
  return String(value);
}

/** A field's default as the form shows it: a choice by its label, a switch on or off. */
function defaultLabel(field) {
  const def = field.default;
  if (def === null || def === undefined || def === "") return t("settings.empty");
  if (field.kind === "choice") return choiceLabel(field.path, def);
  if (field.kind === "bool") return t(def ? "settings.on" : "settings.off");
  return String(def);
}

/** Pull field errors out of a settings_set failure: {path: message}. */
function fieldErrors(error, paths) {
  const out = {};
  if (!error) return out;
  const list = error.fields || error.errors || error.details;
  if (list && !Array.isArray(list) && typeof list === "object") Object.assign(out, list);
  if (Array.isArray(list)) {
    for (const item of list) {
      const path = item.path || (Array.isArray(item.loc) ? item.loc.join(".") : item.loc);
      const msg = item.message || item.msg;
      if (path && msg) out[String(path).replace(/^patch\./, "")] = msg;
    }
  }
  if (!Object.keys(out).length && typeof error.message === "string") {
    for (const part of error.message.split(/;\s*/)) {
      for (const path of paths) {
        const at = part.indexOf(`${path}:`);
        if (at !== -1 && !/[\w.]/.test(part[at - 1] || "")) out[path] = part.slice(at + path.length + 1).trim();
      }
    }
  }
  return out;
}

export function createSettings(root, { onSaved, prefs, navigate }) {
  let data = null; // settings_get result
  let active = "llm";
  const inputs = new Map(); // path -> {field, input, error}
  let drafts = {}; // unsaved input values kept across re-renders
  const said = {}; // path -> {value, text, lang}: an error shown, kept while the field holds that value

  const sectionNav = el("div.subtabs#settings-tabs", { role: "tablist" });
  const body = el("div.settings-body#settings-body");
  root.append(sectionNav, body);

  function fields() {
    return (data && data.fields ? data.fields : []).filter((f) => !SKIP.has(f.path));
  }

  function sections() {
    const present = new Set(fields().map((f) => sectionOf(f.path)));
    present.add("appearance");
    return SECTIONS.filter((s) => present.has(s));
  }

  // Only what the user changed and has not saved yet: a value saved elsewhere meanwhile shows.
  function captureDrafts() {
    for (const [path, row] of inputs) {
      const value = inputValue(row);
      if (value !== row.initial) drafts[path] = value;
      else delete drafts[path];
    }
  }

  function render() {
    captureDrafts();
    inputs.clear();
    clear(sectionNav);
    clear(body);
    if (!data) {
      body.append(el("p.muted", { text: t("common.loading") }));
      return;
    }
    for (const s of sections()) {
      sectionNav.append(
        el("button.subtab", {
          type: "button",
          role: "tab",
          id: `settings-tab-${s}`,
          "aria-selected": s === active ? "true" : "false",
          text: t(`settings.section.${s}`),
          on: { click: () => {
            active = s;
            render();
          } },
        }),
      );
    }
    const form = el("form.settings-form", { id: `settings-${active}`, novalidate: true });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      save(form);
    });
    body.append(form);
    form.append(el("h2.section-title", { text: t(`settings.section.${active}`) }));
    const own = fields().filter((f) => sectionOf(f.path) === active);
    const desktopOnes = own.filter(desktopOnly);
    if (desktopOnes.length) form.append(el("p.field-help.note.desktop-note#settings-desktop-note", { text: t("settings.desktopOnly") }));
    let keys = 0;
    for (const field of own) {
      if (field.path === "theme") { // applied and stored at once, not by Save
        form.append(themeControl(field, prefs));
        continue;
      }
      form.append(fieldRow(field));
      if (SECRET_AFTER[field.path]) {
        form.append(secretRow(SECRET_AFTER[field.path]));
        keys += 1;
      }
    }
    if (keys) form.append(storeNote()); // where keys are kept: said once per page
    if (active === "appearance") appendLocalPrefs(form);
    const status = el("span.form-status", { role: "status" });
    if (own.length > desktopOnes.length) { // nothing to save where every field is the desktop's
      form.append(
        el("div.form-actions", {}, el("button.btn.primary", { type: "submit", text: t("settings.save") }), status),
      );
    }
    if (active === "llm") form.append(testBox("llm", inputs));
    if (active === "plugins") form.append(weatherBox());
    if (active === "voice") {
      followServices(form, inputs);
      form.append(voiceSettingsBox(inputs));
    }
    if (active === "embed") {
      form.append(testBox("embed", inputs));
      form.append(indexBox());
    }
    form._status = status;
  }

  function fieldRow(field) {
    field.kind = kindOf(field);
    const id = `f-${field.path.replace(/\./g, "-")}`;
    const current = getPath(data.settings, field.path);
    const draft = drafts[field.path];
    let input;
    const special = specialControl(field, id, draft ?? (current === null || current === undefined ? "" : String(current)));
    if (special) input = special.input;
    else if (field.kind === "choice") {
      input = el("select", { id, name: field.path });
      const choices = [...field.choices];
      if (nullable(field) && !choices.includes(null)) choices.unshift(null);
      for (const c of choices) {
        input.append(el("option", { value: c === null ? "" : String(c), text: choiceLabel(field.path, c) }));
      }
      input.value = draft ?? (current === null || current === undefined ? "" : String(current));
    } else if (field.kind === "bool") {
      input = el("input", { id, name: field.path, type: "checkbox" });
      input.checked = draft ?? Boolean(current);
    } else {
      const numeric = field.kind === "int" || field.kind === "float";
      input = el("input", {
        id,
        name: field.path,
        type: numeric ? "number" : "text",
        step: field.kind === "int" ? "1" : numeric ? "any" : undefined,
        min: numeric && field.min != null ? String(field.min) : undefined,
        max: numeric && field.max != null ? String(field.max) : undefined,
        autocomplete: "off",
        spellcheck: "false",
      });
      input.value = draft ?? (current === null || current === undefined ? "" : String(current));
      const def = field.default;
      input.placeholder = def === null || def === undefined || def === "" ? t("settings.empty") : String(def);
    }
    const error = el("div.field-error", { id: `${id}-error`, role: "alert" });
    input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    input.addEventListener("input", () => {
      error.textContent = "";
      row.classList.remove("invalid");
      delete said[field.path];
    });
    const reset = el("button.btn.small.ghost.reset-btn", {
      type: "button",
      text: t("settings.reset"),
      title: t("settings.default", { value: defaultLabel(field) }),
      on: { click: () => {
        if (field.kind === "bool") input.checked = Boolean(field.default);
        else input.value = field.default === null || field.default === undefined ? "" : String(field.default);
        input.dispatchEvent(new Event("input"));
      } },
    });
    const label = el("label.field-label", { for: id, id: `${id}-label`, text: pick(field.label) || field.path });
    const fromEnv = (data.env_overrides || []).includes(field.path);
    const desktop = desktopOnly(field);
    if (fromEnv || desktop) input.disabled = true;
    const envName = (data.env_names || {})[field.path];
    const row = el(
      "div.field",
      { dataset: { path: field.path, kind: field.kind, ...(desktop ? { desktopOnly: "1" } : {}) } },
      el("div.field-head", {}, label, reset),
      el("div.field-input", {}, special ? special.view : input),
      el("div.field-help", { id: `${id}-help`, text: pick(field.help) }),
      fromEnv ? el("div.field-help.warn", { text: t("settings.fromEnv", { name: envName }) }) : null,
      ...fieldNotes(field.path),
      error,
    );
    if (fromEnv || desktop) reset.hidden = true;
    const initial = field.kind === "bool" ? Boolean(current) : current === null || current === undefined ? "" : String(current);
    const entry = { field, input, error, row, fromEnv, desktop, initial };
    inputs.set(field.path, entry);
    // A page drawn afresh (another tab and back, a change saved elsewhere) still says
    // what is wrong with a value the field still holds; in another language it is said again on Save.
    const kept = said[field.path];
    if (kept && kept.lang === getLang() && kept.value === inputValue(entry)) showError(entry, kept.text);
    else delete said[field.path];
    return row;
  }

  function inputValue({ field, input }) {
    return field.kind === "bool" ? input.checked : input.value;
  }

  function showError(entry, text) {
    entry.error.textContent = text;
    entry.row.classList.add("invalid");
    said[entry.field.path] = { value: inputValue(entry), text, lang: getLang() };
  }

  /** The desktop's notes on a field (settings_get's field_notes: what the pet can do here). */
  function fieldNotes(path) {
    const text = pick((data.field_notes || {})[path] || null) || "";
    return text.split("\n").filter(Boolean).map((line) => el("div.field-help.field-note", { text: line }));
  }

  function readValue(row) {
    const { field, input } = row;
    if (field.kind === "bool") return { value: input.checked };
    const raw = input.value.trim();
    if (field.kind === "choice") return { value: raw === "" && nullable(field) ? null : raw };
    if (field.kind === "text") return { value: raw === "" && field.default === null ? null : raw };
    if (raw === "") return nullable(field) ? { value: null } : { error: t("settings.required") };
    const num = Number(raw);
    if (!Number.isFinite(num)) return { error: t("settings.number") };
    if (field.kind === "int" && !Number.isInteger(num)) return { error: t("settings.integer") };
    if (field.min != null && num < field.min) return { error: t("settings.min", { min: field.min }) };
    if (field.max != null && num > field.max) return { error: t("settings.max", { max: field.max }) };
    return { value: num };
  }

  async function save(form) {
    const patch = {};
    let changed = 0;
    let bad = 0;
    for (const path of inputs.keys()) delete said[path]; // this section's, said again below
    for (const [path, row] of inputs) {
      if (row.fromEnv || row.desktop) continue;
      row.error.textContent = "";
      row.row.classList.remove("invalid");
      const { value, error } = readValue(row);
      if (error) {
        showError(row, error);
        bad += 1;
        continue;
      }
      const current = getPath(data.settings, path);
      if (JSON.stringify(value) !== JSON.stringify(current ?? null)) {
        setPath(patch, path, value);
        changed += 1;
      }
    }
    const status = form._status;
    if (bad) {
      status.textContent = t("settings.fixErrors");
      return;
    }
    if (!changed) {
      status.textContent = t("settings.noChanges");
      return;
    }
    status.textContent = t("status.busy");
    const res = await call("settings_set", { patch });
    if (!res.ok) {
      const errs = fieldErrors(res.error, [...inputs.keys()]);
      let shown = 0;
      for (const [path, msg] of Object.entries(errs)) {
        const row = inputs.get(path);
        if (row) {
          showError(row, msg);
          shown += 1;
        }
      }
      status.textContent = shown ? t("settings.fixErrors") : errorLine(res.error);
      return;
    }
    data.settings = res.settings || data.settings;
    resetPreview(data.settings);
    drafts = {};
    inputs.clear();
    render();
    // The language may change with this save: the app takes it before "saved" is said.
    await onSaved(data.settings, patch);
    const fresh = body.querySelector(".form-status");
    if (fresh) fresh.textContent = t("settings.saved");
    toast(t("settings.saved"));
  }

  // ---- secrets -------------------------------------------------------------
  function secretRow(name) {
    const isSet = Boolean(data.secrets && data.secrets[name]);
    const id = `secret-${name}`;
    const input = el("input", {
      id,
      type: "password",
      autocomplete: "new-password",
      spellcheck: "false",
      placeholder: t("secret.placeholder"),
    });
    const state = el(`span.badge.${isSet ? "ok" : "muted"}`, { id: `${id}-state`, text: t(isSet ? "secret.set" : "secret.notSet") });
    const error = el("div.field-error", { role: "alert" });
    const saveBtn = el("button.btn.small", {
      type: "button",
      text: t("secret.save"),
      on: { click: async () => {
        const value = input.value;
        if (!value) return;
        const res = await call("secret_set", { name, value });
        input.value = "";
        if (!res.ok) {
          error.textContent = errorLine(res.error);
          return;
        }
        data.secrets = { ...(data.secrets || {}), [name]: true };
        toast(t("secret.saved"));
        render();
      } },
    });
    const delBtn = el("button.btn.small.ghost", {
      type: "button",
      text: t("secret.delete"),
      hidden: !isSet,
      on: { click: async () => {
        const res = await call("secret_delete", { name });
        if (!res.ok) {
          error.textContent = errorLine(res.error);
          return;
        }
        data.secrets = { ...(data.secrets || {}), [name]: false };
        toast(t("secret.deleted"));
        render();
      } },
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        saveBtn.click();
      }
    });
    const fromEnv = (data.secrets_from_env || []).includes(name);
    const envName = (data.env_names || {})[name];
    return el(
      "div.field.secret",
      { dataset: { secret: name } },
      el("div.field-head", {}, el("label.field-label", { for: id, text: t(`secret.${name}`) }), state),
      el("div.field-input.inline", {}, input, saveBtn, delBtn),
      el("div.field-help", { text: t(`secret.${name}.help`) }),
      fromEnv ? el("div.field-help.warn", { text: t("settings.secretFromEnv", { name: envName }) }) : null,
      error,
    );
  }

  function storeNote() {
    const store = data.secret_store;
    const note = store && store.note ? pick(store.note) : "";
    if (!note) return "";
    return el(`div.field-help.store-note.${store.secure ? "note" : "warn"}`, { text: (store.secure ? "" : t("secret.insecure")) + note });
  }

  // ---- UI prefs without a settings field (kept in localStorage by app.js) ---
  function appendLocalPrefs(form) {
    const paths = fields().map((f) => f.path);
    if (!paths.some((p) => p.split(".").at(-1) === "theme")) form.append(themeControl(null, prefs));
    if (!paths.some((p) => p.split(".").at(-1) === "inspector")) {
      const box = el("input#pref-inspector", { type: "checkbox" });
      box.checked = prefs.getInspector();
      box.addEventListener("change", () => prefs.setInspector(box.checked));
      form.append(
        el(
          "div.field",
          { dataset: { path: "local.inspector" } },
          el("div.field-head", {}, el("label.field-label", { for: "pref-inspector", text: t("appearance.inspector") })),
          el("div.field-input", {}, box),
          el("div.field-help", { text: t("appearance.inspectorHelp") }),
        ),
      );
    }
  }

  // The saved settings drawn afresh: unsaved changes made before are dropped, but not
  // one made while they were being fetched (a click on Remove while the page starts).
  async function load() {
    captureDrafts();
    const before = { ...drafts };
    const [res] = await Promise.all([call("settings_get"), loadAvatarModels()]);
    if (!res.ok) {
      clear(body);
      body.append(el("p.field-error", { text: errorLine(res.error) }));
      return;
    }
    captureDrafts();
    for (const [path, value] of Object.entries(before)) if (drafts[path] === value) delete drafts[path];
    data = res;
    resetPreview(data.settings);
    inputs.clear();
    render();
  }

  onLangChange(() => data && render());

  return {
    load,
    render,
    getSettings: () => data && data.settings,
    hasField: (suffix) => fields().some((f) => f.path.split(".").at(-1) === suffix),
    fieldPath: (suffix) => (fields().find((f) => f.path.split(".").at(-1) === suffix) || {}).path,
    applyExternal(settings) {
      if (data) {
        data.settings = settings;
        render(); // keeps what the user changed and has not saved
      }
    },
    lang: getLang,
  };
}
