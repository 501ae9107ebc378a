// Memory → Cloud backup (S3): the `backup` settings group, its keys (set / not set only),
// test, back up now (progress "backup"), list, preview and restore (progress "restore").

import { call, on } from "./transport.js";
import { t, pick, onLangChange, hasKey } from "./i18n.js";
import { el, clear, confirmDialog, toast, progressBar, errorLine, getPath, setPath } from "./ui.js";
import { errorBox, errorText, fmtTime, fmtSize } from "./memutil.js";
import { previewView, reportText } from "./transfer.js";

const SECRETS = ["s3_access_key", "s3_secret_key", "backup_passphrase"];

/** Errors named for the storage service, not the chat model's (AuthFailed, ServiceUnreachable...).
 *  What is not set up the app says whole ("Cloud backup is not set up: enter the bucket
 *  name first."): no title before it to say it twice. */
function cloudError(error) {
  const key = `cloud.error.${error && error.type}`;
  if (!hasKey(key)) return errorText(error);
  if (error.type === "SettingsError" && error.message) return String(error.message);
  return errorLine(error, t(key));
}

export function createCloud(root, { onChanged }) {
  let data = null; // settings_get result
  const inputs = new Map(); // path -> {field, input, error}
  let drafts = {};
  const tasks = {}; // task name -> progress bar

  const error = errorBox("cloud-error");
  const form = el("div#cloud-settings");
  const formError = el("div.field-error#cloud-settings-error", { role: "alert" });
  const saveBtn = el("button.btn.primary#cloud-save", { type: "button", dataset: { i18n: "settings.save" }, on: { click: save } });
  const saveStatus = el("span.form-status#cloud-save-status", { role: "status" });
  const secretsBox = el("div#cloud-secrets");
  const settingsCard = el(
    "section.card#cloud-settings-card",
    {},
    el("h2.card-title", { dataset: { i18n: "cloud.settings" } }),
    el("p.field-help", { dataset: { i18n: "cloud.settingsHelp" } }),
    form,
    formError,
    el("div.card-actions", {}, saveBtn, saveStatus),
    el("h3.subsection-title", { dataset: { i18n: "cloud.keys" } }),
    secretsBox,
  );

  const testBtn = el("button.btn#cloud-test", { type: "button", dataset: { i18n: "cloud.test" }, on: { click: test } });
  const uploadBtn = el("button.btn.primary#cloud-upload", { type: "button", dataset: { i18n: "cloud.upload" }, on: { click: upload } });
  const listBtn = el("button.btn#cloud-list-btn", { type: "button", dataset: { i18n: "cloud.list" }, on: { click: list } });
  const result = el("div.test-result#cloud-result", { role: "status" });
  const taskArea = el("div.task-area#cloud-task");
  const objects = el("ol.backup-list#cloud-objects");
  const previewArea = el("div#cloud-preview-area");
  const actionsCard = el(
    "section.card#cloud-actions-card",
    {},
    el("h2.card-title", { dataset: { i18n: "cloud.actions" } }),
    el("div.card-actions", {}, testBtn, uploadBtn, listBtn),
    result,
    taskArea,
    objects,
    previewArea,
  );
  root.append(error.node, settingsCard, actionsCard);

  // ---- settings ----------------------------------------------------------
  function fields() {
    return ((data && data.fields) || []).filter((f) => f.path.startsWith("backup."));
  }

  function kindOf(field) {
    if (Array.isArray(field.choices) && field.choices.length) return "choice";
    const type = String(field.type || "").toLowerCase();
    if (type.includes("bool")) return "bool";
    if (/int|number|float/.test(type)) return "number";
    return "text";
  }

  function captureDrafts() {
    for (const [path, row] of inputs) drafts[path] = row.kind === "bool" ? row.input.checked : row.input.value;
  }

  function renderForm() {
    captureDrafts();
    inputs.clear();
    clear(form);
    const list = fields();
    saveBtn.hidden = !list.length;
    if (!data) {
      form.append(el("p.muted", { text: t("common.loading") }));
      return;
    }
    if (!list.length) {
      form.append(el("p.muted#cloud-no-fields", { text: t("cloud.noFields") }));
      return;
    }
    for (const field of list) {
      const kind = kindOf(field);
      const id = `f-${field.path.replace(/\./g, "-")}`;
      const current = getPath(data.settings, field.path);
      const draft = drafts[field.path];
      let input;
      if (kind === "bool") {
        input = el("input", { id, type: "checkbox" });
        input.checked = draft ?? Boolean(current);
      } else if (kind === "choice") {
        input = el("select", { id });
        for (const c of field.choices) input.append(el("option", { value: String(c), text: String(c) }));
        input.value = draft ?? String(current ?? "");
      } else {
        input = el("input", { id, type: kind === "number" ? "number" : "text", autocomplete: "off", spellcheck: "false" });
        input.value = draft ?? (current === null || current === undefined ? "" : String(current));
        if (field.default !== null && field.default !== undefined && field.default !== "") input.placeholder = String(field.default);
      }
      const fieldError = el("div.field-error", { id: `${id}-error`, role: "alert" });
      const locked = (data.env_overrides || []).includes(field.path);
      if (locked) input.disabled = true;
      const label = el("label.field-label", { for: id, text: pick(field.label) || field.path });
      form.append(
        el(
          `div.field${kind === "bool" ? ".bool" : ""}`,
          { dataset: { path: field.path } },
          kind === "bool" ? el("div.field-head", {}, el("div.field-input", {}, input), label) : el("div.field-head", {}, label),
          kind === "bool" ? null : el("div.field-input", {}, input),
          pick(field.help) ? el("div.field-help", { text: pick(field.help) }) : null,
          fieldError,
        ),
      );
      inputs.set(field.path, { field, kind, input, error: fieldError, locked });
    }
  }

  function renderSecrets() {
    clear(secretsBox);
    if (!data) return;
    for (const name of SECRETS) {
      const isSet = Boolean(data.secrets && data.secrets[name]);
      const id = `secret-${name}`;
      const input = el("input", { id, type: "password", autocomplete: "new-password", spellcheck: "false", placeholder: t("secret.placeholder") });
      const state = el(`span.badge.${isSet ? "ok" : "muted"}`, { id: `${id}-state`, text: t(isSet ? "secret.set" : "secret.notSet") });
      const rowError = el("div.field-error", { role: "alert" });
      const saveKey = el("button.btn.small", { type: "button", text: t("secret.save") });
      const delKey = el("button.btn.small.ghost", { type: "button", text: t("secret.delete"), hidden: !isSet });
      saveKey.addEventListener("click", async () => {
        if (!input.value) return;
        const res = await call("secret_set", { name, value: input.value });
        if (!res.ok) {
          rowError.textContent = errorText(res.error); // the value stays for another try
          return;
        }
        input.value = "";
        data.secrets = res.secrets || { ...(data.secrets || {}), [name]: true };
        toast(t("secret.saved"));
        renderSecrets();
      });
      delKey.addEventListener("click", async () => {
        const res = await call("secret_delete", { name });
        if (!res.ok) {
          rowError.textContent = errorText(res.error);
          return;
        }
        data.secrets = res.secrets || { ...(data.secrets || {}), [name]: false };
        toast(t("secret.deleted"));
        renderSecrets();
      });
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          saveKey.click();
        }
      });
      secretsBox.append(
        el(
          "div.field.secret",
          { dataset: { secret: name } },
          el("div.field-head", {}, el("label.field-label", { for: id, text: t(`secret.${name}`) }), state),
          el("div.field-input.inline", {}, input, saveKey, delKey),
          el("div.field-help", { text: t(`secret.${name}.help`) }),
          rowError,
        ),
      );
    }
  }

  async function save() {
    formError.textContent = "";
    saveStatus.textContent = "";
    const patch = {};
    let changed = 0;
    let bad = 0;
    for (const [path, row] of inputs) {
      if (row.locked) continue;
      row.error.textContent = "";
      let value;
      if (row.kind === "bool") value = row.input.checked;
      else if (row.kind === "number") {
        const raw = row.input.value.trim();
        value = raw === "" ? null : Number(raw);
        if (value !== null && !Number.isFinite(value)) {
          row.error.textContent = t("settings.number");
          bad += 1;
          continue;
        }
      } else {
        value = row.input.value.trim();
        if (value === "" && row.field.nullable) value = null;
      }
      if (JSON.stringify(value) !== JSON.stringify(getPath(data.settings, path) ?? null)) {
        setPath(patch, path, value);
        changed += 1;
      }
    }
    if (bad) {
      saveStatus.textContent = t("settings.fixErrors");
      return;
    }
    if (!changed) {
      saveStatus.textContent = t("settings.noChanges");
      return;
    }
    saveBtn.disabled = true;
    const res = await call("settings_set", { patch });
    saveBtn.disabled = false;
    if (!res.ok) {
      let shown = 0;
      for (const item of (res.error && res.error.fields) || []) {
        const row = inputs.get(String(item.path || "").replace(/^patch\./, ""));
        if (row) {
          row.error.textContent = item.message || "";
          shown += 1;
        }
      }
      formError.textContent = shown ? t("settings.fixErrors") : errorText(res.error);
      return;
    }
    data.settings = res.settings || data.settings;
    drafts = {};
    inputs.clear();
    renderForm();
    saveStatus.textContent = t("settings.saved");
    toast(t("settings.saved"));
  }

  // ---- actions -----------------------------------------------------------
  function showResult(ok, text) {
    result.className = `test-result ${ok ? "ok" : "bad"}`;
    result.textContent = text;
  }

  function busy(flag) {
    for (const b of [testBtn, uploadBtn, listBtn]) b.disabled = flag;
    for (const b of objects.querySelectorAll("button")) b.disabled = flag;
  }

  async function test() {
    busy(true);
    result.className = "test-result";
    result.textContent = t("test.running");
    const res = await call("backup_test");
    busy(false);
    if (res.ok) showResult(true, res.message || t("cloud.testOk"));
    else showResult(false, res.error ? cloudError(res.error) : res.message || t("error.generic"));
  }

  function startTask(name) {
    stopTask(name);
    const bar = progressBar(taskArea);
    bar.update(0, 0, t(`cloud.progress.${name}`, { done: fmtSize(0), total: "?" }));
    tasks[name] = bar;
  }

  function stopTask(name) {
    if (tasks[name]) tasks[name].remove();
    delete tasks[name];
  }

  on("task.progress", (p) => {
    if (p && p.task === "import" && tasks.restore) {
      tasks.restore.update(p.done, p.total, t("transfer.indexing", { done: p.done ?? 0, total: p.total || "?" }));
      return;
    }
    if (!p || !tasks[p.task]) return;
    // backup/restore progress counts bytes.
    tasks[p.task].update(p.done, p.total, t(`cloud.progress.${p.task}`, { done: fmtSize(p.done ?? 0), total: p.total ? fmtSize(p.total) : "?" }));
  });

  async function upload() {
    busy(true);
    result.textContent = "";
    startTask("backup");
    const res = await call("backup_upload");
    stopTask("backup");
    busy(false);
    if (!res.ok) {
      showResult(false, cloudError(res.error));
      return;
    }
    const o = res.object || {};
    showResult(true, t("cloud.uploaded", { key: o.key || "", size: fmtSize(o.size) }));
    toast(t("cloud.uploadedShort"));
    list();
  }

  async function list() {
    listBtn.disabled = true;
    const res = await call("backup_list");
    listBtn.disabled = false;
    clear(objects);
    if (!res.ok) {
      showResult(false, cloudError(res.error));
      return;
    }
    const items = Array.isArray(res.objects) ? res.objects : [];
    if (!items.length) {
      objects.append(el("li.muted.list-empty", { text: t("cloud.none") }));
      return;
    }
    for (const o of items) {
      objects.append(
        el(
          "li.backup-item.cloud-object",
          { dataset: { key: o.key } },
          el("span.backup-time", { text: fmtTime(o.at) }),
          el("span.backup-name", { text: o.key }),
          el("span.backup-size.muted", { text: fmtSize(o.size) }),
          o.encrypted ? el("span.tag.indexed", { text: t("transfer.encrypted") }) : null,
          el("button.btn.small.cloud-preview", { type: "button", text: t("cloud.previewBtn"), on: { click: () => previewObject(o) } }),
        ),
      );
    }
  }

  async function previewObject(o) {
    clear(previewArea);
    previewArea.append(el("p.muted", { text: t("common.loading") }));
    const res = await call("backup_preview", { key: o.key });
    clear(previewArea);
    if (!res.ok) {
      previewArea.append(el("div.field-error#cloud-preview-error", { role: "alert", text: cloudError(res.error) }));
      return;
    }
    const restoreBtn = el("button.btn.primary#cloud-restore", { type: "button", text: t("cloud.restore") });
    const applyBox = el("input#cloud-apply-settings", { type: "checkbox" });
    restoreBtn.addEventListener("click", () => restore(o, restoreBtn, applyBox.checked));
    previewArea.append(
      el("h3.subsection-title", { text: t("cloud.previewOf", { key: o.key }) }),
      previewView(res, "cloud-preview"),
      res.settings && typeof res.settings === "object"
        ? el("label.check-row", { for: "cloud-apply-settings" }, applyBox, el("span", { text: t("cloud.applySettings") }))
        : null,
      el("div.card-actions", {}, restoreBtn),
    );
  }

  async function restore(o, btn, applySettings) {
    const ok = await confirmDialog(t("cloud.confirmRestoreTitle"), t("cloud.confirmRestore", { time: fmtTime(o.at) }), t("cloud.restore"));
    if (!ok) return;
    btn.disabled = true;
    busy(true);
    startTask("restore");
    const res = await call("backup_restore", applySettings ? { key: o.key, apply_settings: true } : { key: o.key });
    stopTask("restore");
    busy(false);
    btn.disabled = false;
    if (!res.ok) {
      showResult(false, cloudError(res.error));
      return;
    }
    clear(previewArea);
    const text = reportText(res.report);
    showResult(true, text);
    toast(text);
    onChanged();
  }

  // An automatic backup after a diary entry reports here, whichever page is open.
  on("backup.auto", (p) => {
    if (!p) return;
    if (p.ok) {
      toast(t("cloud.autoDone", { key: (p.object && p.object.key) || "" }));
      if (objects.querySelector(".cloud-object")) list(); // a shown list gets the new object
    } else toast(t("cloud.autoFailed", { message: cloudError(p.error) }), "error");
  });

  async function load() {
    const res = await call("settings_get");
    if (!res.ok) {
      error.show(res.error);
      return;
    }
    error.hide();
    data = res;
    renderForm();
    renderSecrets();
  }

  onLangChange(() => {
    if (data) {
      renderForm();
      renderSecrets();
    }
  });

  return { load };
}
