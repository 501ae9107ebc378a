// In-page event bus between features that must not import each other
// (voice publishes what it plays, the avatar follows). Contract: docs/avatar-voice.md.

const listeners = new Map();

/** Subscribe to a bus event; returns a function that unsubscribes. */
export function subscribe(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name)?.delete(fn);
}

/** Publish a bus event; a failing listener never stops the others. */
export function publish(name, detail = {}) {
  for (const fn of [...(listeners.get(name) || [])]) {
    try {
      fn(detail);
    } catch (err) {
      console.error(`bus listener for ${name} failed`, err);
    }
  }
}
