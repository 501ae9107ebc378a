// The relationship over time: one bar per conversation on a time axis (diary_timeline).
// Drawn as SVG with createElementNS; every title goes in through textContent.

import { t } from "./i18n.js";
import { toDate, fmtDate, fmtClock, fmtSpan, fmtDuration } from "./memutil.js";

const NS = "http://www.w3.org/2000/svg";
const HEIGHT = 150;
const PAD = { left: 12, right: 12, top: 24, bottom: 26 };
const LABEL_GAP = 96; // px between two labelled marks
const LABEL_CHARS = 10;
const MIN_BAR = 5;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const evenly = (lo, span, n) => Array.from({ length: n + 1 }, (_, i) => lo + (span * i) / n);

/** At most about n+1 round local times (every 5 min … 12 h) between lo and hi. */
function roundTimes(lo, hi, n) {
  const step = [5, 10, 15, 30, 60, 120, 180, 360, 720].map((m) => m * 60_000).find((s) => (hi - lo) / s <= n) || 86400_000;
  const off = new Date(lo).getTimezoneOffset() * 60_000; // local midnight and hours are round
  const out = [];
  for (let ms = Math.ceil((lo - off) / step) * step + off; ms <= hi; ms += step) out.push(ms);
  return out;
}

/** Draw `conversations` into `container`; onPick(conversation) when a mark is chosen. */
export function drawTimeline(container, conversations, onPick) {
  while (container.firstChild) container.firstChild.remove();
  const items = (conversations || [])
    .map((c) => ({ c, a: toDate(c.start_time), b: toDate(c.end_time) || toDate(c.start_time) }))
    .filter((x) => x.a);
  const width = Math.max(320, Math.floor(container.clientWidth || 720));
  const root = svg("svg", {
    class: "timeline-svg",
    id: "timeline-svg",
    viewBox: `0 0 ${width} ${HEIGHT}`,
    width: "100%",
    height: HEIGHT,
    role: "img",
    "aria-label": t("diary.timelineLabel", { n: items.length }),
  });
  root.append(svg("title", {}, t("diary.timelineLabel", { n: items.length })));
  container.append(root);
  const baseY = HEIGHT - PAD.bottom;
  root.append(svg("line", { class: "tl-axis", x1: PAD.left, y1: baseY, x2: width - PAD.right, y2: baseY }));
  if (!items.length) {
    root.append(svg("text", { class: "tl-empty", x: width / 2, y: baseY / 2 + 6, "text-anchor": "middle" }, t("diary.timelineEmpty")));
    return root;
  }
  let lo = Math.min(...items.map((x) => x.a.getTime()));
  let hi = Math.max(...items.map((x) => Math.max(x.a.getTime(), x.b.getTime())));
  if (hi - lo < 3600_000) {
    // One short stretch: give the axis an hour either side so the bars have room.
    lo -= 3600_000;
    hi += 3600_000;
  }
  const span = hi - lo;
  const innerW = width - PAD.left - PAD.right - MIN_BAR;
  const x = (ms) => PAD.left + ((ms - lo) / span) * innerW;
  const maxMsgs = Math.max(1, ...items.map((i) => Number(i.c.messages) || 0));
  const innerH = baseY - PAD.top;

  // Ticks: about one per 140 px, labelled by date; when two ticks can fall on one
  // day, at round times of day instead (the date only where the day changes).
  const ticks = Math.max(2, Math.min(8, Math.floor(width / 140)));
  const sameYear = new Date(lo).getFullYear() === new Date(hi).getFullYear();
  const byTime = span / ticks < 86400_000;
  let prevDay = "";
  for (const [i, ms] of (byTime ? roundTimes(lo, hi, ticks) : evenly(lo, span, ticks)).entries()) {
    const tx = x(ms);
    root.append(svg("line", { class: "tl-tick", x1: tx, y1: baseY, x2: tx, y2: baseY + 4 }));
    root.append(svg("line", { class: "tl-grid", x1: tx, y1: PAD.top, x2: tx, y2: baseY }));
    const anchor = tx < PAD.left + 40 ? "start" : tx > width - PAD.right - 40 ? "end" : "middle";
    let text = fmtDate(ms, !sameYear || i === 0 || i === ticks);
    if (byTime) {
      const day = new Date(ms).toDateString();
      text = day === prevDay ? fmtClock(ms) : `${fmtDate(ms, !sameYear)} ${fmtClock(ms)}`;
      prevDay = day;
    }
    root.append(svg("text", { class: "tl-label", x: tx, y: HEIGHT - 8, "text-anchor": anchor }, text));
  }

  const marks = svg("g", { class: "tl-marks" });
  const labels = svg("g", { class: "tl-titles", "aria-hidden": "true" });
  root.append(marks, labels);
  let lastLabel = -Infinity;
  for (const { c, a, b } of items) {
    const n = Number(c.messages) || 0;
    const h = Math.max(6, Math.sqrt(n / maxMsgs) * innerH);
    const x1 = x(a.getTime());
    const w = Math.max(MIN_BAR, x(b.getTime()) - x1);
    const label = `${c.title || t("diary.untitled")}\n${fmtSpan(c.start_time, c.end_time)} · ${fmtDuration(c.start_time, c.end_time)} · ${t("diary.messages", { n })}`;
    const mark = svg("rect", {
      class: "tl-mark",
      x: x1.toFixed(1),
      y: (baseY - h).toFixed(1),
      width: w.toFixed(1),
      height: h.toFixed(1),
      rx: 2,
      tabindex: 0,
      role: "button",
      "aria-label": label.replace("\n", " — "),
      "data-uuid": c.uuid || "",
      "data-messages": n,
    });
    mark.append(svg("title", {}, label));
    const pick = () => onPick && onPick(c, mark);
    mark.addEventListener("click", pick);
    mark.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        pick();
      }
    });
    marks.append(mark);
    // A short title above the bar where there is room for it.
    const cx = x1 + w / 2;
    if (cx - lastLabel >= LABEL_GAP) {
      const title = String(c.title || t("diary.untitled"));
      const short = title.length > LABEL_CHARS ? `${title.slice(0, LABEL_CHARS)}…` : title;
      const edge = cx < PAD.left + 50 ? "start" : cx > width - PAD.right - 50 ? "end" : "middle";
      const lx = edge === "start" ? x1 : edge === "end" ? x1 + w : cx;
      labels.append(svg("text", { class: "tl-title", x: lx.toFixed(1), y: (baseY - h - 6).toFixed(1), "text-anchor": edge }, short));
      lastLabel = cx;
    }
  }
  return root;
}
