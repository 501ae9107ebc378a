// The one way the page talks to Python (docs/bridge-api.md).
//
// Window (pywebview): window.pywebview.api.<method>(params); Python pushes
// events through window.__dlEmit(name, payload).
// Browser (`dl-app serve`): chosen ONLY by <meta name="dl-transport" content="http">;
// POST /api/call/<method> with X-DL-Token, events over SSE from /api/events.
// The token comes from the page URL and lives in this module's variable only.

const meta = document.querySelector('meta[name="dl-transport"]');
export const mode = meta && meta.getAttribute("content") === "http" ? "http" : "pywebview";

const token = mode === "http" ? new URLSearchParams(window.location.search).get("token") || "" : "";

const listeners = new Map(); // name -> Set<fn>
let source = null; // EventSource (http mode)
const sseNames = new Set(); // event names registered on the EventSource
let readyPromise = null;

function dispatch(name, payload) {
  let data = payload;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      /* keep the string */
    }
  }
  const set = listeners.get(name);
  if (!set) return;
  for (const fn of [...set]) {
    try {
      fn(data);
    } catch (err) {
      console.error(`listener for ${name} failed`, err);
    }
  }
}

// Python -> JS in the window: evaluate_js("window.__dlEmit(name, payload)").
window.__dlEmit = (name, payload) => dispatch(name, payload);

function listenSse(name) {
  if (!source || sseNames.has(name)) return;
  sseNames.add(name);
  source.addEventListener(name, (ev) => dispatch(name, ev.data));
}

/** Subscribe to a Python -> JS event; returns a function that unsubscribes. */
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  listenSse(name);
  return () => listeners.get(name)?.delete(fn);
}

function bridgeError(type, message) {
  return { ok: false, error: { type, message } };
}

function openEvents() {
  return new Promise((resolve) => {
    source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
    for (const name of listeners.keys()) listenSse(name);
    let settled = false;
    const done = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    source.addEventListener("open", () => {
      dispatch("bridge.status", { ok: true });
      done();
    });
    source.addEventListener("error", () => {
      dispatch("bridge.status", { ok: false });
      done();
    });
    setTimeout(done, 3000); // never block the page on the event stream
  });
}

function waitForPywebview() {
  return new Promise((resolve) => {
    // pywebview may define window.pywebview before its api methods are injected.
    if (window.pywebview && window.pywebview.api && typeof window.pywebview.api.app_info === "function") {
      resolve();
      return;
    }
    window.addEventListener("pywebviewready", () => resolve(), { once: true });
  });
}

/** Resolves when a transport is up. */
export function ready() {
  if (!readyPromise) readyPromise = mode === "http" ? openEvents() : waitForPywebview();
  return readyPromise;
}

// The page's language (early.js and i18n.js set <html lang>): the bridge says its
// messages in it, and under the setting "auto" the companion speaks it. Until a
// language is chosen, a page in a browser speaks the browser's and the app the
// system's, which may differ. None while the page only guessed (early.js).
function pageLang() {
  const root = document.documentElement;
  if (root.dataset.langGuessed) return "";
  const lang = root.lang || "";
  return lang.startsWith("en") ? "en" : lang.startsWith("zh") ? "zh" : "";
}

async function callHttp(method, params) {
  let resp;
  try {
    const headers = { "Content-Type": "application/json", "X-DL-Token": token };
    const lang = pageLang();
    if (lang) headers["X-DL-Lang"] = lang;
    resp = await fetch(`/api/call/${encodeURIComponent(method)}`, {
      method: "POST",
      headers,
      body: JSON.stringify(params || {}),
    });
  } catch (err) {
    return bridgeError("BridgeUnavailable", String(err && err.message ? err.message : err));
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (body && typeof body === "object" && "ok" in body) return body;
  if (resp.status === 401 || resp.status === 403) {
    return bridgeError("Forbidden", `HTTP ${resp.status}`);
  }
  return bridgeError("BridgeError", `HTTP ${resp.status}`);
}

async function callPywebview(method, params) {
  const api = window.pywebview && window.pywebview.api;
  if (!api || typeof api[method] !== "function") {
    return bridgeError("BridgeError", `unknown method ${method}`);
  }
  try {
    const res = await api[method](params || {});
    if (res && typeof res === "object" && "ok" in res) return res;
    return bridgeError("BridgeError", `bad result from ${method}`);
  } catch (err) {
    return bridgeError("BridgeError", String(err && err.message ? err.message : err));
  }
}

/** Call a bridge method; always resolves to {ok: true, ...} or {ok: false, error}. */
export async function call(method, params = {}) {
  await ready();
  return mode === "http" ? callHttp(method, params) : callPywebview(method, params);
}
