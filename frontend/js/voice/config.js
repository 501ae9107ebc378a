// The voice settings in force (voice_config), fetched on demand and when the page
// comes back into view; "voice.enabled" is published whenever tts_enabled changes.

import { call } from "../transport.js";
import { publish } from "../bus.js";

let cached = null;
let pending = null;
let lastEnabled = null;
const listeners = new Set();

let forced = false; // the voice conversation speaks even when tts_enabled is off

function publishEnabled() {
  const enabled = forced || Boolean(cached && cached.tts_enabled);
  if (enabled !== lastEnabled || !forced) publish("voice.enabled", { enabled });
  lastEnabled = enabled;
}

/** While the voice conversation runs, replies are spoken whatever the setting says. */
export function setForced(value) {
  forced = Boolean(value);
  publishEnabled();
}

/** The current voice config ({tts_enabled, stt_provider, silence_ms, ...}); null if unreadable. */
export function getConfig(refresh = false) {
  if (cached && !refresh) return Promise.resolve(cached);
  if (!pending) {
    pending = call("voice_config").then((res) => {
      pending = null;
      if (!res.ok) return cached;
      cached = res;
      // Every fresh read, so listeners that came late learn it by the next reply.
      publishEnabled();
      for (const fn of [...listeners]) fn(res);
      return res;
    });
  }
  return pending;
}

export function cachedConfig() {
  return cached;
}

export function onConfig(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) getConfig(true);
});
window.addEventListener("focus", () => getConfig(true));
