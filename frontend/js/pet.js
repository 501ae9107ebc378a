// The desktop pet (index.html?pet=1, loaded by boot.js): only the avatar and its
// speech bubble on a see-through page. A click on the avatar opens a small input
// beside it; right-click opens the menu (talk, open the main window, mute voice,
// leave pet mode, quit). Messages go through the same bridge `chat_send` as the main
// window, so both show one conversation; replies show in the avatar's bubble (the
// avatar follows every `chat.delta`) and are spoken when voice is on.
// The window itself (frameless, on top, transparent) is the desktop's:
// desktop/pet.py and desktop/window.py. Model output goes in through textContent only.

import { call, on, ready, mode } from "./transport.js";
import { t, setLang, addStrings } from "./i18n.js";
import { subscribe } from "./bus.js";
import { el } from "./ui.js";
import { createAvatar } from "./avatar/index.js";
import { Track, createSpeaker } from "./voice/speaker.js";
import { SentenceSplitter } from "./voice/speech.js";
import { getConfig } from "./voice/config.js";
import { watchShape } from "./pet_shape.js";

addStrings({
  zh: {
    "pet.title": "桌宠 · 数字生命",
    "pet.placeholder": "说点什么…",
    "pet.send": "发送",
    "pet.menu": "桌宠菜单",
    "pet.talk": "说话",
    "pet.open": "打开主窗口",
    "pet.mute": "静音",
    "pet.leave": "退出桌宠模式",
    "pet.quit": "退出数字生命",
    "pet.thinking": "正在思考…",
    "pet.failed": "发送失败",
    "pet.desktopOnly": "这一项只在桌面应用中可用。",
    "pet.noVoice": "没有语音设置。",
  },
  en: {
    "pet.title": "Pet · Digital Life",
    "pet.placeholder": "Say something…",
    "pet.send": "Send",
    "pet.menu": "Pet menu",
    "pet.talk": "Talk",
    "pet.open": "Open the main window",
    "pet.mute": "Mute voice",
    "pet.leave": "Leave pet mode",
    "pet.quit": "Quit Digital Life",
    "pet.thinking": "Thinking…",
    "pet.failed": "Not sent",
    "pet.desktopOnly": "This works in the desktop app only.",
    "pet.noVoice": "There is no voice setting.",
  },
});

const MENU = ["talk", "open", "mute", "leave", "quit"];

// ---- the page: the main window's markup goes, the pet's comes --------------------
document.getElementById("app")?.remove();
const area = el("aside#avatar-area");
const input = el("input#pet-input.pet-input", { type: "text", autocomplete: "off", maxlength: "4000" });
const sendBtn = el("button#pet-send.pet-send", { type: "submit" });
const form = el("form#pet-form.pet-form", { hidden: true }, input, sendBtn);
const note = el("div#pet-note.pet-note", { role: "status", "aria-live": "polite", hidden: true });
const items = {};
for (const name of MENU) {
  const role = name === "mute" ? "menuitemcheckbox" : "menuitem";
  items[name] = el(`button.pet-item#pet-${name}`, { type: "button", role, dataset: { action: name } });
}
const menu = el("div#pet-menu.pet-menu", { role: "menu", hidden: true }, ...MENU.map((n) => items[n]));
const root = el("div#pet.pet", {}, area, form, note, menu);
document.body.prepend(root);

const avatar = createAvatar(area, { pet: true });
// A drag on the avatar moves the window: pywebview's drag region (its own script calls
// the window's move; desktop/pet.py says why not easy_drag).
area.querySelector(".avatar-stage")?.classList.add("pywebview-drag-region");

let muted = null; // null: no voice setting
let pending = false;
let noteTimer = 0;

function showNote(text, error = false) {
  clearTimeout(noteTimer);
  note.textContent = text || "";
  note.classList.toggle("error", error);
  note.hidden = !text;
  if (text && !error) noteTimer = setTimeout(() => (note.hidden = true), 4000);
}

function applyLang(lang) {
  setLang(lang);
  document.title = t("pet.title");
  input.placeholder = t("pet.placeholder");
  sendBtn.textContent = t("pet.send");
  menu.setAttribute("aria-label", t("pet.menu"));
  for (const name of MENU) items[name].textContent = t(`pet.${name}`);
}

function applyTheme(choice) {
  const dark =
    choice === "dark" ||
    (choice !== "light" && window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

// ---- talking ------------------------------------------------------------------------
function openInput() {
  closeMenu();
  form.hidden = false;
  input.focus();
}

function closeInput() {
  if (!pending) form.hidden = true;
}

// Voice: this window speaks the replies to its own messages, as the main window does.
const speaker = createSpeaker();
let live = null; // {splitter, track, queued, closed}

function push(sentence) {
  if (live.track) live.track.add(sentence);
  else live.queued.push(sentence);
}

async function submit() {
  const text = input.value.trim();
  if (!text || pending) return;
  pending = true;
  input.value = "";
  sendBtn.disabled = true;
  showNote(t("pet.thinking"));
  speaker.stop();
  const turn = { splitter: new SentenceSplitter(), track: null, queued: [], closed: false, streamed: false };
  live = turn;
  getConfig(true).then((cfg) => {
    if (live !== turn || !(cfg && cfg.tts_enabled)) return;
    turn.track = new Track();
    for (const s of turn.queued) turn.track.add(s);
    if (turn.closed) turn.track.close();
    speaker.play(turn.track);
  });
  const res = await call("chat_send", { text });
  pending = false;
  sendBtn.disabled = false;
  if (res.ok) {
    if (!turn.streamed && res.reply) turn.splitter.feed(res.reply).forEach(push);
    turn.splitter.flush().forEach(push);
    turn.closed = true;
    if (turn.track) turn.track.close();
    showNote("");
    form.hidden = true;
  } else {
    turn.closed = true;
    live = null;
    speaker.stop();
    input.value = text; // nothing lost: the text comes back for another try
    showNote(res.error?.message || t("pet.failed"), true);
    input.focus();
  }
}

on("chat.withdraw", () => { // the reply broke off and is asked again: start its speech over
  if (!live || live.closed) return;
  speaker.stop();
  live.splitter = new SentenceSplitter();
  live.queued = [];
  if (live.track) {
    live.track = new Track();
    speaker.play(live.track);
  }
});
on("chat.delta", (p) => {
  if (!live || live.closed || !p || p.kind !== "content") return;
  live.streamed = true;
  live.splitter.feed(p.text || "").forEach(push);
});

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  submit();
});
input.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closeInput();
});
subscribe("avatar.tap", () => (form.hidden ? openInput() : closeInput()));

// ---- the menu ---------------------------------------------------------------------------
function closeMenu() {
  menu.hidden = true;
}

function openMenu(x, y) {
  items.mute.hidden = muted === null;
  items.mute.setAttribute("aria-checked", muted ? "true" : "false");
  menu.hidden = false;
  const w = menu.offsetWidth;
  const h = menu.offsetHeight;
  menu.style.left = `${Math.max(4, Math.min(x, window.innerWidth - w - 4))}px`;
  menu.style.top = `${Math.max(4, Math.min(y, window.innerHeight - h - 4))}px`;
  items.talk.focus();
}

async function readMute() {
  const res = await call("settings_get");
  const value = res.ok && res.settings && res.settings.voice ? res.settings.voice.tts_enabled : undefined;
  muted = typeof value === "boolean" ? !value : null;
}

/** A desktop-only action: said so in the browser. */
function desktopOnly(res) {
  if (res.ok && res.done === false) showNote(t("pet.desktopOnly"));
  else if (!res.ok) showNote(res.error?.message || "?", true);
}

const actions = {
  talk: openInput,
  async open() {
    desktopOnly(await call("window_show"));
  },
  async mute() {
    await readMute();
    if (muted === null) return showNote(t("pet.noVoice"));
    const res = await call("settings_set", { patch: { voice: { tts_enabled: muted } } });
    if (res.ok) {
      muted = !muted;
      if (muted) speaker.stop();
      getConfig(true);
    } else showNote(res.error?.message || "?", true);
  },
  async leave() {
    const res = await call("pet_set", { on: false });
    if (res.ok && res.done === false && mode === "http") {
      // The browser: the same page without the pet flag (the token stays in the address).
      const url = new URL(window.location.href);
      url.searchParams.delete("pet");
      url.hash = "";
      window.location.assign(url.toString());
    } else desktopOnly(res);
  },
  async quit() {
    desktopOnly(await call("app_quit"));
  },
};

menu.addEventListener("click", (ev) => {
  const action = ev.target.closest("[data-action]")?.dataset.action;
  if (!action) return;
  closeMenu();
  actions[action]();
});
document.addEventListener("contextmenu", (ev) => {
  ev.preventDefault();
  readMute().then(() => openMenu(ev.clientX, ev.clientY));
});
document.addEventListener("pointerdown", (ev) => {
  if (!menu.hidden && !menu.contains(ev.target)) closeMenu();
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closeMenu();
});

async function start() {
  applyLang(document.documentElement.lang.startsWith("en") ? "en" : "zh");
  await ready();
  const info = await call("app_info");
  on("settings.changed", (d) => d && d.settings && applyTheme(d.settings.theme));
  if (info.ok) {
    applyTheme(info.theme);
    applyLang(info.lang);
  }
  await readMute();
  // Clicks beside what is drawn go to the desktop where that can be done (pet_shape.js;
  // in the browser the first call says so and it stops).
  const parts = () => [area.querySelector(".avatar-bubble"), area.querySelector(".avatar-note"), form, note, menu];
  watchShape(root, parts, (cell) => {
    if (!avatar) return null;
    const rows = avatar.silhouette ? avatar.silhouette(cell) : null; // Live2D: as drawn
    if (rows) return rows;
    const r = avatar.box ? avatar.box() : null; // the SVG face: its box
    return r ? [[r.left, r.top, r.width, r.height]] : null;
  });
  document.documentElement.dataset.ready = "1";
  call("page_ready");
}

start();
