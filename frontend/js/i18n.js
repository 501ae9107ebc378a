// UI strings in Chinese and English. The language is app_info.lang; <html lang> follows.

import zh from "./lang/zh.js";
import en from "./lang/en.js";

const STRINGS = { zh, en };

let lang = "zh";
const changeHandlers = new Set();

export function getLang() {
  return lang;
}

/** The colon after a label in the UI language: "时间：", "When: ". */
export function colon() {
  return lang === "zh" ? "：" : ": ";
}

/** Set the UI language ("zh"/"en"); re-translates [data-i18n] nodes and notifies listeners. */
export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  applyStatic(document);
  for (const fn of [...changeHandlers]) fn(lang);
}

export function onLangChange(fn) {
  changeHandlers.add(fn);
  return () => changeHandlers.delete(fn);
}

/** Translate a key, filling {placeholders} from vars. */
export function t(key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.zh;
  if (Number(vars.n) === 1 && `${key}.one` in table) key = `${key}.one`; // "1 message", not "1 messages"
  let text = key in table ? table[key] : STRINGS.en[key] ?? key;
  for (const [name, value] of Object.entries(vars)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

export function hasKey(key) {
  return key in STRINGS.zh;
}

/** Pick the current language from a {en, zh} pair (as settings_get's label/help). */
export function pick(pair) {
  if (!pair) return "";
  if (typeof pair === "string") return pair;
  return pair[lang] || pair.en || pair.zh || "";
}

/** Fill text of [data-i18n], placeholder of [data-i18n-placeholder], title of [data-i18n-title]. */
export function applyStatic(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", el.title);
  }
}

export const LANGS = Object.keys(STRINGS);

/**
 * Add a feature's strings ({zh: {...}, en: {...}}) from its own module, so features
 * keep their strings next to their code. Existing keys are not overwritten.
 */
export function addStrings(table) {
  for (const [code, entries] of Object.entries(table)) {
    STRINGS[code] = STRINGS[code] || {};
    for (const [key, text] of Object.entries(entries)) {
      if (!(key in STRINGS[code])) STRINGS[code][key] = text;
    }
  }
}
