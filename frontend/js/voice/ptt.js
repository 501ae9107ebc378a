// Push-to-talk: the first click starts listening, the second stops and hands the
// text to onText (the chat puts it in the input box; nothing is sent). Esc cancels.
// Usable by any page: attachPushToTalk(button, { onText }).

import { t, onLangChange } from "../i18n.js";
import { toast } from "../ui.js";
import { getConfig } from "./config.js";
import { micReason, openMic, sttMode, transcribe, watchMic, webSpeech } from "./mic.js";
import "./strings.js";

/** A mic error in words of the page's language (never a raw code). */
export function micError(err) {
  const reason = micReason(err);
  if (reason) return t(`voice.micProblem.${reason}`);
  return t("voice.micDenied", { message: (err && err.message) || String(err) });
}

export function attachPushToTalk(button, { onText, onState } = {}) {
  let session = null; // {kind, mic|rec}
  let busy = false;
  let problem = null; // why no microphone can be used: the button says so up front

  let shown = "idle";
  const setState = (state) => {
    shown = state;
    button.classList.toggle("recording", state === "recording");
    button.classList.toggle("working", state === "working");
    button.setAttribute("aria-pressed", state === "recording" ? "true" : "false");
    button.title = problem && state === "idle"
      ? t(`voice.micProblem.${problem}`)
      : t(state === "recording" ? "voice.micStop" : state === "working" ? "voice.transcribing" : "voice.mic");
    button.setAttribute("aria-label", button.title);
    if (onState) onState(state);
  };
  watchMic((found) => {
    problem = found;
    button.disabled = Boolean(found);
    button.dataset.problem = found || "";
    if (!session && !busy) setState("idle");
  });

  onLangChange(() => {
    if (!session && !busy) setState("idle");
  });

  const failed = (err) => {  // the microphone went away or was refused while listening
    if (!session) return;
    session = null;
    document.removeEventListener("keydown", onKey, true);
    setState("idle");
    toast(micError(err));
  };

  async function start() {
    const cfg = await getConfig(true);
    const mode = sttMode(cfg);
    if (mode === "off" || mode === "unset") {
      toast(t("voice.micOff"));
      return;
    }
    try {
      if (mode === "browser") {
        const rec = webSpeech({ onError: failed });
        rec.start();
        session = { kind: "browser", rec };
      } else {
        const mic = await openMic();
        mic.start();
        session = { kind: "server", mic };
      }
    } catch (err) {
      toast(micError(err));
      return;
    }
    document.addEventListener("keydown", onKey, true);
    setState("recording");
  }

  async function finish(cancel) {
    const s = session;
    session = null;
    document.removeEventListener("keydown", onKey, true);
    if (!s) return;
    if (cancel) {
      if (s.kind === "browser") s.rec.abort();
      else s.mic.close();
      setState("idle");
      return;
    }
    setState("working");
    busy = true;
    try {
      let text = "";
      if (s.kind === "browser") text = await s.rec.stop();
      else {
        const wav = s.mic.stop();
        s.mic.close();
        text = wav ? await transcribe(wav) : "";
      }
      if (text.trim()) onText(text.trim());
      else toast(t("voice.heardNothing"));
    } catch (err) {
      toast(t("voice.sttFailed", { message: (err && err.message) || String(err) }));
    } finally {
      busy = false;
      setState("idle");
    }
  }

  function onKey(ev) {
    if (ev.key === "Escape" && session) {
      ev.preventDefault();
      finish(true);
    }
  }

  button.addEventListener("click", () => {
    if (busy) return;
    if (session) finish(false);
    else start();
  });
  setState("idle");
  onLangChange(() => setState(shown)); // the title is the button's only words
  return {
    cancel: () => finish(true),
    active: () => Boolean(session),
  };
}
