// Settings → Voice extras: the two service tests (the reference clip is a file
// picker among the voice settings: settings_pickers.js).

import { call } from "../transport.js";
import { t } from "../i18n.js";
import { el, errorTitle } from "../ui.js";
import "./strings.js";

/** The panel appended under the voice settings: the two service tests (the
 * reference clip is chosen in its own row, settings_pickers.js). */
export function voiceSettingsBox() {
  const out = el("div.test-result#voice-test-result", { role: "status" });
  const player = el("audio#voice-test-audio", { controls: true, hidden: true });

  const test = (kind) => async () => {
    out.className = "test-result";
    out.textContent = t("test.running");
    player.hidden = true;
    const res = await call("voice_test", { kind });
    const ok = res.ok !== false;
    out.className = `test-result ${ok ? "ok" : "bad"}`;
    out.textContent = res.message || (res.error && `${errorTitle(res.error)}: ${res.error.message || ""}`) || "";
    if (ok && res.audio_b64) {
      player.src = `data:${res.mime};base64,${res.audio_b64}`;
      player.hidden = false;
      player.play().catch(() => {});
    }
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
