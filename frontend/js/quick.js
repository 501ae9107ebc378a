// The quick-chat window: one input, the last reply, a voice button.
// Same bridge as the main window (transport.js); the reply is text (textContent only).

import { call, on, ready } from "./transport.js";
import { t, setLang, addStrings } from "./i18n.js";

addStrings({
  zh: {
    "quick.title": "快速聊天",
    "quick.placeholder": "说点什么…",
    "quick.send": "发送",
    "quick.voice": "按住说话",
    "quick.empty": "还没有回复。说点什么吧。",
    "quick.thinking": "正在思考…",
    "quick.failed": "发送失败",
  },
  en: {
    "quick.title": "Quick chat",
    "quick.placeholder": "Say something…",
    "quick.send": "Send",
    "quick.voice": "Hold to talk",
    "quick.empty": "No reply yet. Say something.",
    "quick.thinking": "Thinking…",
    "quick.failed": "Not sent",
  },
});

const MIC_SVG =
  "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z";

const $ = (id) => document.getElementById(id);
const reply = $("quick-reply");
const input = $("quick-input");
const send = $("quick-send");
const status = $("quick-status");
let pending = false; // this window's turn is in flight
let streamed = "";
let lastReply = "";

function showReply(text, kind = "") {
  reply.classList.toggle("empty", !text && kind !== "error");
  reply.classList.toggle("error", kind === "error");
  reply.textContent = text || t("quick.empty");
  reply.scrollTop = reply.scrollHeight;
}

function setStatus(text, error = false) {
  status.textContent = text || "";
  status.classList.toggle("error", error);
}

function applyLang(lang) {
  setLang(lang);
  document.title = t("quick.title");
  input.placeholder = t("quick.placeholder");
  send.textContent = t("quick.send");
  const voice = $("quick-voice");
  voice.title = t("quick.voice");
  voice.setAttribute("aria-label", voice.title);
  if (!pending) showReply(lastReply);
}

// The theme setting ("system", "light", "dark"), followed live: a change in the
// settings (any window) and, for "system", the system's own switch.
let themeChoice = "system";
let langChoice = "";
const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

function applyTheme(choice = themeChoice) {
  themeChoice = choice || "system";
  const dark = themeChoice === "dark" || (themeChoice !== "light" && darkQuery && darkQuery.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

async function followSettings(settings) {
  if (!settings) return;
  if (settings.theme && settings.theme !== themeChoice) applyTheme(settings.theme);
  if (settings.language && settings.language !== langChoice) {
    langChoice = settings.language; // "auto" is the system's language: the bridge knows it
    const root = document.documentElement;
    root.dataset.langGuessed = "1"; // the app's language is asked, not this page's named
    const info = await call("app_info");
    if (info.ok) applyLang(info.lang);
    delete root.dataset.langGuessed;
  }
}

async function submit(text) {
  const message = (text ?? input.value).trim();
  if (!message || pending) return;
  pending = true;
  streamed = "";
  send.disabled = true;
  input.value = "";
  setStatus(t("quick.thinking"));
  showReply("");
  reply.textContent = "…";
  const res = await call("chat_send", { text: message });
  pending = false;
  send.disabled = false;
  if (res.ok) {
    lastReply = res.reply || streamed;
    showReply(lastReply);
    setStatus("");
  } else {
    input.value = message; // nothing lost: the text comes back for another try
    showReply(res.error?.message || t("quick.failed"), "error");
    setStatus(t("quick.failed"), true);
  }
  input.focus();
}

on("chat.withdraw", () => {
  streamed = "";
  reply.textContent = "";
});
on("chat.delta", (p) => {
  if (!pending || !p || p.kind !== "content") return;
  streamed += p.text || "";
  reply.classList.remove("empty", "error");
  reply.textContent = streamed;
  reply.scrollTop = reply.scrollHeight;
});

async function setupVoice() {
  const button = $("quick-voice");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", MIC_SVG);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  button.append(svg);
  let voice = null;
  try {
    voice = await import("./voice/index.js");
  } catch {
    voice = null; // the voice feature is not installed: no button
  }
  if (!voice || typeof voice.attachPushToTalk !== "function") return false;
  voice.attachPushToTalk(button, { onText: (text) => submit(text) });
  button.hidden = false;
  return true;
}

async function start() {
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      submit();
    }
  });
  $("quick-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  applyLang(document.documentElement.lang.startsWith("en") ? "en" : "zh");
  if (darkQuery) darkQuery.addEventListener("change", () => applyTheme());
  await ready();
  on("settings.changed", (d) => followSettings(d && d.settings));
  const info = await call("app_info");
  if (info.ok) {
    $("quick-name").textContent = info.self_name || "";
    langChoice = info.ui_lang_setting || "";
    applyTheme(info.theme);
    applyLang(info.lang);
    delete document.documentElement.dataset.langGuessed; // known now (early.js)
  }
  const history = await call("chat_history");
  if (history.ok && !pending) {
    const last = [...(history.messages || [])].reverse().find((m) => m.role === "assistant");
    lastReply = last ? last.content || "" : "";
    showReply(lastReply);
  }
  document.body.dataset.voice = (await setupVoice()) ? "on" : "off";
  document.body.dataset.ready = "1";
  input.focus();
}

start();
