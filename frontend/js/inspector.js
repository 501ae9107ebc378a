// The context inspector: what the next request holds, section by section, against the budget.
// All text shown here (prompts, memories, messages) goes in with textContent.

import { call } from "./transport.js";
import { t, onLangChange, addStrings } from "./i18n.js";
import { el, clear, errorLine } from "./ui.js";
import { fmtTime } from "./memutil.js";

const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6"];

// The names of the prompt's sections (context.py's Section names), for people.
addStrings({
  zh: { "inspector.section.persona": "人设", "inspector.section.self": "自我认知", "inspector.section.user": "对你的了解",
        "inspector.section.summary": "对话摘要", "inspector.section.world": "时间与天气", "inspector.section.recalled": "回想的记忆",
        "inspector.role.system": "系统", "inspector.role.user": "用户", "inspector.role.assistant": "TA", "inspector.role.tool": "工具" },
  en: { "inspector.section.persona": "Persona", "inspector.section.self": "Self-concept", "inspector.section.user": "User profile",
        "inspector.section.summary": "Summary", "inspector.section.world": "Time & weather", "inspector.section.recalled": "Recalled memories",
        "inspector.role.system": "system", "inspector.role.user": "user", "inspector.role.assistant": "assistant", "inspector.role.tool": "tool" },
});
const named = (kind, name) => { const key = `inspector.${kind}.${name}`; const text = t(key); return text === key ? name : text; };
const sectionName = (name) => named("section", name);

export function createInspector(root) {
  let last = null;
  const draft = el("input#inspector-draft", { type: "text", autocomplete: "off" });
  const refreshBtn = el("button.btn.primary#inspector-refresh", { type: "button", on: { click: () => load() } });
  const draftLabel = el("label.field-label", { for: "inspector-draft" });
  draft.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) load();
  });
  const title = el("h2.section-title");
  const out = el("div.inspector-out#inspector-out");
  root.append(title, el("div.inspector-controls", {}, draftLabel, el("div.field-input.inline", {}, draft, refreshBtn)), out);

  function bar(parts, total) {
    const track = el("div.stack-track");
    parts.forEach((p, i) => {
      if (!p.tokens) return;
      const seg = el("div.stack-seg", { title: `${p.label}: ${p.tokens}` });
      seg.style.width = `${Math.max(0, (p.tokens / total) * 100)}%`;
      seg.style.background = `var(${p.color || PALETTE[i % PALETTE.length]})`;
      track.append(seg);
    });
    return track;
  }

  function render() {
    title.textContent = t("inspector.title");
    draftLabel.textContent = t("inspector.draft");
    refreshBtn.textContent = t("inspector.refresh");
    clear(out);
    if (!last) return;
    if (!last.ok) {
      out.append(el("p.field-error", { text: errorLine(last.error) }));
      return;
    }
    const r = last;
    const budget = r.budget || 1;
    const sections = r.sections || [];
    const sectionSum = sections.reduce((a, s) => a + (s.tokens || 0), 0);
    const overhead = Math.max(0, (r.prompt_tokens || 0) - sectionSum - (r.history_tokens || 0) - (r.current_tokens || 0));
    const parts = [
      ...sections.map((s, i) => ({ label: sectionName(s.name), tokens: s.tokens, color: PALETTE[i % PALETTE.length] })),
      { label: t("inspector.overhead"), tokens: overhead, color: "--c-overhead" },
      { label: t("inspector.history"), tokens: r.history_tokens, color: "--c-history" },
      { label: t("inspector.current"), tokens: r.current_tokens, color: "--c-current" },
      { label: t("inspector.reply"), tokens: r.reply_tokens, color: "--c-reply" },
    ];
    const used = parts.reduce((a, p) => a + (p.tokens || 0), 0);
    const legend = el("div.legend");
    for (const p of parts) {
      const sw = el("span.swatch");
      sw.style.background = `var(${p.color})`;
      legend.append(el("span.legend-item", {}, sw, `${p.label} ${p.tokens ?? 0}`));
    }
    const free = el("span.legend-item", {}, el("span.swatch.free"), `${t("inspector.free")} ${Math.max(0, budget - used)}`);
    legend.append(free);
    out.append(
      el("p.summary", {
        text: t("inspector.budget", {
          budget: r.budget,
          prompt: r.prompt_tokens,
          history: r.history_tokens,
          current: r.current_tokens,
          reply: r.reply_tokens,
        }),
      }),
      el("p.muted", { text: t("inspector.window", { start: r.window_start ?? 0, dropped: r.dropped_turns ?? 0 }) }),
      bar(parts, Math.max(budget, used)),
      legend,
    );

    out.append(el("h3.subsection-title", { text: t("inspector.sections") }));
    for (const [i, s] of sections.entries()) {
      const cap = s.cap || budget;
      const fill = el("div.meter-fill");
      fill.style.width = `${Math.min(100, (s.tokens / cap) * 100)}%`;
      fill.style.background = `var(${PALETTE[i % PALETTE.length]})`;
      const head = el(
        "summary.section-head",
        {},
        el("span.section-name", { text: sectionName(s.name) }),
        el("span.meter", {}, fill),
        el("span.section-tokens", { text: `${s.tokens}${s.cap ? ` / ${s.cap}` : ""}` }),
      );
      out.append(el("details.inspector-section", { dataset: { name: s.name } }, head, el("pre.code", { text: s.text || "" })));
    }

    out.append(el("h3.subsection-title", { text: t("inspector.messages") }));
    for (const m of r.messages || []) {
      let text = typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2);
      if (m.tool_calls) text += `\n${JSON.stringify(m.tool_calls, null, 2)}`;
      out.append(
        el("details.inspector-message", { dataset: { role: m.role } },
          el("summary", {}, el("span.role", { text: named("role", m.role) }), el("span.muted", { text: ` ${text.slice(0, 80).replace(/\s+/g, " ")}` })),
          el("pre.code", { text })),
      );
    }

    out.append(el("h3.subsection-title", { text: t("inspector.lastRecall") }));
    const recall = r.last_recall || [];
    if (!recall.length) out.append(el("p.muted", { text: t("inspector.noRecall") }));
    const ul = el("ul.recall-list");
    for (const item of recall) {
      const fmt = (x) => (typeof x === "number" ? x.toFixed(3) : "–");
      ul.append(el("li", {}, el("span", { text: item.title || item.uuid }), el("span.muted", { text: ` ${t("inspector.score", { score: fmt(item.score), sim: fmt(item.similarity) })}` })));
    }
    out.append(ul);
    renderRejected(r.rejected || []);
    renderCheckins(r.checkins || []);
  }

  // The latest check-ins the companion started, each with the diary entry it came from.
  function renderCheckins(items) {
    out.append(el("h3.subsection-title", { text: t("inspector.checkins") }));
    if (!items.length) {
      out.append(el("p.muted", { text: t("inspector.noCheckins") }));
      return;
    }
    const list = el("ul.recall-list.inspector-checkins");
    for (const f of items) {
      list.append(el("li", { dataset: { id: String(f.id) } },
        el("span", { text: `${f.what} (${f.when})` }),
        el("span.muted", { text: ` ${fmtTime(f.asked_at)}` }),
        el("div.muted", { text: t("inspector.checkinFrom", { title: f.title || f.entry }) })));
    }
    out.append(list);
  }

  // Housekeeping outputs the engine did not store (junk from the model), newest first.
  function renderRejected(items) {
    out.append(el("h3.subsection-title", { text: t("inspector.rejected") }));
    if (!items.length) {
      out.append(el("p.muted", { text: t("inspector.noRejected") }));
      return;
    }
    const list = el("ul.recall-list.inspector-rejected");
    for (const item of items) {
      const head = `${t(`inspector.kind.${item.kind}`)} · ${t(`inspector.reason.${item.reason}`)}`;
      const row = el("li", {}, el("span", { text: head }), el("span.muted", { text: ` ${fmtTime(item.at)}` }));
      if (item.detail) row.append(el("div.muted", { text: item.detail }));
      list.append(row);
    }
    out.append(list);
  }

  async function load() {
    const text = draft.value.trim();
    last = await call("context_preview", text ? { text } : {});
    render();
  }

  onLangChange(render);
  render();
  return { load };
}
