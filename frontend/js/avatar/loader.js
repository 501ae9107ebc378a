// Loads the vendored Live2D runtime and pixi as classic <script>s, once, on demand
// (the chat page does not pay for them while the avatar is off or the window narrow).
// Order matters: the two Live2D runtimes, then pixi, then pixi-live2d-display.

const SCRIPTS = [
  "vendor/live2d.min.js", // Cubism 2.1 runtime (Live2D Proprietary Software License)
  "vendor/live2dcubismcore.min.js", // Cubism Core 4.2.2 (Live2D Proprietary Software License)
  "vendor/pixi6.min.js", // pixi.js 6.5.10 (MIT)
  "vendor/pixi-live2d-display-0.4.0.min.js", // pixi-live2d-display 0.4.0 (MIT)
];

let loading = null;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const node = document.createElement("script");
    node.src = src;
    node.async = false;
    node.dataset.avatarRuntime = "1";
    node.onload = () => resolve();
    node.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(node);
  });
}

/** Resolves when window.PIXI.live2d is ready; rejects with the reason. */
export function loadLive2D() {
  if (!loading) {
    loading = (async () => {
      for (const src of SCRIPTS) await addScript(src);
      if (!window.PIXI || !window.PIXI.live2d) throw new Error("the Live2D runtime did not start");
      return window.PIXI;
    })();
    loading.catch(() => {
      loading = null; // a later attempt may succeed
    });
  }
  return loading;
}

/** Whether this browser gives a WebGL context (the reason string when not). */
export function webglProblem() {
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl") || canvas.getContext("experimental-webgl");
    if (!gl) return "webgl";
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    return "";
  } catch {
    return "webgl";
  }
}
