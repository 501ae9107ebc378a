// Memory → Diary: entries newest first (diary_list, paged), hybrid search (diary_search),
// one entry with its archived conversation (diary_get), delete (diary_delete); the open
// entry's parts, edit and follow-ups included, are in diary_entry.js; the timeline card
// of conversations (diary_timeline) is timeline_card.js.

import { call } from "./transport.js";
import { t, colon, onLangChange } from "./i18n.js";
import { el, clear, confirmDialog, toast } from "./ui.js";
import { errorBox, errorText, fmtTime, fmtSpan, fmtDuration } from "./memutil.js";
import { archivedMessages, editForm, followUpList } from "./diary_entry.js";
import { createTimelineCard } from "./timeline_card.js";

const PAGE = 50;

export function createDiary(root, { getInfo, onChanged }) {
  let entries = []; // what the list shows (entries or search hits)
  let total = 0;
  let mode = "list"; // "list" | "search"
  let query = "";
  let meaning = false; // the search shows entries close in meaning too (second step)
  let loadedOnce = false;
  const views = new Map(); // uuid -> item view
  let listSeq = 0; // answers of older list/search calls are dropped

  const error = errorBox("diary-error");

  const timeline = createTimelineCard((c) => openFromTimeline(c));

  // ---- search + list -----------------------------------------------------
  const search = el("input#diary-search", {
    type: "search",
    autocomplete: "off",
    dataset: { i18nPlaceholder: "diary.searchPlaceholder" },
    on: { keydown: (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        runSearch();
      }
    } },
  });
  const searchBtn = el("button.btn.primary#diary-search-btn", { type: "button", dataset: { i18n: "diary.search" }, on: { click: () => runSearch() } });
  const clearBtn = el("button.btn.ghost#diary-search-clear", { type: "button", dataset: { i18n: "diary.showAll" }, hidden: true, on: { click: () => {
    search.value = "";
    loadList();
  } } });
  const count = el("div.list-count#diary-count", { role: "status" });
  const list = el("ol.diary-list#diary-list");
  // A search finds what contains the words; by meaning is a second step the user asks for.
  const meaningBtn = el("button.btn.ghost#diary-meaning", { type: "button", dataset: { i18n: "diary.byMeaning" }, hidden: true, on: { click: () => runSearch(true) } });
  const more = el("button.btn#diary-more", { type: "button", dataset: { i18n: "diary.more" }, hidden: true, on: { click: () => loadList(true) } });
  const listCard = el(
    "section.card#diary-list-card",
    {},
    el("h2.card-title#diary-title"),
    el("div.search-row", {}, search, searchBtn, clearBtn),
    count,
    list,
    meaningBtn,
    more,
  );

  root.append(error.node, timeline.card, listCard);

  function names() {
    const info = getInfo() || {};
    return { self: info.self_name || t("diary.ai"), user: info.user_name || t("chat.you") };
  }

  function renderTitle() {
    listCard.querySelector("#diary-title").textContent = t("diary.title", { name: names().self });
  }

  function renderCount() {
    if (mode === "search") count.textContent = t(meaning ? "diary.hitsMeaning" : "diary.hits", { n: entries.length, query });
    else count.textContent = t("diary.count", { n: total });
  }

  // ---- items -------------------------------------------------------------
  function itemView(entry) {
    const titleNode = el("span.diary-item-title");
    const timeNode = el("span.diary-item-time");
    const tag = el("span.tag");
    const score = el("span.diary-score");
    const head = el(
      "button.diary-head",
      { type: "button", "aria-expanded": "false" },
      el("span.diary-head-main", {}, titleNode, timeNode),
      score,
      tag,
    );
    const body = el("div.diary-body", { hidden: true });
    const match = el("p.diary-match", { hidden: true });
    const node = el("li.diary-item", { dataset: { uuid: entry.uuid } }, head, match, body);
    const view = { entry, node, head, body, open: false, editing: false, detail: null };
    head.addEventListener("click", () => toggle(view));

    view.paint = () => {
      const e = view.entry;
      titleNode.textContent = e.title || t("diary.untitled");
      timeNode.textContent = fmtTime(e.start_time);
      const quote = mode === "search" && Array.isArray(e.evidence) ? e.evidence[0] : null;
      match.hidden = !quote;
      match.textContent = quote ? String(quote.text) : ""; // model and user text: never HTML
      if (mode === "search" && typeof e.score === "number") {
        score.textContent = t("diary.score", { score: e.score.toFixed(2) });
        tag.hidden = e.text_match !== false; // found by meaning only: said so
        tag.className = "tag near-meaning";
        tag.textContent = t("diary.nearMeaning");
      } else {
        score.textContent = "";
        tag.hidden = typeof e.indexed !== "boolean";
        tag.className = `tag ${e.indexed ? "indexed" : "unindexed"}`;
        tag.textContent = t(e.indexed ? "diary.indexed" : "diary.unindexed");
      }
    };
    view.paint();
    return view;
  }

  async function toggle(view) {
    view.open = !view.open;
    view.head.setAttribute("aria-expanded", view.open ? "true" : "false");
    view.node.classList.toggle("open", view.open);
    view.body.hidden = !view.open;
    if (view.open && !view.detail) await fetchDetail(view);
  }

  async function fetchDetail(view) {
    clear(view.body);
    view.body.append(el("p.muted", { text: t("common.loading") }));
    const res = await call("diary_get", { uuid: view.entry.uuid });
    clear(view.body);
    if (!res.ok) {
      view.body.append(el("div.field-error.diary-item-error", { role: "alert", text: errorText(res.error) }));
      return;
    }
    view.detail = res;
    if (res.entry) view.entry = { ...view.entry, ...res.entry };
    view.paint();
    renderBody(view);
  }

  function renderBody(view) {
    clear(view.body);
    const e = view.entry;
    const msgs = (view.detail && view.detail.messages) || [];
    const itemError = el("div.field-error.diary-item-error", { role: "alert" });
    const actions = el(
      "div.card-actions",
      {},
      el("button.btn.small.diary-edit", { type: "button", text: t("diary.edit"), on: { click: () => startEdit(view) } }),
      el("button.btn.small.danger.diary-delete", { type: "button", text: t("diary.delete"), on: { click: () => remove(view, itemError) } }),
    );
    const hits = new Set(mode === "search" && Array.isArray(e.evidence) ? e.evidence.map((q) => q.id) : []);
    const box = archivedMessages(msgs, hits, names());
    view.body.append(
      el("div.diary-span", {}, el("span.muted", { text: `${t("diary.span")}${colon()}` }), fmtSpan(e.start_time, e.end_time), el("span.muted", { text: ` · ${fmtDuration(e.start_time, e.end_time)}` })),
      el("div.diary-summary", { text: e.summary || "" }),
      followUpList((view.detail && view.detail.follow_ups) || [], itemError, (id) => {
        view.detail.follow_ups = view.detail.follow_ups.filter((x) => x.id !== id);
        renderBody(view);
      }),
      actions,
      itemError,
      box,
    );
    // A search hit opens at the message that matched.
    const first = box.querySelector(".arch-msg.hit");
    if (first) first.scrollIntoView({ block: "center" });
  }

  function startEdit(view) {
    view.editing = true;
    clear(view.body);
    const form = editForm(view.entry, {
      onSaved: (changed) => {
        view.entry = { ...view.entry, ...changed };
        view.editing = false;
        view.paint();
        renderBody(view);
        timeline.load();
      },
      onCancel: () => {
        view.editing = false;
        renderBody(view);
      },
    });
    view.body.append(...form.nodes);
    form.focus();
  }

  async function remove(view, itemError) {
    const ok = await confirmDialog(
      t("diary.confirmDeleteTitle"),
      t("diary.confirmDelete", { title: view.entry.title || t("diary.untitled") }),
      t("diary.delete"),
    );
    if (!ok) return;
    const res = await call("diary_delete", { uuid: view.entry.uuid });
    if (!res.ok) {
      itemError.textContent = errorText(res.error);
      return;
    }
    view.node.remove();
    views.delete(view.entry.uuid);
    entries = entries.filter((e) => e.uuid !== view.entry.uuid);
    total = Math.max(0, total - 1);
    renderCount();
    toast(t("diary.deleted"));
    timeline.load();
    onChanged();
  }

  function renderEntries(append) {
    // A reload keeps entries the user has open (and any edit in progress) as they are.
    const old = new Map(views);
    if (!append) {
      clear(list);
      views.clear();
    }
    for (const e of entries) {
      if (views.has(e.uuid)) continue;
      let view = old.get(e.uuid);
      if (view && (view.open || view.editing)) {
        if (!view.editing) view.entry = { ...view.entry, ...e };
        view.paint();
      } else view = itemView(e);
      views.set(e.uuid, view);
      list.append(view.node);
    }
    const none = mode !== "search" ? "diary.empty" : meaning ? "diary.noHits" : "diary.noWords";
    if (!entries.length) list.append(el("li.muted.list-empty", { text: t(none) }));
    renderCount();
    more.hidden = mode !== "list" || entries.length >= total;
    clearBtn.hidden = mode !== "search";
    meaningBtn.hidden = mode !== "search" || meaning;
  }

  async function loadList(append = false) {
    const seq = ++listSeq;
    const offset = append ? entries.length : 0;
    more.disabled = true;
    const res = await call("diary_list", { offset, limit: PAGE });
    more.disabled = false;
    if (seq !== listSeq) return; // a newer list or search replaced this one
    mode = "list";
    if (!res.ok) {
      error.show(res.error);
      return;
    }
    error.hide();
    const got = Array.isArray(res.entries) ? res.entries : [];
    entries = append ? [...entries, ...got] : got;
    total = Number.isFinite(res.total) ? res.total : entries.length;
    if (append) list.querySelector(".list-empty")?.remove();
    renderEntries(append);
  }

  async function runSearch(byMeaning = false) {
    const q = byMeaning ? query : search.value.trim();
    if (!q) {
      loadList();
      return;
    }
    const seq = ++listSeq;
    searchBtn.disabled = true;
    const res = await call("diary_search", { query: q, k: 20, meaning: byMeaning });
    searchBtn.disabled = false;
    if (seq !== listSeq) return;
    if (!res.ok) {
      error.show(res.error); // the query stays in the box
      return;
    }
    error.hide();
    mode = "search";
    query = q;
    meaning = byMeaning;
    entries = Array.isArray(res.hits) ? res.hits : [];
    renderEntries(false);
  }

  // The conversation picked on the timeline, opened in the list.
  async function openFromTimeline(c) {
    let view = views.get(c.uuid);
    if (!view) {
      // Not on the loaded page(s): show it on its own at the top of the list.
      view = itemView({ uuid: c.uuid, title: c.title, start_time: c.start_time, end_time: c.end_time });
      views.set(c.uuid, view);
      list.prepend(view.node);
    }
    if (!view.open) await toggle(view);
    view.node.scrollIntoView({ block: "nearest" });
    view.head.focus();
  }

  /** Reload list and timeline. */
  async function load(force = false) {
    // Open entries and edits in progress survive a reload (renderEntries keeps them).
    renderTitle();
    if (mode === "search" && loadedOnce && !force) await runSearch();
    else await loadList();
    loadedOnce = true;
    await timeline.load();
  }

  onLangChange(() => {
    renderTitle();
    for (const view of views.values()) {
      view.paint();
      if (view.open && view.detail && !view.editing) renderBody(view);
    }
    renderCount();
    if (!entries.length) renderEntries(false);
    timeline.relabel();
  });

  return { load, renderTitle };
}
