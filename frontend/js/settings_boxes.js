// The boxes of the settings page that do something rather than hold a value:
// test a connection, ask the weather service, index the memory.

import { call, on } from "./transport.js";
import { t } from "./i18n.js";
import { liveBox } from "./live_box.js";
import { el, confirmDialog, toast, progressBar, errorLine } from "./ui.js";

// ---- connection test -----------------------------------------------------
/** Show a connection test's `state` in a box's parts (its answer and the models the
 * service listed: text, never markup). */
function paintTest({ btn, out }, state) {
  btn.disabled = Boolean(state.busy); // one test at a time, in whichever box is drawn
  out.className = state.className;
  out.textContent = state.text;
  if (state.models) out.append(el("div.muted", { text: state.models }));
}

// Per kind: what its test says goes to the box drawn last (live_box.js).
const tests = { llm: liveBox(paintTest), embed: liveBox(paintTest) };

/** Test the connection of `kind` ("llm"/"embed") with the address and model now
 * in the form (`inputs`: path -> row), not yet saved. */
export function testBox(kind, inputs) {
  const box = tests[kind];
  const out = el("div.test-result", { id: `test-${kind}-result`, role: "status" });
  const btn = el("button.btn", {
    type: "button",
    id: `test-${kind}`,
    text: t(`test.${kind}`),
    on: { click: async () => {
      const current = box.ask();
      box.say({ className: "test-result", text: t("test.running"), busy: true });
      const params = { kind };
      for (const key of ["base_url", "model"]) {
        const row = inputs.get(`${kind}.${key}`);
        if (row && !row.fromEnv) params[key] = row.input.value.trim();
      }
      const res = await call("test_connection", params);
      if (!current()) return;
      const ok = res.ok && res.ok !== false;
      const listed = ok && Array.isArray(res.models) && res.models.length;
      box.say({
        className: `test-result ${ok ? "ok" : "bad"}`,
        text: res.message || (res.error && errorLine(res.error)) || "",
        models: listed ? t("test.models", { models: res.models.slice(0, 12).join(", ") }) : null,
      }, true);
    } },
  });
  box.attach({ btn, out });
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
