// Settings → Voice extras: the reference clip (uploaded to the data dir through
// the bridge, never into settings) and the two service tests.

import { call } from "../transport.js";
import { t } from "../i18n.js";
import { el, errorTitle, toast } from "../ui.js";
import { getConfig } from "./config.js";
import "./strings.js";

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function describe(ref) {
  if (!ref) return t("voice.settings.none");
  const seconds = ref.seconds ? `${ref.seconds.toFixed(1)} s` : `${Math.round(ref.bytes / 1024)} KB`;
  return t("voice.settings.current", { name: ref.name, seconds });
}

/** The panel appended under the voice settings; onUploaded() lets the form reload. */
export function voiceSettingsBox({ onUploaded } = {}) {
  const status = el("span.voice-ref-status#voice-ref-status", { text: t("common.loading") });
  const picker = el("input#voice-ref-file", { type: "file", accept: "audio/*,.wav,.mp3,.flac,.ogg", hidden: true });
  const uploadBtn = el("button.btn#voice-ref-upload", { type: "button", text: t("voice.settings.upload"), on: { click: () => picker.click() } });
  const out = el("div.test-result#voice-test-result", { role: "status" });
  const player = el("audio#voice-test-audio", { controls: true, hidden: true });

  picker.addEventListener("change", async () => {
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (!file) return;
    const res = await call("voice_reference_upload", { name: file.name, data_base64: await fileToBase64(file) });
    if (!res.ok) {
      out.className = "test-result bad";
      out.textContent = `${errorTitle(res.error)}: ${res.error.message || ""}`;
      return;
    }
    status.textContent = describe(res.reference);
    toast(t("voice.settings.uploaded"));
    out.className = "test-result";
    out.textContent = t("voice.settings.textHint");
    if (onUploaded) onUploaded(res.reference);
  });

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

  getConfig(true).then((cfg) => (status.textContent = describe(cfg && cfg.reference)));
  return el(
    "div.index-box.voice-box#voice-settings-box",
    {},
    el("h3.subsection-title", { text: t("voice.settings.title") }),
    el("div.index-row", {}, status, uploadBtn, picker),
    el("div.index-row", {},
      el("button.btn#voice-test-tts", { type: "button", text: t("voice.settings.testTts"), on: { click: test("tts") } }),
      el("button.btn#voice-test-stt", { type: "button", text: t("voice.settings.testStt"), on: { click: test("stt") } })),
    out,
    player,
  );
}
