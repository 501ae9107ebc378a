// The boxes of the settings page that do something rather than hold a value:
// test a connection, ask the weather service, index the memory.

import { call, on } from "./transport.js";
import { t } from "./i18n.js";
import { el, confirmDialog, toast, progressBar, errorLine } from "./ui.js";

// ---- connection test -----------------------------------------------------
/** Test the connection of `kind` ("llm"/"embed") with the address and model now
 * in the form (`inputs`: path -> row), not yet saved. */
export function testBox(kind, inputs) {
  const out = el("div.test-result", { id: `test-${kind}-result`, role: "status" });
  const btn = el("button.btn", {
    type: "button",
    id: `test-${kind}`,
    text: t(`test.${kind}`),
    on: { click: async () => {
      btn.disabled = true;
      out.className = "test-result";
      out.textContent = t("test.running");
      const params = { kind };
      for (const key of ["base_url", "model"]) {
        const row = inputs.get(`${kind}.${key}`);
        if (row && !row.fromEnv) params[key] = row.input.value.trim();
      }
      const res = await call("test_connection", params);
      btn.disabled = false;
      const ok = res.ok && res.ok !== false;
      const message = res.message || (res.error && errorLine(res.error)) || "";
      out.className = `test-result ${ok ? "ok" : "bad"}`;
      out.textContent = message;
      if (ok && Array.isArray(res.models) && res.models.length) {
        out.append(el("div.muted", { text: t("test.models", { models: res.models.slice(0, 12).join(", ") }) }));
      }
    } },
  });
  return el("div.test-box", {}, btn, out);
}

// ---- weather status ------------------------------------------------------
/** What the weather service says now. */
export function weatherBox() {
  const out = el("div.test-result#weather-status", { role: "status" });
  const show = async () => {
    out.className = "test-result";
    out.textContent = t("test.running");
    const res = await call("weather_status");
    const w = (res.ok && res.weather) || null;
    if (!w) {
      out.className = "test-result bad";
      out.textContent = res.error ? errorLine(res.error) : "";
    } else if (!w.enabled) {
      out.textContent = t("weather.off");
    } else if (w.ok && w.line) {
      out.className = "test-result ok";
      out.textContent = t("weather.line", { line: w.line });
    } else {
      out.className = "test-result bad";
      out.textContent = t("weather.failed", { error: w.error || "?" });
    }
  };
  const btn = el("button.btn#weather-check", { type: "button", text: t("weather.check"), on: { click: show } });
  show();
  return el("div.test-box", {}, btn, out);
}

// ---- index ---------------------------------------------------------------
/** The search index: how much is indexed, and the buttons that index the rest or all. */
export function indexBox() {
  const status = el("span.index-status#index-status", { text: t("common.loading") });
  const area = el("div.task-area");
  const msg = el("div.field-error", { role: "alert" });
  const refresh = async () => {
    const res = await call("index_status");
    if (!res.ok) {
      status.textContent = errorLine(res.error);
      return;
    }
    status.textContent = t(res.model ? "index.statusModel" : "index.status", res);
    if (res.problem) status.textContent += ` — ${res.problem}`;
    status.classList.toggle("warn", res.indexed < res.total || !!res.problem);
  };
  const run = async (all) => {
    if (all && !(await confirmDialog(t("index.confirmAllTitle"), t("index.confirmAll"), t("index.all")))) return;
    missingBtn.disabled = allBtn.disabled = true;
    msg.textContent = "";
    const bar = progressBar(area);
    bar.update(0, 0, t("index.progress", { done: 0, total: "?" }));
    const off = on("task.progress", (p) => {
      if (p && p.task === "index") bar.update(p.done, p.total, t("index.progress", p));
    });
    const res = await call("index_rebuild", { all });
    off();
    bar.remove();
    missingBtn.disabled = allBtn.disabled = false;
    if (res.ok) toast(t("index.done", { indexed: res.indexed }));
    else msg.textContent = errorLine(res.error);
    refresh();
  };
  const missingBtn = el("button.btn", { type: "button", id: "index-missing", text: t("index.missing"), on: { click: () => run(false) } });
  const allBtn = el("button.btn", { type: "button", id: "index-all", text: t("index.all"), on: { click: () => run(true) } });
  refresh();
  return el(
    "div.index-box",
    {},
    el("h3.subsection-title", { text: t("index.title") }),
    el("div.index-row", {}, status, missingBtn, allBtn),
    area,
    msg,
  );
}
