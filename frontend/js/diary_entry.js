// Memory → Diary: the parts of one open entry. Its archived conversation, its
// follow-ups (each can be forgotten: diary_follow_up_delete) and the edit form
// (diary_update). Model and user text always goes in as text, never HTML.

import { call } from "./transport.js";
import { t } from "./i18n.js";
import { el, toast } from "./ui.js";
import { errorText, fmtTime } from "./memutil.js";

/** The archived messages; `hits` (message ids) are marked as what a search matched. */
export function archivedMessages(msgs, hits, who) {
  const box = el("details.archived", { open: msgs.length > 0 && (msgs.length <= 30 || hits.size > 0) });
  box.append(el("summary", { text: t("diary.archived", { n: msgs.length }) }));
  if (!msgs.length) {
    box.append(el("p.muted", { text: t("diary.noArchived") }));
    return box;
  }
  const ol = el("ol.arch-list");
  for (const m of msgs) {
    const role = m.role === "user" ? "user" : m.role === "assistant" ? "assistant" : "tool";
    const content = m.content ?? "";
    if (role === "assistant" && !String(content).trim()) continue; // a recall request
    const label = role === "user" ? who.user : role === "assistant" ? who.self : t("diary.recallNote");
    ol.append(
      el(
        `li.arch-msg.${role}${hits.has(m.id) ? ".hit" : ""}`,
        { dataset: { id: String(m.id ?? "") } },
        el("div.arch-meta", {}, el("span.arch-role", { text: label }), el("span.arch-time", { text: fmtTime(m.timestamp) })),
        el("div.arch-content", { text: String(content) }),
      ),
    );
  }
  box.append(ol);
  return box;
}

/** What the user said would happen, noted with this entry; onForgotten(id) after one
 *  is forgotten, failures go to itemError. */
export function followUpList(items, itemError, onForgotten) {
  const box = el("div.diary-followups", { hidden: !items.length });
  if (!items.length) return box;
  const ul = el("ul.followup-list");
  for (const f of items) {
    const meta = f.asked_at ? ` · ${t("diary.followUpAsked", { time: fmtTime(f.asked_at) })}` : "";
    const forget = el("button.btn.small.ghost.followup-delete", { type: "button", text: t("diary.followUpForget") });
    forget.addEventListener("click", async () => {
      forget.disabled = true;
      const res = await call("diary_follow_up_delete", { id: f.id });
      if (!res.ok) {
        forget.disabled = false;
        itemError.textContent = errorText(res.error);
        return;
      }
      onForgotten(f.id);
      toast(t("diary.followUpForgotten"));
    });
    ul.append(el("li.followup", { dataset: { id: String(f.id) } },
      el("span.followup-what", { text: String(f.what) }), // the user's words: never HTML
      el("span.followup-when.muted", { text: ` ${String(f.when)}${meta}` }),
      forget));
  }
  box.append(el("div.muted", { text: t("diary.followUps"), title: t("diary.followUpsHelp") }), ul);
  return box;
}

/** The edit form's nodes for `entry`: onSaved(changed fields) once diary_update took
 *  them, onCancel() otherwise. Call focus() once the nodes are shown. */
export function editForm(entry, { onSaved, onCancel }) {
  const title = el("input.diary-edit-title", { type: "text", maxlength: "200", "aria-label": t("diary.editTitle") });
  title.value = entry.title || "";
  const summary = el("textarea.diary-edit-summary.mem-text", { rows: 6, "aria-label": t("diary.editSummary") });
  summary.value = entry.summary || "";
  const itemError = el("div.field-error.diary-item-error", { role: "alert" });
  const save = el("button.btn.primary.small.diary-save", { type: "button", text: t("diary.save") });
  const cancel = el("button.btn.small.diary-cancel", { type: "button", text: t("common.cancel") });
  save.addEventListener("click", async () => {
    itemError.textContent = "";
    if (!title.value.trim() || !summary.value.trim()) {
      itemError.textContent = t("diary.titleRequired");
      return;
    }
    save.disabled = true;
    const res = await call("diary_update", { uuid: entry.uuid, title: title.value.trim(), summary: summary.value });
    save.disabled = false;
    if (!res.ok) {
      itemError.textContent = errorText(res.error); // the typed text stays in the fields
      return;
    }
    onSaved(res.entry || { title: title.value.trim(), summary: summary.value });
    toast(t("diary.saved"));
    // Saved, but e.g. the embedder failed: full-text search finds it; the vector comes later.
    for (const w of res.warnings || []) toast(String(w), "warn");
  });
  cancel.addEventListener("click", () => onCancel());
  const nodes = [
    el("label.field-label", { text: t("diary.editTitle") }),
    title,
    el("label.field-label", { text: t("diary.editSummary") }),
    summary,
    itemError,
    el("div.card-actions", {}, save, cancel),
  ];
  return { nodes, focus: () => title.focus() };
}
