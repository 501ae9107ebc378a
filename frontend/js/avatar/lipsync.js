// The mouth value (0..1) the avatar shows each frame: from the audio that voice plays
// (WebAudio analyser, RMS), else from the streamed reply text (a syllable per
// character), else the value set with setMouth(). Contract: docs/avatar-voice.md.

const sources = new WeakMap(); // HTMLAudioElement -> MediaElementAudioSourceNode (one each, ever)
const PAUSE = /[\s，。！？、；：,.!?;:…—~～"'“”‘’()（）[\]【】]/;

export function createLipSync() {
  let ctx = null;
  let analyser = null;
  let buf = null;
  let audio = null; // the element playing now
  let manual = 0;
  let level = 0; // smoothed output
  // text mode
  let text = "";
  let pos = 0; // characters spoken so far (float)
  let last = 0;
  let lastTick = 0;

  function ensureGraph() {
    if (ctx) return true;
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return false;
    ctx = new AC();
    analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    analyser.connect(ctx.destination);
    buf = new Float32Array(analyser.fftSize);
    return true;
  }

  /** Follow an <audio> element (voice.sentence). Sound still plays: source -> analyser -> speakers. */
  function follow(el) {
    if (!el || !ensureGraph()) return;
    try {
      if (!sources.has(el)) {
        const src = ctx.createMediaElementSource(el);
        src.connect(analyser);
        sources.set(el, src);
      }
    } catch (err) {
      console.warn("avatar: cannot analyse this audio", err);
      return;
    }
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    audio = el;
    text = "";
    pos = 0;
  }

  function stopAudio() {
    audio = null;
  }

  function audioLevel() {
    if (!audio || audio.paused || audio.ended) return null;
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (let i = 0; i < buf.length; i += 1) sum += buf[i] * buf[i];
    return Math.min(1, Math.sqrt(sum / buf.length) * 4);
  }

  /** Streamed reply text (chat.delta); the mouth follows it at a speaking pace. */
  function feed(chunk) {
    if (!text) last = performance.now();
    text += chunk;
  }

  function resetText() {
    text = "";
    pos = 0;
  }

  function textLevel(now) {
    if (!text || pos >= text.length) return null;
    const dt = Math.min(0.1, (now - last) / 1000);
    const backlog = text.length - pos;
    const rate = Math.max(9, backlog / 2); // chars per second; catches up with fast streams
    const from = Math.floor(pos);
    pos = Math.min(text.length, pos + rate * dt);
    // Every pause closes the mouth, also one passed over between two slow frames.
    if (PAUSE.test(text.slice(from, Math.floor(pos) + 1))) return 0;
    const phase = pos % 1; // one open-close per character
    return 0.15 + 0.75 * Math.sin(Math.PI * phase);
  }

  /** The value for this frame (call once per frame). */
  function tick(now = performance.now()) {
    let target = audioLevel();
    if (target === null) target = textLevel(now);
    if (target === null) target = manual;
    // Time-based smoothing (same feel at 15 or 60 frames a second): opens fast, closes a bit slower.
    const dt = Math.max(0, Math.min(0.25, (now - (lastTick || now)) / 1000));
    lastTick = now;
    last = now;
    level += (target - level) * (1 - Math.exp(-dt / (target > level ? 0.03 : 0.05)));
    if (level < 0.002) level = 0;
    return level;
  }

  return {
    follow,
    stopAudio,
    feed,
    resetText,
    tick,
    setManual(v) {
      const n = Number(v);
      manual = Number.isFinite(n) ? Math.max(0, Math.min(1, n)) : 0;
    },
    get value() {
      return level;
    },
    /** Characters of the streamed text the mouth has reached. */
    get spoken() {
      return Math.floor(pos);
    },
    get speaking() {
      return Boolean((audio && !audio.paused && !audio.ended) || (text && pos < text.length));
    },
  };
}
