// Memory → Diary: the timeline card. Loads the conversations (diary_timeline), draws
// them (timeline.js), redraws when its width changes, and names the one picked with an
// "open" button: onOpen(conversation) opens it in the diary list.

import { call } from "./transport.js";
import { t } from "./i18n.js";
import { el, clear } from "./ui.js";
import { errorText, fmtSpan, fmtDuration } from "./memutil.js";
import { drawTimeline } from "./timeline.js";

export function createTimelineCard(onOpen) {
  let conversations = [];
  let seq = 0; // answers of older calls are dropped
  let picked = null; // the conversation chosen (named again on a language change)
  const box = el("div.timeline#diary-timeline");
  const pickLine = el("div.timeline-pick#timeline-pick", { role: "status" });
  const card = el(
    "section.card#diary-timeline-card",
    {},
    el("h2.card-title", { dataset: { i18n: "diary.timeline" } }),
    el("p.field-help", { dataset: { i18n: "diary.timelineHelp" } }),
    box,
    pickLine,
  );

  async function load() {
    const mine = ++seq;
    const res = await call("diary_timeline");
    if (mine !== seq) return;
    if (!res.ok) {
      clear(box);
      box.append(el("div.field-error", { role: "alert", text: errorText(res.error) }));
      return;
    }
    conversations = Array.isArray(res.conversations) ? res.conversations : [];
    paint();
  }

  function paint() {
    drawTimeline(box, conversations, (c) => pick(c));
  }

  function pick(c) {
    picked = c;
    clear(pickLine);
    const openBtn = el("button.btn.small#timeline-open", { type: "button", text: t("diary.open") });
    pickLine.append(
      el("strong", { text: c.title || t("diary.untitled") }),
      el("span.muted", { text: ` · ${fmtSpan(c.start_time, c.end_time)} · ${fmtDuration(c.start_time, c.end_time)} · ${t("diary.messages", { n: Number(c.messages) || 0 })} ` }),
      openBtn,
    );
    openBtn.addEventListener("click", () => onOpen(c));
  }

  let lastWidth = 0;
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      const w = box.clientWidth;
      if (w && Math.abs(w - lastWidth) > 8) {
        lastWidth = w;
        paint();
      }
    }).observe(box);
  }

  /** Draw again in the current language. */
  function relabel() {
    paint();
    if (picked) pick(picked);
  }

  return { card, load, relabel };
}
