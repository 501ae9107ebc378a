// The chat page: history, streamed replies, reasoning, gauge, memory buttons, error banner.
// Model output is plain text: it only ever reaches the DOM through textContent.

import { call, on } from "./transport.js";
import { t, applyStatic, onLangChange } from "./i18n.js";
import { el, clear, confirmDialog, toast, progressBar } from "./ui.js";
import { createAttachTray } from "./attach.js";
import { createChatVoice } from "./voice/index.js";
import { userNode, assistantView } from "./chat_messages.js";
import { createBanner } from "./chat_banner.js";
import { newTurnId, stopButton, placeRedoButtons, editInPlace, attachIfLong, longPasteHandler } from "./chatctl.js";

const CHECKIN_POLL_MS = 5 * 60 * 1000; // while the page is open: a check-in due? (no model call unless one is)

export function createChat(root, { getInfo, navigate, setStatus, openSetup, onNamed }) {
  let pending = null; // the turn in flight: {kind: send/regenerate/edit, text, user, view, done, turnId}
  let busy = false;
  let checkinTimer = null;
  let canRedo = false; // the last turn can be regenerated or edited (chat_history's can_regenerate)
  let gauge = null;

  // ---- static layout -------------------------------------------------------
  const modelLine = el("div.model-line#model-line");
  const gaugeFill = el("div.gauge-fill");
  const gaugePct = el("span.gauge-pct");
  const gaugeBox = el(
    "div.gauge#budget-gauge",
    { role: "meter", "aria-valuemin": "0", "aria-valuemax": "100" },
    el("span.gauge-label", { dataset: { i18n: "chat.gauge" } }),
    el("div.gauge-track", {}, gaugeFill),
    gaugePct,
  );
  const consolidateBtn = el("button.btn#btn-consolidate", {
    type: "button",
    dataset: { i18n: "chat.consolidate" },
    on: { click: consolidate },
  });
  const clearBtn = el("button.btn#btn-clear", {
    type: "button",
    dataset: { i18n: "chat.clear" },
    on: { click: clearConversation },
  });
  const taskArea = el("div.task-area#chat-task");
  const toolbarRight = el("div.toolbar-right", {}, consolidateBtn, clearBtn);
  const toolbar = el("div.chat-toolbar", {}, el("div.toolbar-left", {}, modelLine, gaugeBox), toolbarRight);

  const banner = createBanner({ navigate, openSetup });
  const showBanner = banner.show;
  const hideBanner = banner.hide;

  const list = el("div.messages#messages", { role: "log", "aria-live": "polite" });
  const empty = el("div.empty#chat-empty", { dataset: { i18n: "chat.empty" } });
  const input = el("textarea.composer-input#chat-input", {
    rows: 1,
    dataset: { i18nPlaceholder: "chat.placeholder" },
    on: { keydown: onKey, input: autosize },
  });
  const attach = createAttachTray();
  input.addEventListener("paste", attach.onPaste);
  input.addEventListener("paste", longPasteHandler(input, attach)); // a long text becomes an attached text
  const sendBtn = el("button.btn.primary#chat-send", {
    type: "button",
    dataset: { i18n: "chat.send" },
    on: { click: () => send() },
  });
  const stopBtn = stopButton(stop); // replaces Send while a reply streams
  const composerRow = el("div.composer-row", {}, attach.button, attach.picker, input, sendBtn, stopBtn);
  const composer = el("div.composer", {}, attach.tray, composerRow, el("div.composer-hint", { dataset: { i18n: "chat.hint" } }));
  root.append(toolbar, taskArea, banner.node, list, composer);
  list.append(empty);
  // Speech: replies read aloud, Play/Retry on messages, the mic button, voice mode.
  const voice = createChatVoice({ list, composerRow, input, toolbarRight, sendText: (text) => send(text) });
  sendBtn.after(stopBtn); // Stop stands in Send's place, whatever the voice buttons added

  // ---- rendering -----------------------------------------------------------
  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollDown(force) {
    if (force || nearBottom()) list.scrollTop = list.scrollHeight;
  }

  function updateEmpty() {
    empty.hidden = list.querySelector(".msg") !== null;
  }

  let drawn = 0; // histories drawn so far
  function renderHistory(messages) {
    drawn += 1;
    for (const node of list.querySelectorAll(".msg")) node.remove();
    for (const m of messages || []) {
      if (m.role === "user") list.append(userNode(m.content, m.attachments));
      else if (m.role === "assistant") {
        const view = assistantView((v) => voice.decorate(v));
        view.setContent(m.content);
        view.setReasoning(m.reasoning);
        view.setRecalled(m.recalled);
        view.setAttachments(m.attachments);
        if (m.stopped) view.markStopped();
        if (m.cut_off) view.markCutOff();
        view.node.classList.remove("typing");
        if (m.id !== undefined) view.node.dataset.id = String(m.id);
        list.append(view.node);
      }
    }
    updateEmpty();
    updateRedo();
    scrollDown(true);
  }

  function updateRedo() {
    placeRedoButtons(list, canRedo && !busy, { onRegenerate: () => redo(), onEdit: (node) => editInPlace(node, (text) => redo(text)) });
  }

  function renderModelLine() {
    const info = getInfo() || {};
    const text = info.model
      ? t(info.base_url ? "chat.modelAt" : "chat.model", { model: info.model, url: info.base_url })
      : "";
    // The note (e.g. "demo model — tiny") never gets cut off; the address may.
    modelLine.replaceChildren(el("span.model-name", {}, text));
    if (info.model && info.model_note) modelLine.append(el("span.model-note", {}, ` · ${info.model_note}`));
    modelLine.title = modelLine.textContent;
  }

  function renderGauge() {
    // Its room is kept while it has no figure (it comes once the diary is open): the
    // header does not move when it appears.
    gaugeBox.style.visibility = gauge ? "" : "hidden";
    if (!gauge) return;
    const ratio = typeof gauge.ratio === "number" ? gauge.ratio : gauge.used / (gauge.budget || 1);
    const pct = Math.max(0, Math.round(ratio * 100));
    gaugeFill.style.width = `${Math.min(100, pct)}%`;
    // A full window is normal (older turns fold into the summary); only a request
    // over the budget is a fault.
    gaugeBox.classList.toggle("danger", gauge.used > gauge.budget);
    gaugePct.textContent = `${pct}%`;
    gaugeBox.setAttribute("aria-valuenow", String(pct));
    gaugeBox.title = t("chat.gaugeTitle", { used: gauge.used, budget: gauge.budget });
  }

  async function refreshGauge() {
    const res = await call("budget_gauge");
    if (res.ok) {
      gauge = res;
      renderGauge();
    }
  }

  // ---- busy state ----------------------------------------------------------
  function setBusy(value) {
    busy = value;
    sendBtn.disabled = value;
    consolidateBtn.disabled = value;
    clearBtn.disabled = value;
    root.classList.toggle("busy", value);
    setStatus(value ? "busy" : "idle");
    const streaming = value && pending !== null;
    sendBtn.hidden = streaming;
    stopBtn.hidden = !streaming;
    stopBtn.disabled = false;
    updateRedo();
  }

  function stop() {
    if (!pending || pending.done) return;
    stopBtn.disabled = true;
    call("chat_stop", { turn: pending.turnId });
  }

  // ---- sending -------------------------------------------------------------
  function onKey(ev) {
    if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
    ev.preventDefault();
    send();
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  async function send(retryText, retryAttached) {
    let text = retryText !== undefined ? retryText : input.value.trim();
    if ((!text && !attach.count() && !retryAttached) || busy) return { ok: false, error: { type: "Busy", message: "" } };
    if (retryText === undefined && (await attachIfLong(text, attach))) text = ""; // typed too long: attached
    if (busy) return { ok: false, error: { type: "Busy", message: "" } };
    const attached = retryAttached || attach.take();
    if (retryText === undefined) {
      input.value = "";
      autosize();
    }
    hideBanner();
    const user = userNode(text, [
      ...attached.images.map((a) => ({ ...a, kind: "image" })),
      ...attached.files.map((a) => ({ ...a, kind: "file" })),
    ]);
    const view = assistantView((v) => voice.decorate(v));
    view.setContent("");
    list.append(user, view.node);
    updateEmpty();
    scrollDown(true);
    pending = { kind: "send", text, attached, user, view, done: false, turnId: newTurnId() };
    const turn = pending;
    setBusy(true);
    voice.replyStarted(view);
    const res = await call("chat_send", { text, ...attached, turn: turn.turnId });
    if (res.ok) finish(turn, res);
    else fail(turn, res.error);
    if (pending === turn) pending = null;
    setBusy(false);
    input.focus();
    return res;
  }

  /** Regenerate the last reply (``editText`` undefined) or send the last user
   * message again with ``editText``: the last turn is replaced once the new reply is in. */
  async function redo(editText) {
    if (busy) return;
    const users = list.querySelectorAll(".msg.user");
    const user = users[users.length - 1];
    if (!user) return;
    hideBanner();
    const old = [];
    for (let n = user.nextElementSibling; n; n = n.nextElementSibling) if (n.classList.contains("msg")) old.push(n);
    for (const n of old) n.remove();
    if (editText !== undefined) user.querySelector(".msg-content").textContent = editText;
    const view = assistantView((v) => voice.decorate(v));
    view.setContent("");
    list.append(view.node);
    scrollDown(true);
    const kind = editText === undefined ? "regenerate" : "edit";
    pending = { kind, text: editText, user, view, done: false, turnId: newTurnId() };
    const turn = pending;
    setBusy(true);
    voice.replyStarted(view);
    const params = kind === "edit" ? { text: editText, turn: turn.turnId } : { turn: turn.turnId };
    const res = await call(kind === "edit" ? "chat_edit" : "chat_regenerate", params);
    if (res.ok) finish(turn, res);
    else fail(turn, res.error);
    if (pending === turn) pending = null;
    setBusy(false);
  }

  function finish(turn, res) {
    if (turn.done) return;
    turn.done = true;
    const { view } = turn;
    if (typeof res.reply === "string") view.setContent(res.reply);
    if (typeof res.reasoning === "string") view.setReasoning(res.reasoning);
    view.setRecalled(res.recalled);
    view.setAttachments(res.reply_attachments);
    if (res.stopped) view.markStopped();
    if (res.cut_off) view.markCutOff();
    view.node.classList.remove("typing");
    if (res.message_id !== undefined) view.node.dataset.id = String(res.message_id);
    canRedo = true;
    voice.replyDone(view, res);
    for (const notice of res.notices || []) {
      const text = typeof notice === "string" ? notice : notice && notice.message;
      if (text) toast(text);
    }
    if (res.images_unseen) toast(t("attach.unseen"));
    if (res.named && onNamed) onNamed(); // the user's name changed: the pages that show it follow
    if (res.gauge) {
      gauge = res.gauge;
      renderGauge();
    } else refreshGauge();
    scrollDown();
  }

  function fail(turn, error) {
    if (turn.done) return;
    turn.done = true;
    voice.replyFailed(turn.view);
    const stopped = error && error.type === "Stopped"; // before the reply began: nothing was kept
    if (turn.kind !== "send") {
      loadHistory(); // the last turn is as it was
      if (stopped) toast(t("chat.stoppedRedo"));
      else showBanner(error, () => (hideBanner(), redo(turn.text)));
      return;
    }
    turn.view.node.remove();
    if (stopped) {
      turn.user.remove();
      if (!input.value.trim()) input.value = turn.text;
      attach.restore(turn.attached);
      autosize();
      updateEmpty();
      toast(t("chat.stoppedNothing"));
      return;
    }
    turn.user.classList.add("failed");
    turn.user.querySelector(".msg-failed").hidden = false;
    showBanner(error, () => {
      turn.user.remove();
      send(turn.text, turn.attached);
    });
  }

  on("chat.delta", (p) => {
    if (!pending || pending.done || !p) return;
    if (p.kind === "reasoning") pending.view.appendReasoning(p.text || "");
    else pending.view.appendContent(p.text || "");
    scrollDown();
  });
  on("chat.withdraw", () => {
    if (!pending || pending.done) return;
    pending.view.setContent(""); // the reply broke off: it is asked for again
    pending.view.setReasoning("");
  });
  on("chat.recall", (p) => {
    if (pending && !pending.done && p) pending.view.setRecalled(p.titles, true);
  });
  on("chat.done", (p) => {
    if (pending && !pending.done && p && p.ok !== false) finish(pending, p);
    else if (p && p.message_id !== undefined && !busy && !shown(p.message_id)) loadHistory(); // sent from quick chat
  });
  on("chat.error", (p) => {
    if (pending && p) fail(pending, p);
  });

  // ---- memory buttons ------------------------------------------------------
  async function consolidate() {
    if (busy) return;
    const ok = await confirmDialog(
      t("chat.confirmConsolidateTitle"),
      t("chat.confirmConsolidate"),
      t("chat.consolidate"),
    );
    if (!ok) return;
    hideBanner();
    setBusy(true);
    const bar = progressBar(taskArea);
    bar.update(0, 0, t("chat.consolidating", { done: 0, total: "?" }));
    const off = on("task.progress", (p) => {
      if (p && p.task === "consolidate") {
        bar.update(p.done, p.total, t("chat.consolidating", { done: p.done, total: p.total }));
      }
    });
    const res = await call("memory_consolidate");
    off();
    if (res.ok) await loadHistory(); // before the UI unlocks: a late reload would wipe new messages
    bar.remove();
    setBusy(false);
    if (!res.ok) {
      showBanner(res.error, () => {
        hideBanner();
        consolidate();
      });
      return;
    }
    toast(res.entry ? t("chat.consolidated", { title: res.entry.title }) : t("chat.nothingToConsolidate"));
  }

  async function clearConversation() {
    if (busy) return;
    const ok = await confirmDialog(t("chat.confirmClearTitle"), t("chat.confirmClear"), t("chat.clear"));
    if (!ok) return;
    const res = await call("chat_clear");
    if (!res.ok) {
      showBanner(res.error);
      return;
    }
    hideBanner();
    canRedo = false;
    renderHistory([]);
    toast(t("chat.cleared"));
    refreshGauge();
  }

  // A greeting when the user comes back after a long absence, or a check-in about
  // something they said would happen (with the diary entry it came from); null when
  // not due; a failure is ignored: greeting is a nicety, never an error. While the
  // page is open it asks for check-ins only, every CHECKIN_POLL_MS.
  async function greet(checkinOnly = false) {
    if (busy) return;
    const last = [...list.querySelectorAll(".msg")].at(-1) || null; // the greeting's place
    const history = drawn;
    const res = await call("chat_greeting", checkinOnly ? { checkin_only: true } : {});
    if (!res.ok || !res.greeting || shown(res.message_id)) return;
    const view = assistantView((v) => voice.decorate(v));
    view.setContent(res.greeting);
    view.node.dataset.id = String(res.message_id);
    if (res.checkin && res.checkin.title) view.setRecalled([res.checkin.title]);
    view.node.classList.remove("typing");
    // A message sent while the greeting was written comes after it, as it is stored
    // (the app writes one at a time): the greeting goes before that message. (A
    // history drawn again meanwhile, or its last message gone: the greeting goes last.)
    const msgs = [...list.querySelectorAll(".msg")];
    const at = last === null ? 0 : msgs.indexOf(last) + 1;
    const inPlace = history === drawn && (last === null || at > 0);
    const sentSince = inPlace ? msgs[at] : undefined;
    if (sentSince) list.insertBefore(view.node, sentSince);
    else {
      list.append(view.node);
      canRedo = false; // a greeting ends the last turn: nothing to redo
    }
    updateRedo();
    updateEmpty();
    scrollDown(true);
    await refreshGauge();
  }

  const shown = (id) => [...list.querySelectorAll("[data-id]")].some((n) => n.dataset.id === String(id));

  // The greeting and the gauge wait for the diary (when they first met is in every
  // request), which opens once the page is ready: until ``started()``, only the history.
  let started = false;

  async function loadHistory() {
    const res = await call("chat_history");
    if (res.ok) {
      canRedo = Boolean(res.can_regenerate);
      renderHistory(res.messages);
      if (started) greet();
    } else showBanner(res.error, () => {
      hideBanner();
      loadHistory();
    });
    if (started) await refreshGauge();
  }

  function start() {
    started = true;
    greet();
    if (!checkinTimer) checkinTimer = setInterval(() => greet(true), CHECKIN_POLL_MS);
    refreshGauge();
  }

  function retranslate() {
    applyStatic(root);
    renderModelLine();
    renderGauge();
  }
  onLangChange(retranslate);

  return {
    async load() {
      retranslate();
      await loadHistory();
    },
    /** The page is ready: the greeting, the check-ins and the gauge. */
    started: start,
    renderModelLine,
    refreshGauge,
    focus: () => input.focus(),
  };
}
