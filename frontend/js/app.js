// Entry point: navigation, theme, language, and wiring of the pages.

import { call, on, ready, mode } from "./transport.js";
import { t, colon, setLang, getLang, onLangChange, addStrings } from "./i18n.js";
import { createChat } from "./chat.js";
import { createSettings } from "./settings.js";
import { createInspector } from "./inspector.js";
import { createMemory, MEMORY_TABS } from "./memory.js";
import { createAvatar } from "./avatar/index.js";
import { initSetup } from "./setup.js";
import { publish } from "./bus.js";
import { showTheme } from "./settings_pickers.js";
import { createLimits } from "./limits.js";

addStrings({
  zh: { "theme.toDark": "切换为深色", "theme.toLight": "切换为浅色", "theme.now": "{choice}，当前{shown}" },
  en: { "theme.toDark": "Switch to dark", "theme.toLight": "Switch to light", "theme.now": "{choice}, now {shown}" },
});

const PAGES = ["chat", "memory", "settings", "inspector"];
const THEMES = ["system", "light", "dark"]; // "system" is chosen in Settings; the header button flips light/dark
const THEME_ICONS = { light: "☀", dark: "☾" };
// Non-secret UI preferences only; used when the settings model has no field for them
// (the theme is also kept here to paint the first frame before the settings arrive).
const LS_THEME = "dl.ui.theme";
const LS_INSPECTOR = "dl.ui.inspector";

let info = {};
let theme = "system";
let inspectorOn = false;
let page = "chat";
let status = "idle";
const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

function localGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function localSet(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* storage may be off in some webviews */
  }
}

/** "light" or "dark": what the page shows now. */
function shownTheme() {
  return theme === "dark" || (theme === "system" && darkQuery && darkQuery.matches) ? "dark" : "light";
}

function applyTheme() {
  const shown = shownTheme();
  document.documentElement.dataset.theme = shown;
  document.documentElement.dataset.themeChoice = theme;
  const btn = document.getElementById("theme-toggle");
  btn.querySelector(".theme-icon").textContent = THEME_ICONS[shown];
  const state = theme === "system" ? t("theme.now", { choice: t("theme.system"), shown: t(`theme.${shown}`) }) : t(`theme.${shown}`);
  btn.title = `${t("header.theme")}${colon()}${state} — ${t(shown === "dark" ? "theme.toLight" : "theme.toDark")}`;
  btn.setAttribute("aria-label", btn.title);
  btn.setAttribute("aria-pressed", shown === "dark" ? "true" : "false");
  showTheme(theme); // Settings → Appearance, when shown
}

function nestedPatch(path, value) {
  const patch = {};
  const keys = path.split(".");
  let o = patch;
  for (const k of keys.slice(0, -1)) o = o[k] = {};
  o[keys.at(-1)] = value;
  return patch;
}

function renderFooter() {
  document.getElementById("footer-version").textContent = info.version ? t("footer.version", { version: info.version }) : "";
  document.getElementById("footer-status").textContent = t(status === "busy" ? "status.busy" : "status.idle");
}

function navigate(target) {
  // "memory/diary" opens a sub-tab of the Memory page.
  let [next, sub] = String(target || "").split("/");
  if (!PAGES.includes(next) || (next === "inspector" && !inspectorOn)) next = "chat";
  if (next === "memory" && !MEMORY_TABS.includes(sub)) sub = memory.active();
  page = next;
  for (const section of document.querySelectorAll(".page")) section.hidden = section.dataset.page !== page;
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-selected", tab.dataset.page === page ? "true" : "false");
  }
  const hash = page === "memory" ? `#memory/${sub}` : `#${page}`;
  if (window.location.hash !== hash) history.replaceState(null, "", hash);
  if (page === "memory") memory.load(sub);
  if (page === "settings") settings.load();
  if (page === "inspector") inspector.load();
  if (page === "chat") chat.focus();
  publish("page.changed", { page });
}

function applyInspector() {
  document.getElementById("nav-inspector").hidden = !inspectorOn;
  if (!inspectorOn && page === "inspector") navigate("chat");
}

const prefs = {
  getTheme: () => theme,
  async setTheme(value) {
    theme = THEMES.includes(value) ? value : "system";
    applyTheme();
    localSet(LS_THEME, theme);
    const path = settings.fieldPath("theme");
    if (path) {
      const res = await call("settings_set", { patch: nestedPatch(path, theme) });
      if (res.ok) settings.applyExternal(res.settings);
    }
  },
  getInspector: () => inspectorOn,
  async setInspector(value) {
    inspectorOn = Boolean(value);
    applyInspector();
    const path = settings.fieldPath("inspector");
    if (path) {
      const res = await call("settings_set", { patch: nestedPatch(path, inspectorOn) });
      if (res.ok) settings.applyExternal(res.settings);
    } else localSet(LS_INSPECTOR, inspectorOn ? "1" : "0");
  },
};

async function refreshInfo() {
  const res = await call("app_info");
  if (!res.ok) return false;
  info = res;
  return true;
}

/** Apply app_info: language, theme, inspector, model line. */
function applyInfo() {
  const fromSettings = settings.hasField("theme");
  theme = fromSettings || !localGet(LS_THEME) ? info.theme || "system" : localGet(LS_THEME);
  if (!THEMES.includes(theme)) theme = "system";
  localSet(LS_THEME, theme);
  const storedInspector = localGet(LS_INSPECTOR);
  inspectorOn = settings.hasField("inspector") || storedInspector === null ? Boolean(info.inspector) : storedInspector === "1";
  applyTheme();
  applyInspector();
  const lang = uiLang();
  if (lang && lang !== getLang()) setLang(lang);
  delete document.documentElement.dataset.langGuessed; // known now: calls name it (transport.js)
  document.getElementById("lang-select").value = getLang();
  chat.renderModelLine();
  renderFooter();
}

/** The browser's first choice of our languages ("" when it names neither). */
function browserLang() {
  for (const tag of navigator.languages || [navigator.language]) {
    const code = String(tag || "").toLowerCase();
    if (code.startsWith("zh")) return "zh";
    if (code.startsWith("en")) return "en";
  }
  return "";
}

/** The page's language: the user's choice; without one, in a browser the browser's
 * (the server's locale is not the reader's), in the window the system's (app_info). */
function uiLang() {
  const chosen = info.ui_lang_setting && info.ui_lang_setting !== "auto";
  if (!chosen && mode === "http") return browserLang() || info.lang;
  return info.lang;
}

// The menu waits while a choice is saved: a second choice made meanwhile could be
// answered first, and the page is drawn again in the chosen language when it is.
async function switchLang(value) {
  const menu = document.getElementById("lang-select");
  menu.disabled = true;
  try {
    const res = await call("settings_set", { patch: { language: value } });
    if (res.ok) {
      settings.applyExternal(res.settings);
      await refreshInfo();
    }
    setLang(res.ok ? uiLang() || value : value);
  } finally {
    menu.disabled = false;
    menu.value = getLang();
  }
}

const setStatus = (value) => {
  status = value;
  renderFooter();
};

let openSetup = null; // set once initSetup has run
const chat = createChat(document.getElementById("page-chat"), {
  getInfo: () => info,
  navigate,
  setStatus,
  openSetup: () => openSetup && openSetup(),
  async onNamed() { // the user's name, learned in the chat: the Memory page's names follow
    if (await refreshInfo()) applyInfo();
  },
});
const settings = createSettings(document.getElementById("page-settings"), {
  prefs,
  navigate,
  async onSaved() {
    if (await refreshInfo()) applyInfo();
    chat.refreshGauge();
  },
});
const inspector = createInspector(document.getElementById("page-inspector"));
const limits = createLimits(document.querySelector(".main")); // services that are down
createAvatar(document.getElementById("avatar-area"));
const memory = createMemory(document.getElementById("page-memory"), {
  getInfo: () => info,
  // Names, profile or the whole memory changed: the header, chat and gauge follow.
  async onChanged() {
    if (await refreshInfo()) applyInfo();
    memory.renderTabs();
    await chat.load();
    chat.refreshGauge();
  },
  onTab(sub) {
    if (page === "memory") history.replaceState(null, "", `#memory/${sub}`);
  },
});

async function start() {
  // Before app_info: the language the desktop named (?lang=, early.js), else the
  // browser's, so "starting" reads right at once.
  const root = document.documentElement;
  const named = root.dataset.bootLang || browserLang();
  // A browser in neither language: a guess until app_info answers (early.js).
  if (named) delete root.dataset.langGuessed;
  setLang(named || (root.lang.startsWith("en") ? "en" : "zh"));
  delete root.dataset.bootLang; // the translated loading text takes over (app.css)
  for (const el of document.querySelectorAll(".boot-en")) el.remove();
  document.getElementById("lang-select").value = getLang();
  // The desktop window names the chosen theme in the address (?theme=dark): the
  // loading state is drawn in it before the settings arrive.
  const asked = new URLSearchParams(window.location.search).get("theme");
  if (THEMES.includes(asked)) theme = asked;
  else if (THEMES.includes(localGet(LS_THEME))) theme = localGet(LS_THEME);
  applyTheme();
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => navigate(tab.dataset.page));
  }
  // Two states: every click changes what is visible (from "system" too).
  document.getElementById("theme-toggle").addEventListener("click", () => {
    prefs.setTheme(shownTheme() === "dark" ? "light" : "dark");
  });
  document.getElementById("lang-select").addEventListener("change", (ev) => switchLang(ev.target.value));
  if (darkQuery) darkQuery.addEventListener("change", applyTheme);
  on("settings.changed", (d) => { // the theme chosen in another window or tab
    const next = d && d.settings && d.settings.theme;
    if (THEMES.includes(next) && next !== theme) {
      theme = next;
      localSet(LS_THEME, theme);
      applyTheme();
    }
  });
  onLangChange(() => {
    applyTheme();
    renderFooter();
  });

  await ready();
  await refreshInfo();
  // settings_get tells whether theme/inspector live in the settings model.
  await settings.load();
  applyInfo();
  await chat.load();
  document.getElementById("boot-loading").remove();
  limits.load();
  navigate((window.location.hash || "#chat").slice(1));
  // First run: choose a model (also reachable from Settings).
  openSetup = await initSetup({ settingsRoot: document.getElementById("page-settings"), async onApplied() { if (await refreshInfo()) applyInfo(); await settings.load(); chat.refreshGauge(); } });
  document.documentElement.dataset.ready = "1";
  await call("page_ready"); // the app opens the diary now (before: on first use)
  chat.started();
}

start();
