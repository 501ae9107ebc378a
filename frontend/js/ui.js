// Small DOM helpers: element builder, confirm dialog, toasts, progress bars.
// Text always goes in through textContent; nothing here parses HTML.

import { t, colon } from "./i18n.js";

/** el("div.cls#id", {attrs}, ...children): children are nodes or strings (as text). */
export function el(spec, attrs = {}, ...children) {
  const match = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec) || [];
  const node = document.createElement(match[1] || "div");
  for (const part of (match[2] || "").match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") node.classList.add(part.slice(1));
    else node.id = part.slice(1);
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "on") {
      for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    } else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A modal confirm dialog; resolves true on OK. */
export function confirmDialog(title, message, okLabel) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const close = (value) => {
      backdrop.remove();
      document.removeEventListener("keydown", onKey, true);
      if (previous && previous.focus) previous.focus();
      resolve(value);
    };
    const onKey = (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        close(false);
      }
    };
    const ok = el("button.btn.primary", {
      type: "button",
      text: okLabel || t("common.ok"),
      on: { click: () => close(true) },
    });
    const cancel = el("button.btn", {
      type: "button",
      text: t("common.cancel"),
      on: { click: () => close(false) },
    });
    const dialog = el(
      "div.modal",
      { role: "dialog", "aria-modal": "true", "aria-labelledby": "modal-title" },
      el("h2#modal-title.modal-title", { text: title }),
      el("p.modal-text", { text: message }),
      el("div.modal-actions", {}, cancel, ok),
    );
    const backdrop = el("div.modal-backdrop", {
      on: { click: (ev) => ev.target === backdrop && close(false) },
    }, dialog);
    document.body.append(backdrop);
    document.addEventListener("keydown", onKey, true);
    ok.focus();
  });
}

/** A short message near the top of the window: under the header and, where it shows,
 *  the chat's toolbar (taller when a narrow window wraps its buttons), never over them. */
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const bar = document.querySelector(".chat-toolbar");
  const below = bar && bar.offsetParent !== null ? bar.getBoundingClientRect().bottom + 8 : 0;
  box.style.top = `${Math.max(120, Math.round(below))}px`;
  const node = el(`div.toast.${kind}`, { role: kind === "error" ? "alert" : "status", text: message });
  box.append(node);
  setTimeout(() => node.remove(), 4000);
}

/** A labelled progress bar; update(done, total, label) and remove(). */
export function progressBar(container) {
  const fill = el("div.progress-fill");
  const label = el("span.progress-label");
  const node = el("div.progress", { role: "progressbar", "aria-valuemin": "0" }, el("div.progress-track", {}, fill), label);
  container.append(node);
  return {
    node,
    update(done, total, text) {
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      fill.style.width = `${Math.round(ratio * 100)}%`;
      node.setAttribute("aria-valuemax", String(total || 0));
      node.setAttribute("aria-valuenow", String(done || 0));
      node.classList.toggle("indeterminate", !total);
      label.textContent = text || "";
    },
    remove() {
      node.remove();
    },
  };
}

/** Clear a node's children. */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

/** Error title for a bridge error object, in the current language. */
export function errorTitle(error) {
  const key = `error.${error && error.type}`;
  const title = t(key);
  return title === key ? t("error.generic") : title;
}

// Errors whose message from Python is a whole sentence that already says what the
// title says, and more (which service, its address, what to check): a rejected key
// ("The chat service at … rejected the API key (401)…"). Shown, they are that
// sentence alone, not "title: message" saying it twice.
const SAID_IN_FULL = new Set(["AuthFailed"]);

/** Whether the error's message says it all (then no title goes before or above it). */
export function saysItAll(error) {
  return Boolean(error && error.message && SAID_IN_FULL.has(error.type));
}

/** "Title: message" for a bridge error (the message comes in the page's language),
 *  with the colon of that language; the message alone when it says it all. */
export function errorLine(error, title = errorTitle(error)) {
  const msg = error && error.message ? String(error.message) : "";
  if (saysItAll(error)) return msg;
  return msg ? `${title}${colon()}${msg}` : title;
}

/** Read a dotted path ("llm.model") from a nested object. */
export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

/** Set a dotted path in a nested object, creating levels as needed. */
export function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys.at(-1)] = value;
}
