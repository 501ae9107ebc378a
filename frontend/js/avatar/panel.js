// The avatar's own panel (the gear in the avatar area): model, import a model folder,
// scale, position reset, background picture and where it goes, About.

import { call } from "../transport.js";
import { t, onLangChange } from "../i18n.js";
import { el, clear, toast, errorTitle } from "../ui.js";

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error || new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

const GEAR =
  "M19.4 13a7.5 7.5 0 0 0 0-2l2-1.6-2-3.4-2.4 1a7.4 7.4 0 0 0-1.7-1L15 3.5h-4l-.4 2.5a7.4 7.4 0 0 0-1.7 1l-2.4-1-2 3.4 2 1.6a7.5 7.5 0 0 0 0 2l-2 1.6 2 3.4 2.4-1a7.4 7.4 0 0 0 1.7 1l.4 2.5h4l.4-2.5a7.4 7.4 0 0 0 1.7-1l2.4 1 2-3.4zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z";

function gearIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 26 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", GEAR);
  svg.append(path);
  return svg;
}

export function createPanel(area, ctx) {
  let limits = { files: 1000, file_bytes: 30e6, total_bytes: 45e6, background_bytes: 15e6 };
  const gear = el("button.avatar-gear#avatar-gear", { type: "button", "aria-expanded": "false" }, gearIcon());
  const box = el("div.avatar-panel#avatar-panel", { role: "dialog", hidden: true });
  area.append(gear, box);

  const modelSelect = el("select#avatar-model-select");
  const importInput = el("input#avatar-import-input", { type: "file", hidden: true, multiple: true });
  importInput.setAttribute("webkitdirectory", "");
  const importBtn = el("button.btn.small#avatar-import", { type: "button" });
  const removeBtn = el("button.btn.small.ghost#avatar-remove", { type: "button" });
  const scale = el("input#avatar-scale", { type: "range", min: "0.2", max: "4", step: "0.05" });
  const scaleOut = el("output.avatar-scale-value#avatar-scale-value");
  const resetBtn = el("button.btn.small.ghost#avatar-reset", { type: "button" });
  const bgInput = el("input#avatar-bg-input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", hidden: true });
  const bgBtn = el("button.btn.small#avatar-bg-choose", { type: "button" });
  const bgClear = el("button.btn.small.ghost#avatar-bg-clear", { type: "button" });
  const bgArea = el("select#avatar-bg-area");
  const showBox = el("input#avatar-enabled", { type: "checkbox" });
  const aboutBtn = el("button.linklike#avatar-about-open", { type: "button" });
  const status = el("div.avatar-panel-status#avatar-panel-status", { role: "status" });

  function setStatus(text, bad = false) {
    status.textContent = text || "";
    status.classList.toggle("bad", Boolean(bad));
  }

  function render() {
    const s = ctx.getSettings();
    const models = ctx.getModels();
    gear.title = t("avatar.panel");
    gear.setAttribute("aria-label", t("avatar.panel"));
    clear(modelSelect);
    const groups = [["bundled", t("avatar.models.bundled")], ["user", t("avatar.models.user")]];
    for (const [kind, label] of groups) {
      const list = models.filter((m) => m.kind === kind);
      if (!list.length) continue;
      const group = el("optgroup", { label });
      for (const m of list) {
        const name = m.id === "svg" ? t("avatar.model.svg") : m.cubism ? `${m.name} (Cubism ${m.cubism})` : m.name;
        group.append(el("option", { value: m.id, text: name }));
      }
      modelSelect.append(group);
    }
    modelSelect.value = s.model;
    const current = models.find((m) => m.id === s.model);
    removeBtn.hidden = !current || current.kind !== "user";
    importBtn.textContent = t("avatar.import");
    removeBtn.textContent = t("avatar.remove");
    scale.value = String(s.scale);
    scaleOut.textContent = `${Math.round(s.scale * 100)}%`;
    resetBtn.textContent = t("avatar.resetPlace");
    bgBtn.textContent = t("avatar.bg.choose");
    bgClear.textContent = t("avatar.bg.clear");
    bgClear.hidden = !s.background;
    clear(bgArea);
    for (const v of ["avatar", "window"]) bgArea.append(el("option", { value: v, text: t(`avatar.bg.area.${v}`) }));
    bgArea.value = s.background_area;
    showBox.checked = Boolean(s.enabled);
    aboutBtn.textContent = t("avatar.aboutLicences");
    clear(box);
    box.setAttribute("aria-label", t("avatar.panel"));
    box.append(
      el("h3.avatar-panel-title", { text: t("avatar.panel") }),
      el("label.avatar-row", { for: "avatar-model-select" }, el("span", { text: t("avatar.model") }), modelSelect),
      el("div.avatar-row.buttons", {}, importBtn, removeBtn, importInput),
      el("div.avatar-help", { text: t("avatar.importHelp") }),
      el("label.avatar-row", { for: "avatar-scale" }, el("span", { text: t("avatar.scale") }), scale, scaleOut),
      el("div.avatar-row.buttons", {}, resetBtn),
      el("div.avatar-help", { text: t("avatar.dragHelp") }),
      el("div.avatar-row.buttons", {}, el("span", { text: t("avatar.bg") }), bgBtn, bgClear, bgInput),
      el("label.avatar-row", { for: "avatar-bg-area" }, el("span", { text: t("avatar.bg.area") }), bgArea),
      el("label.avatar-row.check", { for: "avatar-enabled" }, showBox, el("span", { text: t("avatar.enabled") })),
      el("div.avatar-row", {}, aboutBtn),
      status,
    );
  }

  function open(next) {
    box.hidden = !next;
    gear.setAttribute("aria-expanded", next ? "true" : "false");
    if (next) render();
  }

  gear.addEventListener("click", () => open(box.hidden));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !box.hidden) open(false);
  });
  document.addEventListener("pointerdown", (ev) => {
    if (!box.hidden && !box.contains(ev.target) && !gear.contains(ev.target)) open(false);
  });

  modelSelect.addEventListener("change", () => ctx.update({ model: modelSelect.value }));
  scale.addEventListener("input", () => {
    scaleOut.textContent = `${Math.round(Number(scale.value) * 100)}%`;
    ctx.setScale(Number(scale.value));
  });
  resetBtn.addEventListener("click", () => ctx.resetPlace());
  bgArea.addEventListener("change", () => ctx.update({ background_area: bgArea.value }));
  bgClear.addEventListener("click", () => ctx.update({ background: "" }));
  showBox.addEventListener("change", async () => {
    await ctx.update({ enabled: showBox.checked });
    if (!showBox.checked) toast(t("avatar.hiddenHint"));
  });
  aboutBtn.addEventListener("click", () => {
    open(false);
    ctx.about();
  });
  importBtn.addEventListener("click", () => importInput.click());
  removeBtn.addEventListener("click", async () => {
    const id = modelSelect.value;
    const res = await call("avatar_remove", { id });
    if (!res.ok) {
      setStatus(`${errorTitle(res.error)}: ${res.error.message || ""}`, true);
      return;
    }
    await ctx.update({ model: "haru" });
    setStatus(t("avatar.removed"));
  });

  importInput.addEventListener("change", async () => {
    const files = [...importInput.files];
    importInput.value = "";
    if (!files.length) return;
    const total = files.reduce((n, f) => n + f.size, 0);
    if (files.length > limits.files || total > limits.total_bytes) {
      setStatus(t("avatar.tooLarge", { mb: Math.round(limits.total_bytes / 1e6) }), true);
      return;
    }
    const big = files.find((f) => f.size > limits.file_bytes);
    if (big) {
      setStatus(t("avatar.fileTooLarge", { name: big.name, mb: Math.round(limits.file_bytes / 1e6) }), true);
      return;
    }
    const rel = (f) => f.webkitRelativePath || f.name;
    const name = rel(files[0]).split("/")[0] || "model";
    setStatus(t("avatar.importing", { count: files.length }));
    importBtn.disabled = true;
    let res;
    try {
      const payload = [];
      for (const f of files) payload.push({ path: rel(f), data_base64: await readBase64(f) });
      res = await call("avatar_import", { name, files: payload });
    } catch (err) {
      res = { ok: false, error: { type: "InvalidInput", message: String(err && err.message ? err.message : err) } };
    }
    importBtn.disabled = false;
    if (!res.ok) {
      setStatus(`${t("avatar.importFailed")}: ${res.error.message || ""}`, true);
      return;
    }
    await ctx.reloadModels();
    await ctx.update({ model: res.model.id });
    const skipped = (res.model.skipped || []).length;
    setStatus(t(skipped ? "avatar.importedSkipped" : "avatar.imported", { name: res.model.name, skipped }));
  });

  bgBtn.addEventListener("click", () => bgInput.click());
  bgInput.addEventListener("change", async () => {
    const file = bgInput.files[0];
    bgInput.value = "";
    if (!file) return;
    if (file.size > limits.background_bytes) {
      setStatus(t("avatar.bg.tooLarge", { mb: Math.round(limits.background_bytes / 1e6) }), true);
      return;
    }
    const res = await call("avatar_background", { name: file.name, data_base64: await readBase64(file) });
    if (!res.ok) {
      setStatus(`${errorTitle(res.error)}: ${res.error.message || ""}`, true);
      return;
    }
    await ctx.update({ background: res.background });
    setStatus(t("avatar.bg.saved"));
  });

  render();
  onLangChange(() => render());
  return {
    refresh() {
      if (box.hidden) gear.title = t("avatar.panel");
      else if (box.contains(document.activeElement)) {
        const s = ctx.getSettings(); // the user is using a control: update values only
        scale.value = String(s.scale);
        scaleOut.textContent = `${Math.round(s.scale * 100)}%`;
      } else render();
    },
    status: setStatus,
    setLimits(next) {
      limits = { ...limits, ...next };
    },
    open,
  };
}
