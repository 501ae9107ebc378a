// Continuous voice conversation: a voice-only overlay that loops
// listen → (silence ends the turn) → send through the normal chat → speak → listen.
// Talking while the reply plays stops it (barge-in) and starts the next turn.
// States (listening/thinking/speaking) are shown and published on the bus.

import { t, applyStatic } from "../i18n.js";
import { el } from "../ui.js";
import { publish, subscribe } from "../bus.js";
import { getConfig } from "./config.js";
import { openMic, sttMode, transcribe, webSpeech } from "./mic.js";
import { micError } from "./ptt.js";

const THRESHOLD = 0.02; // RMS that counts as speech
const BARGE_FACTOR = 1.5; // louder while the companion talks (its own voice may leak in)
const SPEECH_MS = 120; // this long above the threshold starts speech
const BARGE_MS = 250;
const MAX_TURN_MS = 30000;
const TICK_MS = 50;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function createVoiceMode({ speaker, sendText, speakingDone, setForce }) {
  const stateLine = el("div.voice-state#voice-state", { "aria-live": "polite" });
  const level = el("div.voice-level");
  const heard = el("div.voice-heard#voice-heard");
  const said = el("div.voice-said#voice-said");
  const errorLine = el("div.voice-error#voice-error", { role: "alert" });
  const exitBtn = el("button.btn.primary#voice-exit", {
    type: "button",
    dataset: { i18n: "voice.mode.exit" },
    on: { click: () => exit() },
  });
  const overlay = el(
    "div.voice-mode#voice-mode",
    { hidden: true, role: "dialog", "aria-modal": "true", "aria-labelledby": "voice-mode-title" },
    el("div.voice-panel", {},
      el("h2.voice-title#voice-mode-title", { dataset: { i18n: "voice.mode.title" } }),
      el("div.voice-orb", {}, level),
      stateLine,
      heard,
      said,
      errorLine,
      el("p.voice-hint", { dataset: { i18n: "voice.mode.hint" } }),
      exitBtn),
  );
  document.body.append(overlay);

  let active = false;
  let loopGen = 0;
  let mic = null;
  let cfg = null;
  let state = "idle";
  const timers = new Set();

  function setState(next) {
    state = next;
    overlay.dataset.state = next;
    stateLine.textContent = t(`voice.state.${next}`);
    publish("voice.state", { state: next });
  }

  function every(fn) {
    const id = setInterval(fn, TICK_MS);
    timers.add(id);
    return () => {
      clearInterval(id);
      timers.delete(id);
    };
  }

  function showLevel(value) {
    level.style.transform = `scale(${1 + Math.min(1, value * 12)})`;
  }

  /** One utterance: resolves its text ("" when nothing was understood), null on exit. */
  function listen(gen, bargedIn) {
    const browser = sttMode(cfg) === "browser";
    const rec = browser ? webSpeech() : null;
    if (rec) rec.start();
    else mic.start(bargedIn);
    const silenceMs = (cfg && cfg.silence_ms) || 1200;
    return new Promise((resolve) => {
      let speech = bargedIn;
      let loudSince = null;
      let quietSince = null;
      const startedAt = performance.now();
      const stop = every(async () => {
        if (!active || gen !== loopGen) {
          stop();
          if (rec) rec.abort();
          else mic && mic.stop();
          resolve(null);
          return;
        }
        const now = performance.now();
        const lvl = mic.level();
        showLevel(lvl);
        if (lvl > THRESHOLD) {
          quietSince = null;
          if (!speech && (loudSince ??= now) && now - loudSince >= SPEECH_MS) speech = true;
        } else {
          loudSince = null;
          if (speech) quietSince ??= now;
        }
        const ended = speech && quietSince !== null && now - quietSince >= silenceMs;
        if (!ended && !(speech && now - startedAt > MAX_TURN_MS)) return;
        stop();
        setState("thinking");
        try {
          if (rec) resolve(await rec.stop());
          else {
            const wav = mic.stop();
            resolve(wav ? await transcribe(wav) : "");
          }
        } catch (err) {
          errorLine.textContent = t("voice.sttFailed", { message: (err && err.message) || String(err) });
          resolve("");
        }
      });
    });
  }

  /** While the reply plays, speech from the user stops it. Only once it is heard (the
   * state "speaking", from its first sentence on): while it is still being thought or
   * synthesised - seconds on a slow machine - talking would drop it unheard. */
  function watchBargeIn(onBarge) {
    let loudSince = null;
    return every(() => {
      if (state !== "speaking" || !speaker.speaking() || !mic) {
        loudSince = null;
        return;
      }
      const now = performance.now();
      const lvl = mic.level();
      showLevel(lvl);
      if (lvl <= THRESHOLD * BARGE_FACTOR) loudSince = null;
      else if ((loudSince ??= now) && now - loudSince >= BARGE_MS) {
        loudSince = null;
        onBarge();
        speaker.stop();
      }
    });
  }

  async function loop(gen) {
    let bargedIn = false;
    while (active && gen === loopGen) {
      setState("listening");
      const text = await listen(gen, bargedIn);
      bargedIn = false;
      if (!active || gen !== loopGen) return;
      if (!text || !text.trim()) continue;
      heard.textContent = t("voice.mode.you", { text });
      said.textContent = "";
      errorLine.textContent = "";
      setState("thinking");
      const unwatch = watchBargeIn(() => (bargedIn = true));
      let res = await sendText(text.trim());
      while (res && !res.ok && res.error && res.error.type === "Busy" && active && gen === loopGen) {
        await sleep(300); // a reply typed in the chat is still streaming
        res = await sendText(text.trim());
      }
      if (!active || gen !== loopGen) return unwatch();
      if (!res || !res.ok) {
        unwatch();
        errorLine.textContent = t("voice.mode.error", { message: (res && res.error && res.error.message) || "?" });
        await sleep(1500);
        continue;
      }
      said.textContent = res.reply || "";
      const result = await speakingDone();
      unwatch();
      if (result && result.outcome === "failed") {
        errorLine.textContent = t("voice.failed", { message: (result.error && result.error.message) || "?" });
      }
    }
  }

  function onKey(ev) {
    if (ev.key === "Escape" && active) {
      ev.preventDefault();
      exit();
    }
  }

  async function enter() {
    if (active) return;
    active = true;
    const gen = ++loopGen;
    applyStatic(overlay);
    heard.textContent = said.textContent = errorLine.textContent = "";
    overlay.hidden = false;
    document.addEventListener("keydown", onKey, true);
    setForce(true);
    setState("idle");
    exitBtn.focus();
    cfg = await getConfig(true);
    const mode = sttMode(cfg);
    if (mode === "off" || mode === "unset") {
      setState("error");
      errorLine.textContent = t("voice.micOff");
      return;
    }
    try {
      mic = await openMic();
    } catch (err) {
      setState("error"); // never "getting ready" beside an error
      errorLine.textContent = micError(err);
      return;
    }
    if (!active || gen !== loopGen) {
      mic.close();
      mic = null;
      return;
    }
    loop(gen);
  }

  function exit() {
    if (!active) return;
    active = false;
    loopGen += 1;
    for (const id of timers) clearInterval(id);
    timers.clear();
    speaker.stop();
    if (mic) mic.close();
    mic = null;
    overlay.hidden = true;
    document.removeEventListener("keydown", onKey, true);
    setForce(false);
    setState("idle");
  }

  subscribe("voice.sentence", () => {
    if (active && state !== "speaking") setState("speaking");
  });

  return { enter, exit, active: () => active, overlay };
}
