// Shared helpers for the memory pages: times, sizes, inline error boxes.
// Text goes into the DOM through textContent only (via el()).

import { t, getLang, addStrings } from "./i18n.js";
import { el, errorTitle, errorLine, saysItAll } from "./ui.js";

// English singulars of the memory pages' counts (t() takes "key.one" when n is 1).
addStrings({
  en: {
    "time.days.one": "1 day",
    "diary.count.one": "1 diary entry",
    "diary.messages.one": "1 message",
    "diary.archived.one": "The original conversation (1 message)",
    "diary.timelineLabel.one": "Timeline of 1 conversation",
  },
});

/** A Date from ms since the epoch, seconds, or an ISO string; null if unusable. */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  let d;
  if (typeof value === "number") d = new Date(value < 1e11 ? value * 1000 : value);
  else if (/^\d+(\.\d+)?$/.test(String(value))) return toDate(Number(value));
  else d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function locale() {
  return getLang() === "zh" ? "zh-CN" : "en-GB";
}

/** The day and month: numbers in Chinese (2025/01/07), the month's name in English
 * (7 Jan 2025: 07/01 reads as July to some readers and as January to others). */
function dayMonth() {
  return getLang() === "zh" ? { month: "2-digit", day: "2-digit" } : { month: "short", day: "numeric" };
}

/** Date and time in the UI language: "2025/01/07 10:00", "7 Jan 2025, 10:00". */
export function fmtTime(value) {
  const d = toDate(value);
  if (!d) return "–";
  return new Intl.DateTimeFormat(locale(), {
    year: "numeric", ...dayMonth(), hour: "2-digit", minute: "2-digit",
  }).format(d);
}

export function fmtDate(value, withYear = true) {
  const d = toDate(value);
  if (!d) return "–";
  const opts = withYear ? { year: "numeric", ...dayMonth() } : dayMonth();
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

/** "10:00": the time of day only. */
export function fmtClock(value) {
  const d = toDate(value);
  if (!d) return "–";
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(d);
}

/** "10:00 – 11:30" on one day, otherwise two full times. */
export function fmtSpan(start, end) {
  const a = toDate(start);
  const b = toDate(end);
  if (!a) return fmtTime(end);
  if (!b || b.getTime() === a.getTime()) return fmtTime(start);
  if (a.toDateString() === b.toDateString()) {
    const hm = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit" }).format(b);
    return `${fmtTime(start)} – ${hm}`;
  }
  return `${fmtTime(start)} – ${fmtTime(end)}`;
}

/** A duration in minutes/hours/days from two times. */
export function fmtDuration(start, end) {
  const a = toDate(start);
  const b = toDate(end);
  if (!a || !b) return "–";
  const mins = Math.max(0, Math.round((b - a) / 60000));
  if (mins < 60) return t("time.minutes", { n: mins });
  const hours = mins / 60;
  if (hours < 48) return t("time.hours", { n: Math.round(hours * 10) / 10 });
  return t("time.days", { n: Math.round(hours / 24) });
}

export function fmtSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** "Title: message" for a bridge error. */
export function errorText(error) {
  if (!error) return t("error.generic");
  const msg = error.message ? String(error.message) : "";
  return msg ? errorLine(error) : errorTitle(error);
}

/** An inline error box (role=alert) with a dismiss button; show(error|string) / hide(). */
export function errorBox(id) {
  const title = el("strong.banner-title");
  const msg = el("span.banner-msg");
  const node = el(
    "div.banner.mem-error",
    { id, role: "alert", hidden: true },
    el("div.banner-text", {}, title, msg),
    el("div.banner-actions", {}, el("button.btn.ghost.small", {
      type: "button",
      text: t("banner.dismiss"),
      on: { click: () => hide() },
    })),
  );
  function hide() {
    node.hidden = true;
    title.textContent = "";
    msg.textContent = "";
  }
  function show(error) {
    if (typeof error === "string") {
      title.textContent = error;
      msg.textContent = "";
    } else {
      const whole = saysItAll(error); // the message alone, as the chat banner shows it
      title.textContent = whole ? String(error.message) : errorTitle(error);
      msg.textContent = !whole && error && error.message ? String(error.message) : "";
    }
    node.querySelector("button").textContent = t("banner.dismiss");
    node.hidden = false;
  }
  return { node, show, hide };
}

/** Trim to n characters with an ellipsis. */
export function preview(text, n = 80) {
  const s = String(text || "").replace(/\s+/g, " ").trim();
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
