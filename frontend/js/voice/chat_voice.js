// Voice in the chat page: replies are spoken as they stream (sentence by sentence,
// the first one while the rest is still coming), each assistant message gets a
// Play button (its audio is kept for the session), a voice failure leaves the text
// alone and shows a note with Retry; a mic button fills the input box; the voice
// conversation mode is entered from the toolbar.

import { on } from "../transport.js";
import { t, onLangChange } from "../i18n.js";
import { el } from "../ui.js";
import { SentenceSplitter, splitSentences } from "./speech.js";
import { Track, createSpeaker } from "./speaker.js";
import { getConfig, onConfig, setForced } from "./config.js";
import { watchMic } from "./mic.js";
import { attachPushToTalk } from "./ptt.js";
import { createVoiceMode } from "./mode.js";
import "./strings.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_CACHED = 30; // replies whose audio is kept for Play (older audio is released)

function micIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("voice-icon");
  for (const d of ["M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z", "M5 11a7 7 0 0 0 14 0M12 18v3M8 21h8"]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/**
 * Hooks for chat.js: decorate(view) for every assistant message; replyStarted(view),
 * replyDone(view, res), replyFailed(view) around a turn. sendText(text) sends a chat
 * message and resolves chat_send's result.
 */
export function createChatVoice({ list, composerRow, input, toolbarRight, sendText }) {
  const speaker = createSpeaker();
  const tracks = new WeakMap(); // message node -> Track (audio kept for replay)
  const byId = new Map(); // message id -> Track (survives a re-render of the history)
  let cached = []; // [{node, track}], oldest first

  function remember(node, track) {
    const dropped = cached.filter((c) => c.node === node);
    cached = cached.filter((c) => c.node !== node);
    cached.push({ node, track });
    tracks.set(node, track);
    while (cached.length > MAX_CACHED) dropped.push(cached.shift());
    const inUse = new Set(cached.flatMap((c) => c.track.items.map((i) => i.url)));
    for (const old of dropped) {
      if (old.node !== node && tracks.get(old.node) === old.track) {
        tracks.delete(old.node);
        old.node.classList.remove("has-audio");
      }
      for (const [id, t] of byId) if (t === old.track) byId.delete(id);
      for (const item of old.track.items) {
        if (item.url && !inUse.has(item.url)) URL.revokeObjectURL(item.url);
      }
    }
  }
  const notes = new WeakMap(); // message node -> {note, text, view}
  let live = null; // the reply being streamed: {view, splitter, track, queued, closed, ready}
  let force = false; // the voice mode speaks even when tts_enabled is off

  const mic = el("button.btn.icon-btn.voice-mic#chat-mic", { type: "button" }, micIcon());
  composerRow.insertBefore(mic, composerRow.lastElementChild);
  attachPushToTalk(mic, {
    onState(state) {
      input.placeholder = t(state === "recording" ? "voice.recordingHint" : "chat.placeholder");
    },
    onText(text) {
      input.value = input.value.trim() ? `${input.value.trimEnd()} ${text}` : text;
      input.dispatchEvent(new Event("input"));
      input.focus();
    },
  });

  let mode = null;
  const modeBtn = el("button.btn#btn-voice-mode", {
    type: "button",
    dataset: { i18n: "voice.mode" },
    on: { click: () => mode.enter() },
  });
  modeBtn.textContent = t("voice.mode");
  toolbarRight.prepend(modeBtn);
  let micProblem = null;
  const showMicProblem = () => {  // no microphone: the button says so before anyone clicks
    modeBtn.disabled = Boolean(micProblem);
    modeBtn.dataset.problem = micProblem || "";
    modeBtn.title = micProblem ? t(`voice.micProblem.${micProblem}`) : "";
  };
  watchMic((problem) => {
    micProblem = problem;
    showMicProblem();
  });
  onLangChange(showMicProblem);

  function applyConfig(cfg) {
    list.classList.toggle("voice-on", Boolean(cfg && cfg.tts_enabled));
    mic.hidden = !cfg || cfg.stt_provider === "off";
  }
  onConfig(applyConfig);
  getConfig();

  function showNote(node, error) {
    const parts = notes.get(node);
    if (!parts) return;
    parts.text.textContent =
      error && error.type === "Blocked" ? t("voice.blocked") : t("voice.failed", { message: (error && error.message) || "?" });
    parts.note.hidden = false;
  }

  async function speak(node, track) {
    const parts = notes.get(node);
    if (parts) {
      parts.note.hidden = true;
      parts.play.textContent = t("voice.stop");
    }
    remember(node, track);
    node.classList.add("speaking");
    const result = await speaker.play(track);
    if (node.dataset.id) byId.set(node.dataset.id, track);
    node.classList.remove("speaking");
    if (parts) parts.play.textContent = t("voice.play");
    if (track.items.length) node.classList.add("has-audio");
    if (result.outcome === "failed") showNote(node, result.error);
    return result;
  }

  function replay(view) {
    const node = view.node;
    let track = tracks.get(node) || byId.get(node.dataset.id);
    if (track) track = track.replay();
    else {
      track = new Track();
      for (const s of splitSentences(view.content)) track.add(s);
      track.close();
    }
    return speak(node, track);
  }

  function decorate(view) {
    const meta = view.node.querySelector(".msg-meta");
    const play = el("button.btn.small.ghost.voice-replay", {
      type: "button",
      text: t("voice.play"),
      on: { click: () => (view.node.classList.contains("speaking") ? speaker.stop() : replay(view)) },
    });
    const text = el("span.voice-note-text");
    const retry = el("button.btn.small.voice-retry", { type: "button", text: t("voice.retry"), on: { click: () => replay(view) } });
    const note = el("div.voice-note", { role: "status", hidden: true }, text, retry);
    meta.append(play);
    view.node.insertBefore(note, meta);
    notes.set(view.node, { note, text, view, play, retry });
  }

  function push(sentence) {
    if (live.track) live.track.add(sentence);
    else live.queued.push(sentence);
  }

  function replyStarted(view) {
    speaker.stop();
    const turn = { view, splitter: new SentenceSplitter(), track: null, queued: [], closed: false, streamed: false };
    live = turn;
    turn.ready = getConfig(true).then((cfg) => {
      if (live !== turn || !(force || (cfg && cfg.tts_enabled))) return null;
      const track = new Track();
      for (const s of turn.queued) track.add(s);
      if (turn.closed) track.close();
      turn.track = track;
      return speak(view.node, track);
    });
  }

  function replyDone(view, res) {
    const turn = live;
    if (!turn || turn.view !== view || turn.closed) return;
    if (!turn.streamed && res && res.reply) turn.splitter.feed(res.reply).forEach(push);
    turn.splitter.flush().forEach(push);
    turn.closed = true;
    if (turn.track) turn.track.close();
  }

  function replyFailed(view) {
    if (live && live.view === view) {
      live.closed = true;
      if (live.track) speaker.stop();
      live = null;
    }
  }

  on("chat.withdraw", () => {
    if (live && !live.closed) replyStarted(live.view); // what was said of it is not the reply
  });
  on("chat.delta", (p) => {
    if (!live || live.closed || !p || p.kind !== "content") return;
    live.streamed = true;
    live.splitter.feed(p.text || "").forEach(push);
  });

  /** Resolves when the reply being spoken ends: {outcome: ended|stopped|failed|none}. */
  async function speakingDone() {
    const turn = live;
    if (!turn) return { outcome: "none" };
    const result = await turn.ready;
    return result || { outcome: "none" };
  }

  const setForce = (value) => {
    force = value;
    setForced(value);
  };
  mode = createVoiceMode({ speaker, sendText, speakingDone, setForce });

  onLangChange(() => {
    for (const node of list.querySelectorAll(".msg.assistant")) {
      const parts = notes.get(node);
      if (!parts) continue;
      parts.play.textContent = t(node.classList.contains("speaking") ? "voice.stop" : "voice.play");
      parts.retry.textContent = t("voice.retry");
    }
  });

  return { decorate, replyStarted, replyDone, replyFailed, speaker, mode };
}
