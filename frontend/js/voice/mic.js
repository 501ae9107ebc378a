// The microphone: getUserMedia into WebAudio. It measures the level (RMS, for
// end-of-speech and barge-in) and records 16 kHz mono 16-bit WAV, which every
// whisper server reads; the last second is kept so a recording can start a little
// before speech was detected. Also: the Web Speech API, where the page has it.

import { call } from "../transport.js";
import { getLang } from "../i18n.js";

const RATE = 16000;
const PREROLL_S = 1.0;

export function webSpeechAvailable() {
  return Boolean(window.SpeechRecognition || window.webkitSpeechRecognition);
}

/** Which recogniser the settings and the page allow: "browser", "server", "off" or "unset". */
export function sttMode(cfg) {
  if (!cfg || cfg.stt_provider === "off") return "off";
  if (cfg.stt_provider === "browser" && webSpeechAvailable()) return "browser";
  if (cfg.stt_provider === "openai" || cfg.stt_server) return "server";
  return "unset";
}

function encodeWav(chunks, inRate) {
  let length = 0;
  for (const c of chunks) length += c.length;
  const ratio = inRate / RATE;
  const outLen = Math.floor(length / ratio);
  const data = new DataView(new ArrayBuffer(44 + outLen * 2));
  const text = (at, s) => [...s].forEach((ch, i) => data.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  data.setUint32(4, 36 + outLen * 2, true);
  text(8, "WAVEfmt ");
  data.setUint32(16, 16, true);
  data.setUint16(20, 1, true);
  data.setUint16(22, 1, true);
  data.setUint32(24, RATE, true);
  data.setUint32(28, RATE * 2, true);
  data.setUint16(32, 2, true);
  data.setUint16(34, 16, true);
  text(36, "data");
  data.setUint32(40, outLen * 2, true);
  const flat = new Float32Array(length);
  let at = 0;
  for (const c of chunks) {
    flat.set(c, at);
    at += c.length;
  }
  for (let i = 0; i < outLen; i++) {
    // Average the input samples that fall into this output sample (a simple low-pass).
    const from = Math.floor(i * ratio);
    const to = Math.max(from + 1, Math.floor((i + 1) * ratio));
    let sum = 0;
    for (let j = from; j < to; j++) sum += flat[j] || 0;
    const v = Math.max(-1, Math.min(1, sum / (to - from)));
    data.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
  }
  return new Blob([data.buffer], { type: "audio/wav" });
}

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** Send a recording to Python (voice_transcribe); resolves the text or throws {type, message}. */
export async function transcribe(blob) {
  const res = await call("voice_transcribe", {
    audio_b64: await blobToBase64(blob),
    mime: blob.type,
    language: getLang(),
  });
  if (!res.ok) throw res.error;
  return res.text || "";
}

/** Why no microphone can be used here ("unsupported", "none"), or null when one can. */
export async function micProblem() {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return "unsupported";
  try {
    const devices = md.enumerateDevices ? await md.enumerateDevices() : null;
    if (devices && !devices.some((d) => d.kind === "audioinput")) return "none";
  } catch {
    /* cannot tell: let opening it say */
  }
  return null;
}

/** Call fn(problem) now and whenever a device comes or goes. */
export function watchMic(fn) {
  const check = () => micProblem().then(fn);
  check();
  const md = navigator.mediaDevices;
  if (md && md.addEventListener) md.addEventListener("devicechange", check);
}

// getUserMedia's error names and the Web Speech API's error codes -> one reason.
const REASONS = {
  NotAllowedError: "denied", SecurityError: "denied", "not-allowed": "denied",
  "service-not-allowed": "denied", NotFoundError: "none", OverconstrainedError: "none",
  "audio-capture": "none", NotReadableError: "busy", NotSupportedError: "unsupported",
  network: "network",
};

/** The reason key ("denied", "none", "busy", "unsupported", "network") of a mic error, or null. */
export function micReason(err) {
  const code = err && (err.type === "SpeechRecognition" ? err.message : err.name);
  return REASONS[code] || null;
}

/** Open the microphone. Throws the getUserMedia error (NotAllowedError, NotFoundError...). */
export async function openMic() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw { name: "NotSupportedError", message: "this window has no microphone access (getUserMedia)" };
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  const Ctx = window.AudioContext || window.webkitAudioContext;
  const ctx = new Ctx();
  if (ctx.state === "suspended") await ctx.resume().catch(() => {});
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  source.connect(analyser);
  source.connect(proc);
  proc.connect(mute);
  mute.connect(ctx.destination);
  const buf = new Float32Array(analyser.fftSize);
  let preroll = [];
  let recording = null;
  proc.onaudioprocess = (ev) => {
    const chunk = new Float32Array(ev.inputBuffer.getChannelData(0));
    if (recording) recording.push(chunk);
    preroll.push(chunk);
    const keep = Math.ceil((PREROLL_S * ctx.sampleRate) / chunk.length);
    if (preroll.length > keep) preroll = preroll.slice(-keep);
  };
  return {
    level() {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      return Math.sqrt(sum / buf.length);
    },
    /** Start recording; with `withPreroll`, include the last second before now. */
    start(withPreroll = false) {
      recording = withPreroll ? [...preroll] : [];
    },
    recording: () => recording !== null,
    /** Stop; the WAV recorded (null when nothing was). */
    stop() {
      const chunks = recording;
      recording = null;
      return chunks && chunks.length ? encodeWav(chunks, ctx.sampleRate) : null;
    },
    close() {
      recording = null;
      proc.onaudioprocess = null;
      for (const track of stream.getTracks()) track.stop();
      ctx.close().catch(() => {});
    },
  };
}

/** The Web Speech API: start(), then stop() resolves the text heard. */
export function webSpeech({ onText, onError } = {}) {
  const Rec = window.SpeechRecognition || window.webkitSpeechRecognition;
  const rec = new Rec();
  rec.lang = getLang() === "en" ? "en-US" : "zh-CN";
  rec.interimResults = true;
  rec.continuous = true;
  let finals = "";
  let interim = "";
  let error = null;
  let ended = null;
  const endPromise = new Promise((resolve) => (ended = resolve));
  rec.onresult = (ev) => {
    interim = "";
    for (let i = ev.resultIndex; i < ev.results.length; i++) {
      const r = ev.results[i];
      if (r.isFinal) finals += r[0].transcript;
      else interim += r[0].transcript;
    }
    if (onText) onText(finals + interim);
  };
  rec.onerror = (ev) => {
    error = { type: "SpeechRecognition", message: ev.error || "error" };
    // A refused or missing microphone ends listening now, not at the next click.
    if (onError && micReason(error)) onError(error);
  };
  rec.onend = () => ended();
  return {
    start: () => rec.start(),
    async stop() {
      try {
        rec.stop();
      } catch {
        /* already stopped */
      }
      await endPromise;
      const text = (finals + interim).trim();
      if (!text && error && error.message !== "no-speech") throw error;
      return text;
    },
    abort: () => {
      try {
        rec.abort();
      } catch {
        /* already stopped */
      }
    },
  };
}
