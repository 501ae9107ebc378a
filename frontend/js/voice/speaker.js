// Speaking: sentences are synthesised in order (one at a time, the next while the
// previous plays) and played in order through one reused HTMLAudioElement.
// Right before each sentence plays, bus "voice.sentence" {text, audio}; when a track
// ends or is stopped, "voice.idle" (docs/avatar-voice.md).

import { call } from "../transport.js";
import { publish } from "../bus.js";

// A 0.05 s silent WAV: played once inside a user gesture so later plays are allowed.
const SILENT =
  "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

function b64ToBlob(b64, mime) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: mime || "audio/wav" });
}

class VoiceError extends Error {
  constructor(error) {
    super((error && error.message) || String(error));
    this.type = (error && error.type) || "Error";
  }
}

async function synthesize(text) {
  const res = await call("voice_speak", { text });
  if (!res.ok) throw new VoiceError(res.error);
  return b64ToBlob(res.audio_b64, res.mime);
}

/** One reply's sentences and their audio (kept for replay during the session). */
export class Track {
  constructor() {
    this.items = []; // {text, blob: Promise<Blob>, url}
    this.closed = false;
    this.chain = Promise.resolve();
    this.wake = null;
  }

  add(text) {
    const item = { text, url: null };
    item.blob = this.chain.then(() => synthesize(text));
    item.blob.catch(() => {});
    this.chain = item.blob.catch(() => {});
    this.items.push(item);
    this.notify();
  }

  close() {
    this.closed = true;
    this.notify();
  }

  notify() {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
  }

  changed() {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The same sentences again: audio that was made is reused, failures are redone. */
  replay() {
    const copy = new Track();
    for (const item of this.items) {
      const again = { text: item.text, url: item.url };
      again.blob = item.blob.catch(() => {
        const redo = copy.chain.then(() => synthesize(item.text));
        copy.chain = redo.catch(() => {});
        return redo;
      });
      again.blob.catch(() => {});
      copy.items.push(again);
    }
    copy.closed = this.closed;
    return copy;
  }
}

export function createSpeaker() {
  const audio = new Audio();
  audio.preload = "auto";
  audio.dataset.dlVoice = "1";
  let generation = 0;
  let current = null; // {track, finish}
  let unlocked = false;

  // Autoplay: an element played once inside a user gesture may play later on its own.
  const unlock = () => {
    if (unlocked || current) return;
    unlocked = true;
    audio.src = SILENT;
    audio.play().then(
      () => current || audio.pause(),
      () => (unlocked = false),
    );
  };
  for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, unlock, true);

  function playOne(item, gen) {
    return new Promise((resolve, reject) => {
      const done = (outcome) => {
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("pause", onPause);
        audio.removeEventListener("error", onError);
        resolve(outcome);
      };
      const onEnded = () => done("ended");
      const onPause = () => done(gen === generation ? "ended" : "stopped");
      const onError = () => {
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("pause", onPause);
        audio.removeEventListener("error", onError);
        reject(new VoiceError({ type: "BadAudio", message: "the audio could not be played" }));
      };
      audio.addEventListener("ended", onEnded);
      audio.addEventListener("pause", onPause);
      audio.addEventListener("error", onError);
      audio.src = item.url;
      publish("voice.sentence", { text: item.text, audio });
      audio.play().catch((err) => {
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("pause", onPause);
        audio.removeEventListener("error", onError);
        if (gen !== generation) resolve("stopped");
        else if (err && err.name === "NotAllowedError") reject(new VoiceError({ type: "Blocked", message: "blocked" }));
        else reject(new VoiceError({ type: "BadAudio", message: (err && err.message) || "cannot play" }));
      });
    });
  }

  async function run(track, gen, stopped) {
    for (let i = 0; ; i++) {
      while (i >= track.items.length && !track.closed) await track.changed();
      if (gen !== generation) return { outcome: "stopped" };
      if (i >= track.items.length) return { outcome: "ended" };
      const item = track.items[i];
      let blob;
      try {
        // Stopped while the sentence is still being synthesised: say so now, not when
        // the synthesis answers (seconds, on a slow TTS) - the voice mode listens again
        // only then, and the words that stopped it would be gone from the microphone.
        blob = await Promise.race([item.blob, stopped]);
      } catch (error) {
        return { outcome: "failed", error, index: i };
      }
      if (gen !== generation) return { outcome: "stopped" };
      if (!item.url) item.url = URL.createObjectURL(blob);
      let outcome;
      try {
        outcome = await playOne(item, gen);
      } catch (error) {
        return { outcome: "failed", error, index: i };
      }
      if (outcome === "stopped") return { outcome };
    }
  }

  /** Play a track (stopping anything playing). Resolves {outcome: ended|stopped|failed, error}. */
  function play(track) {
    stop();
    const gen = generation;
    let cancel;
    const stopped = new Promise((resolve) => (cancel = resolve));
    const finished = run(track, gen, stopped).then((result) => {
      if (gen === generation) {
        current = null;
        publish("voice.idle", {});
      }
      return result;
    });
    current = { track, finished, cancel };
    return finished;
  }

  function stop() {
    generation += 1;
    const was = current;
    current = null;
    if (was) {
      was.cancel();
      was.track.notify();
      if (!audio.paused) audio.pause();
      publish("voice.idle", {});
    }
  }

  return {
    audio,
    play,
    stop,
    speaking: () => Boolean(current),
    currentTrack: () => (current ? current.track : null),
    finished: () => (current ? current.finished : Promise.resolve({ outcome: "ended" })),
  };
}
