// Memory → Import and export: export to a file (optionally encrypted), import a file
// (picker or drag and drop) after a preview, local backups, and deleting all memories.

import { call, on } from "./transport.js";
import { t, getLang, onLangChange } from "./i18n.js";
import { el, clear, confirmDialog, toast, progressBar } from "./ui.js";
import { errorBox, errorText, fmtTime, fmtSize } from "./memutil.js";

// Preview fields (summarize_snapshot) in display order; other numbers follow as they come.
const COUNT_KEYS = [
  "diary_entries", "archived_conversations", "archived_messages", "conversation_messages", "vectors",
];

/** Rows describing a transfer_preview result (shared with the cloud page). */
export function previewView(res, id) {
  const p = (res && res.preview) || {};
  const rows = [];
  const add = (label, value, key) => rows.push(el("dt", { text: label }), el("dd", { text: String(value), dataset: key ? { key } : undefined }));
  if (p.self_name !== undefined) add(t("mem.selfName"), p.self_name || "–", "self_name");
  if (p.user_name !== undefined) add(t("mem.userName"), p.user_name || "–", "user_name");
  const numbers = Object.keys(p).filter((k) => typeof p[k] === "number" && !/time$|_at$/.test(k));
  const keys = [...COUNT_KEYS.filter((k) => numbers.includes(k)), ...numbers.filter((k) => !COUNT_KEYS.includes(k))];
  for (const k of keys) {
    const key = `transfer.count.${k}`;
    const label = t(key);
    add(label === key ? k : label, p[k], k);
  }
  if (Array.isArray(p.vector_dimensions) && p.vector_dimensions.length) {
    add(t("transfer.count.vector_dimensions"), p.vector_dimensions.join(", "), "vector_dimensions");
  }
  if (p.first_time || p.last_time) add(t("transfer.range"), `${fmtTime(p.first_time)} – ${fmtTime(p.last_time)}`, "range");
  if (res && res.encrypted) add(t("transfer.encrypted"), t("transfer.yes"), "encrypted");
  const box = el("div.preview-box", { id }, el("dl.kv", {}, rows));
  const warnings = (res && res.warnings) || [];
  if (Array.isArray(warnings) && warnings.length) {
    const ul = el("ul.warn-list");
    for (const w of warnings.slice(0, 50)) ul.append(el("li", { text: typeof w === "string" ? w : JSON.stringify(w) }));
    if (warnings.length > 50) ul.append(el("li", { text: t("transfer.moreWarnings", { n: warnings.length - 50 }) }));
    box.append(el("div.warn-head", { text: t("transfer.warnings", { n: warnings.length }) }), ul);
  }
  return box;
}

/** A short line from an import report. */
export function reportText(report) {
  const r = report || {};
  return t("transfer.imported", { entries: r.entries ?? 0, messages: r.messages ?? 0, archived: r.archived ?? 0 });
}

function looksEncrypted(text) {
  if (!/digital-life-encrypted/.test(text.slice(0, 200))) return false;
  try {
    return JSON.parse(text).format === "digital-life-encrypted";
  } catch {
    return false;
  }
}

export function createTransfer(root, { getInfo, onChanged }) {
  let pending = null; // {name, content, encrypted, previewed}
  const error = errorBox("transfer-error");

  // ---- export ------------------------------------------------------------
  const exportPass = el("input#export-pass", { type: "password", autocomplete: "new-password", dataset: { i18nPlaceholder: "transfer.passOptional" } });
  const exportBtn = el("button.btn.primary#export-btn", { type: "button", dataset: { i18n: "transfer.export" }, on: { click: doExport } });
  const exportStatus = el("span.form-status#export-status", { role: "status" });
  const exportCard = el(
    "section.card#export-card",
    {},
    el("h2.card-title", { dataset: { i18n: "transfer.exportTitle" } }),
    el("p.field-help", { dataset: { i18n: "transfer.exportHelp" } }),
    el("div.inline-row", {}, el("label.field-label", { for: "export-pass", dataset: { i18n: "transfer.passphrase" } }), exportPass),
    el("div.card-actions", {}, exportBtn, exportStatus),
  );

  // ---- import ------------------------------------------------------------
  const fileInput = el("input#import-file", { type: "file", accept: ".json,.enc,application/json", class: "sr-only", on: { change: () => {
    if (fileInput.files && fileInput.files[0]) readFile(fileInput.files[0]);
    fileInput.value = "";
  } } });
  const pickBtn = el("button.btn#import-pick", { type: "button", dataset: { i18n: "transfer.pick" }, on: { click: () => fileInput.click() } });
  const drop = el(
    "div.drop-zone#import-drop",
    { tabindex: "0", role: "button" },
    el("span.drop-icon", { "aria-hidden": "true", text: "⇪" }),
    el("span", { dataset: { i18n: "transfer.drop" } }),
    pickBtn,
    fileInput,
  );
  drop.addEventListener("keydown", (ev) => {
    if ((ev.key === "Enter" || ev.key === " ") && ev.target === drop) {
      ev.preventDefault();
      fileInput.click();
    }
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (ev) => {
      ev.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    const file = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (file) readFile(file);
  });
  // A file dropped next to the zone must not navigate the page away.
  window.addEventListener("dragover", (ev) => ev.preventDefault());
  window.addEventListener("drop", (ev) => ev.preventDefault());

  const fileLine = el("div.file-line#import-file-name");
  const importPass = el("input#import-pass", { type: "password", autocomplete: "off", dataset: { i18nPlaceholder: "transfer.passRequired" } });
  const passBtn = el("button.btn#import-pass-btn", { type: "button", dataset: { i18n: "transfer.unlock" }, on: { click: () => runPreview() } });
  importPass.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      runPreview();
    }
  });
  const passRow = el("div.inline-row#import-pass-row", { hidden: true }, el("label.field-label", { for: "import-pass", dataset: { i18n: "transfer.passphrase" } }), importPass, passBtn);
  const importError = el("div.field-error#import-error", { role: "alert" });
  const previewArea = el("div#import-preview-area");
  const importBtn = el("button.btn.primary#import-btn", { type: "button", disabled: true, dataset: { i18n: "transfer.import" }, on: { click: doImport } });
  const importCancel = el("button.btn.ghost#import-cancel", { type: "button", hidden: true, dataset: { i18n: "common.cancel" }, on: { click: () => reset() } });
  const importStatus = el("span.form-status#import-status", { role: "status" });
  const importTask = el("div.task-area#import-task");
  let importBar = null;
  on("task.progress", (p) => {
    if (importBar && p && p.task === "import") importBar.update(p.done, p.total, t("transfer.indexing", { done: p.done ?? 0, total: p.total || "?" }));
  });
  const importCard = el(
    "section.card#import-card",
    {},
    el("h2.card-title", { dataset: { i18n: "transfer.importTitle" } }),
    el("p.field-help", { dataset: { i18n: "transfer.importHelp" } }),
    drop,
    fileLine,
    passRow,
    importError,
    previewArea,
    el("div.card-actions", {}, importBtn, importCancel, importStatus),
    importTask,
  );

  // ---- local backups -----------------------------------------------------
  const backupList = el("ol.backup-list#local-backups");
  const backupsCard = el(
    "section.card#local-backups-card",
    {},
    el("h2.card-title", { dataset: { i18n: "transfer.backups" } }),
    el("p.field-help", { dataset: { i18n: "transfer.backupsHelp" } }),
    backupList,
  );

  // ---- delete all --------------------------------------------------------
  const phraseInput = el("input#delete-all-phrase", { type: "text", autocomplete: "off", spellcheck: "false" });
  const deleteBtn = el("button.btn.danger-solid#delete-all-btn", { type: "button", disabled: true, dataset: { i18n: "transfer.deleteAll" }, on: { click: doDeleteAll } });
  const phraseHint = el("p.field-help#delete-all-hint");
  const deleteError = el("div.field-error#delete-all-error", { role: "alert" });
  phraseInput.addEventListener("input", syncDelete);
  const dangerCard = el(
    "section.card.danger-card#delete-all-card",
    {},
    el("h2.card-title", { dataset: { i18n: "transfer.dangerTitle" } }),
    phraseHint,
    el("div.inline-row", {}, phraseInput, deleteBtn),
    deleteError,
  );

  root.append(error.node, exportCard, importCard, backupsCard, dangerCard);

  /** The phrase in the UI language, as the server checks it (app_info's delete_phrases). */
  function phrase() {
    const phrases = (getInfo() || {}).delete_phrases || {};
    return phrases[getLang()] || "";
  }

  function phraseTyped() {
    return Boolean(phrase()) && phraseInput.value.trim() === phrase();
  }

  function syncDelete() {
    deleteBtn.disabled = !phraseTyped();
  }

  function renderPhrase() {
    phraseHint.textContent = t("transfer.dangerHelp", { phrase: phrase() });
    phraseInput.placeholder = phrase();
    syncDelete();
  }

  // ---- export ------------------------------------------------------------
  async function doExport() {
    exportStatus.textContent = t("status.busy");
    exportBtn.disabled = true;
    const passphrase = exportPass.value;
    const res = await call("transfer_export", passphrase ? { passphrase } : {});
    exportBtn.disabled = false;
    if (!res.ok) {
      exportStatus.textContent = "";
      error.show(res.error);
      return;
    }
    error.hide();
    const name = res.filename || (res.encrypted ? "digital-life-memory.json.enc" : "digital-life-memory.json");
    const blob = new Blob([res.content || ""], { type: res.encrypted ? "application/octet-stream" : "application/json" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    exportPass.value = "";
    exportStatus.textContent = t("transfer.exported", { name });
    toast(t("transfer.exported", { name }));
  }

  // ---- import ------------------------------------------------------------
  function reset() {
    pending = null;
    fileLine.textContent = "";
    importError.textContent = "";
    importStatus.textContent = "";
    clear(previewArea);
    passRow.hidden = true;
    importPass.value = "";
    importBtn.disabled = true;
    importCancel.hidden = true;
  }

  async function readFile(file) {
    reset();
    fileLine.textContent = t("transfer.file", { name: file.name, size: fmtSize(file.size) });
    importCancel.hidden = false;
    let content;
    try {
      content = await file.text();
    } catch (err) {
      importError.textContent = t("transfer.readFailed", { message: String(err && err.message ? err.message : err) });
      return;
    }
    pending = { name: file.name, content, encrypted: looksEncrypted(content), previewed: false };
    if (pending.encrypted) {
      passRow.hidden = false;
      importStatus.textContent = t("transfer.needPass");
      importPass.focus();
      return;
    }
    await runPreview();
  }

  async function runPreview() {
    if (!pending) return;
    importError.textContent = "";
    importBtn.disabled = true;
    clear(previewArea);
    const params = { content: pending.content };
    if (pending.encrypted || !passRow.hidden) {
      if (!importPass.value) {
        importError.textContent = t("transfer.needPass");
        return;
      }
      params.passphrase = importPass.value;
    }
    importStatus.textContent = t("status.busy");
    const res = await call("transfer_preview", params);
    importStatus.textContent = "";
    if (!res.ok) {
      if (res.error && res.error.type === "PassphraseRequired") {
        pending.encrypted = true;
        passRow.hidden = false;
        importPass.focus();
      }
      importError.textContent = errorText(res.error);
      return;
    }
    if (res.encrypted && !res.preview) {
      pending.encrypted = true;
      passRow.hidden = false;
      importStatus.textContent = t("transfer.needPass");
      return;
    }
    pending.previewed = true;
    pending.passphrase = params.passphrase;
    previewArea.append(el("h3.subsection-title", { text: t("transfer.preview") }), previewView(res, "import-preview"));
    importBtn.disabled = false;
  }

  async function doImport() {
    if (!pending || !pending.previewed) return;
    const ok = await confirmDialog(t("transfer.confirmImportTitle"), t("transfer.confirmImport"), t("transfer.import"));
    if (!ok) return;
    importBtn.disabled = true;
    importStatus.textContent = t("status.busy");
    const params = { content: pending.content };
    if (pending.passphrase) params.passphrase = pending.passphrase;
    importBar = progressBar(importTask);
    importBar.update(0, 0, t("status.busy"));
    const res = await call("transfer_import", params);
    importBar.remove();
    importBar = null;
    importStatus.textContent = "";
    if (!res.ok) {
      importBtn.disabled = false;
      importError.textContent = errorText(res.error);
      return;
    }
    const text = reportText(res.report);
    reset();
    importStatus.textContent = text;
    toast(text);
    loadBackups();
    onChanged();
  }

  // ---- backups -----------------------------------------------------------
  async function loadBackups() {
    const res = await call("transfer_backups");
    clear(backupList);
    if (!res.ok) {
      backupList.append(el("li.field-error", { role: "alert", text: errorText(res.error) }));
      return;
    }
    const items = Array.isArray(res.backups) ? res.backups : [];
    if (!items.length) {
      backupList.append(el("li.muted.list-empty", { text: t("transfer.noBackups") }));
      return;
    }
    for (const b of items) {
      backupList.append(
        el(
          "li.backup-item",
          { dataset: { name: b.name } },
          el("span.backup-time", { text: fmtTime(b.at) }),
          el("span.backup-name", { text: b.name }),
          el("span.backup-size.muted", { text: fmtSize(b.size) }),
          el("button.btn.small.backup-restore", { type: "button", text: t("transfer.restore"), on: { click: () => restoreLocal(b) } }),
        ),
      );
    }
  }

  async function restoreLocal(b) {
    const ok = await confirmDialog(t("transfer.confirmRestoreTitle"), t("transfer.confirmRestore", { time: fmtTime(b.at) }), t("transfer.restore"));
    if (!ok) return;
    const res = await call("transfer_restore_local", { name: b.name });
    if (!res.ok) {
      error.show(res.error);
      return;
    }
    error.hide();
    toast(reportText(res.report));
    loadBackups();
    onChanged();
  }

  // ---- delete all --------------------------------------------------------
  async function doDeleteAll() {
    deleteError.textContent = "";
    if (!phraseTyped()) return;
    deleteBtn.disabled = true;
    const res = await call("memory_delete_all", { phrase: phraseInput.value.trim() });
    if (!res.ok) {
      syncDelete();
      deleteError.textContent = errorText(res.error);
      return;
    }
    phraseInput.value = "";
    syncDelete();
    toast(t("transfer.deletedAll"));
    loadBackups();
    onChanged();
  }

  let shown = false; // the backups were asked for: a language change redraws them
  async function load() {
    shown = true;
    renderPhrase();
    await loadBackups();
  }

  onLangChange(() => {
    renderPhrase();
    // Not before the tab is shown: the page's start sets its language, and asking then
    // would open the memory (LanceDB) for a list nobody sees yet.
    if (shown) loadBackups();
  });

  return { load, lang: getLang };
}
