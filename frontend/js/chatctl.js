// Chat controls beside chat.js: the stop button while a reply streams, the
// regenerate and edit buttons on the last turn (with the edit box), and a long
// paste that becomes an attached text (docs/bridge-api.md: chat_stop,
// chat_regenerate, chat_edit, chat_text_fit). Text goes in through textContent only.

import { call } from "./transport.js";
import { t, addStrings } from "./i18n.js";
import { el, toast } from "./ui.js";

addStrings({
  zh: {
    "chat.stop": "停止",
    "chat.stopTitle": "停止生成这条回复（已说的部分会保留）",
    "chat.stoppedTag": "已停止",
    "chat.stoppedTagTitle": "你在这里停止了这条回复；它会记住说到哪里",
    "chat.stoppedNothing": "回复还没开始就停止了，什么也没有保存；你的消息已放回输入框。",
    "chat.stoppedRedo": "回复还没开始就停止了，对话保持原样。",
    "chat.regenerate": "重新生成",
    "chat.regenerateTitle": "重新回答上一条消息（替换这条回复）",
    "chat.edit": "编辑",
    "chat.editTitle": "修改这条消息并重新发送（替换之后的回复）",
    "chat.editSave": "保存并发送",
    "chat.editCancel": "取消",
    "paste.fileName": "粘贴的文本.txt",
    "paste.note": "这段长文本（{chars} 字）已作为附件“{name}”：模型每次只能看到其中约 {seen} 字（与你的消息最相关的部分）。",
  },
  en: {
    "chat.stop": "Stop",
    "chat.stopTitle": "Stop this reply (what it has said is kept)",
    "chat.stoppedTag": "Stopped",
    "chat.stoppedTagTitle": "You stopped this reply here; it remembers how far it got",
    "chat.stoppedNothing": "Stopped before the reply began; nothing was kept, and your message is back in the input box.",
    "chat.stoppedRedo": "Stopped before the reply began; the conversation is as it was.",
    "chat.regenerate": "Regenerate",
    "chat.regenerateTitle": "Answer the last message again (replaces this reply)",
    "chat.edit": "Edit",
    "chat.editTitle": "Change this message and send it again (replaces the reply after it)",
    "chat.editSave": "Save & send",
    "chat.editCancel": "Cancel",
    "paste.fileName": "pasted-text.txt",
    "paste.note": "This long text ({chars} characters) is attached as “{name}”: the model sees only about {seen} characters of it each time (the parts most relevant to your message).",
  },
});

// Shorter texts always fit a message; longer ones are measured by the bridge.
export const LONG_TEXT = 400;

let seq = 0;
/** A fresh id for one turn, so chat_stop names the turn it stops. */
export function newTurnId() {
  seq += 1;
  return `t${Date.now().toString(36)}-${seq}`;
}

export function stopButton(onStop) {
  return el("button.btn.danger#chat-stop", {
    type: "button",
    hidden: true,
    dataset: { i18n: "chat.stop", i18nTitle: "chat.stopTitle" },
    title: t("chat.stopTitle"),
    on: { click: onStop },
  });
}

/** The "stopped" tag in a reply's meta line (hidden until the reply is stopped). */
export function stoppedTag() {
  return el("span.msg-stopped", {
    hidden: true,
    dataset: { i18n: "chat.stoppedTag", i18nTitle: "chat.stoppedTagTitle" },
    title: t("chat.stoppedTagTitle"),
  });
}

/** Put the regenerate button on the last reply and the edit button on the last
 * user message of ``list`` (none while busy or when the last turn cannot be redone). */
export function placeRedoButtons(list, enabled, { onRegenerate, onEdit }) {
  for (const b of list.querySelectorAll(".redo-btn")) b.remove();
  if (!enabled) return;
  const msgs = [...list.querySelectorAll(".msg")];
  const last = msgs[msgs.length - 1];
  const user = [...msgs].reverse().find((n) => n.classList.contains("user"));
  if (!user || !last || !last.classList.contains("assistant") || msgs.indexOf(user) > msgs.indexOf(last)) return;
  last.querySelector(".msg-meta").append(
    el("button.btn.small.ghost.redo-btn#btn-regenerate", {
      type: "button",
      dataset: { i18n: "chat.regenerate", i18nTitle: "chat.regenerateTitle" },
      text: t("chat.regenerate"),
      title: t("chat.regenerateTitle"),
      on: { click: onRegenerate },
    }),
  );
  user.querySelector(".msg-meta").append(
    el("button.btn.small.ghost.redo-btn#btn-edit", {
      type: "button",
      dataset: { i18n: "chat.edit", i18nTitle: "chat.editTitle" },
      text: t("chat.edit"),
      title: t("chat.editTitle"),
      on: { click: () => onEdit(user) },
    }),
  );
}

/** Turn the user message ``node`` into an edit box; ``onSave(text)`` on save. */
export function editInPlace(node, onSave) {
  const content = node.querySelector(".msg-content");
  const bubble = node.querySelector(".msg-bubble");
  const meta = node.querySelector(".msg-meta");
  const box = el("textarea.composer-input.edit-input#edit-input", { rows: 3 });
  box.value = content.textContent;
  const done = () => {
    form.remove();
    bubble.hidden = false;
    meta.hidden = false;
  };
  const save = () => {
    const text = box.value.trim();
    if (!text) return;
    done();
    onSave(text);
  };
  box.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") done();
    else if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      save();
    }
  });
  const form = el(
    "div.edit-form",
    {},
    box,
    el(
      "div.edit-actions",
      {},
      el("button.btn.small#edit-cancel", { type: "button", text: t("chat.editCancel"), on: { click: done } }),
      el("button.btn.small.primary#edit-save", { type: "button", text: t("chat.editSave"), on: { click: save } }),
    ),
  );
  bubble.hidden = true; // the box in the page's colours, in the bubble's place
  meta.hidden = true;
  bubble.after(form);
  box.focus();
}

function base64Utf8(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** If ``text`` is longer than the model can see from one message, attach it as a
 * text file with a note saying how much the model sees; true when it did. */
export async function attachIfLong(text, attach) {
  if (!text || text.length < LONG_TEXT) return false;
  const fit = await call("chat_text_fit", { text });
  if (!fit.ok || !fit.cut) return false;
  const name = t("paste.fileName");
  const seen = Math.max(1, Math.round(text.length * fit.as_file_ratio));
  const note = t("paste.note", { chars: text.length, seen, name });
  attach.put({ kind: "file", name, mime: "text/plain", data_base64: base64Utf8(text), note });
  toast(note);
  return true;
}

/** The composer's paste handler for long text: measured first, then either
 * pasted as usual or attached. */
export function longPasteHandler(input, attach) {
  return (ev) => {
    const text = ev.clipboardData && ev.clipboardData.getData("text/plain");
    if (!text || text.length < LONG_TEXT || (ev.clipboardData.files || []).length) return;
    ev.preventDefault();
    attachIfLong(text, attach).then((attached) => {
      if (attached) return;
      input.setRangeText(text, input.selectionStart, input.selectionEnd, "end");
      input.dispatchEvent(new Event("input"));
    });
  };
}
