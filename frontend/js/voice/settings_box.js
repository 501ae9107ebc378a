// Settings → Voice extras: the two service tests (the reference clip is a file
// picker among the voice settings: settings_pickers.js). Recognition is tested as the
// form chooses it: the browser's own recognizer in the page (it needs no address), a
// transcription service by voice_test.

import { call, mode } from "../transport.js";
import { t } from "../i18n.js";
import { liveBox } from "../live_box.js";
import { el, errorLine } from "../ui.js";
import { getConfig } from "./config.js";
import { webSpeechAvailable } from "./mic.js";
import "./strings.js";

/** What the form says now (`inputs`: settings.js's path -> row), else what is saved. */
async function sttChoice(inputs) {
  const provider = inputs && inputs.get("voice.stt_provider");
  const url = inputs && inputs.get("voice.stt_url");
  if (provider && url) return { provider: provider.input.value, url: Boolean(url.input.value.trim()) };
  const cfg = (await getConfig(true)) || {};
  return { provider: cfg.stt_provider, url: Boolean(cfg.stt_server) };
}

/** Recognition as chosen: `{result: [class, text]}` when the page can say it all (off;
 *  the browser's own recognizer: whether the page has the Web Speech API, which is all
 *  a test can see of it, or else what stands in for it), else `{before}` (text put
 *  before the transcription service's answer; voice_test asks that service). */
function sttCheck({ provider, url }) {
  const where = t(mode === "http" ? "voice.test.where.browser" : "voice.test.where.window");
  if (provider === "off") return { result: ["note", t("voice.test.sttOff")] };
  if (provider !== "browser") return {};
  if (webSpeechAvailable()) return { result: ["ok", t("voice.test.browserStt", { where })] };
  if (!url) return { result: ["bad", t("voice.test.noBrowserStt", { where })] };
  return { before: t("voice.test.browserFallback", { where }) };
}

/** Show the test's `state` in the box's parts; `fresh`: its audio is played (not when
 * shown again in a new box). */
function paint({ out, player }, state, fresh) {
  out.className = state.className;
  out.textContent = state.text;
  player.hidden = !state.audio;
  if (state.audio) {
    if (player.src !== state.audio) player.src = state.audio;
    if (fresh) player.play().catch(() => {});
  }
}

// What the box says, and a test's answer when it comes, go to the box drawn last: the
// form is drawn anew often, each time with a new box (live_box.js).
const box = liveBox(paint);

/** The panel appended under the voice settings: the two service tests (the
 * reference clip is chosen in its own row, settings_pickers.js). */
export function voiceSettingsBox(inputs) {
  const out = el("div.test-result#voice-test-result", { role: "status" });
  const player = el("audio#voice-test-audio", { controls: true, hidden: true });
  box.attach({ out, player }); // what was said shows again, unless in another language

  const test = (kind) => async () => {
    const current = box.ask();
    box.say({ className: "test-result", text: t("test.running") });
    const check = kind === "stt" ? sttCheck(await sttChoice(inputs)) : {};
    if (!current()) return;
    if (check.result) { // the page can tell it all
      const [result, text] = check.result;
      return box.say({ className: `test-result ${result}`, text });
    }
    const res = await call("voice_test", { kind });
    if (!current()) return;
    const ok = res.ok !== false;
    box.say({
      className: `test-result ${ok ? "ok" : "bad"}`,
      text: (check.before || "") + (res.message || (res.error && errorLine(res.error)) || ""),
      audio: ok && res.audio_b64 ? `data:${res.mime};base64,${res.audio_b64}` : null,
    }, true);
  };

  return el(
    "div.index-box.voice-box#voice-settings-box",
    {},
    el("h3.subsection-title", { text: t("voice.settings.title") }),
    el("div.index-row", {},
      el("button.btn#voice-test-tts", { type: "button", text: t("voice.settings.testTts"), on: { click: test("tts") } }),
      el("button.btn#voice-test-stt", { type: "button", text: t("voice.settings.testStt"), on: { click: test("stt") } })),
    out,
    player,
  );
}
