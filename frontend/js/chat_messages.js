// The chat's message bubbles: the user's (text and attachments) and the
// companion's, whose content, reasoning and recalled line fill in as a reply
// streams. Model output is set as text only (textContent), never as HTML.

import { t, applyStatic } from "./i18n.js";
import { el } from "./ui.js";
import { attachmentsNode } from "./attach.js";
import { stoppedTag } from "./chatctl.js";

function copyText(text, button) {
  const done = () => {
    button.textContent = t("chat.copied");
    setTimeout(() => (button.textContent = t("chat.copy")), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => legacyCopy(text) && done());
  } else if (legacyCopy(text)) done();
}

function legacyCopy(text) {
  const area = el("textarea", { style: "position:fixed;left:-9999px" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function userNode(text, attachments) {
  const node = el(
    "div.msg.user",
    {},
    el("div.msg-bubble", {}, attachments && attachments.length ? attachmentsNode(attachments) : null,
      el("div.msg-content", { text })),
    el("div.msg-meta", {}, el("span.msg-failed", { dataset: { i18n: "chat.failed" }, hidden: true })),
  );
  applyStatic(node);
  return node;
}

/** An assistant message whose parts can be filled as the reply streams in;
 * `decorate(view)` adds what the voice needs (its speak button). */
export function assistantView(decorate) {
  const content = el("div.msg-content");
  const reasoningText = el("div.reasoning-text");
  const reasoning = el(
    "details.reasoning",
    { hidden: true },
    el("summary", { dataset: { i18n: "chat.reasoning" } }),
    reasoningText,
  );
  const recalled = el("div.msg-recalled", { hidden: true });
  const copyBtn = el("button.btn.small.ghost.copy-btn", { type: "button", dataset: { i18n: "chat.copy" } });
  const bubble = el("div.msg-bubble", {}, reasoning, content);
  const stopped = stoppedTag();
  const cutOff = el("span.msg-cut-off", {
    hidden: true, dataset: { i18n: "chat.cutOffTag", i18nTitle: "chat.cutOffTitle" }, title: t("chat.cutOffTitle"),
  });
  const node = el("div.msg.assistant", {}, bubble, el("div.msg-meta", {}, stopped, cutOff, recalled, copyBtn));
  applyStatic(node);
  const view = {
    node,
    setAttachments(list) {
      if (list && list.length) bubble.append(attachmentsNode(list)); // pictures it sent
    },
    content: "",
    reasoning: "",
    setContent(text) {
      view.content = text || "";
      content.textContent = view.content;
      node.classList.toggle("typing", !view.content && !view.reasoning);
    },
    appendContent(text) {
      view.setContent(view.content + text);
    },
    setReasoning(text) {
      view.reasoning = text || "";
      reasoningText.textContent = view.reasoning;
      reasoning.hidden = !view.reasoning;
      node.classList.toggle("typing", !view.content && !view.reasoning);
    },
    appendReasoning(text) {
      view.setReasoning(view.reasoning + text);
    },
    markStopped() {
      stopped.hidden = false;
      node.classList.add("stopped");
    },
    markCutOff() {
      cutOff.hidden = false;
    },
    setRecalled(items, live) {
      const titles = (items || []).map((r) => (typeof r === "string" ? r : r.title)).filter(Boolean);
      recalled.hidden = titles.length === 0;
      recalled.textContent = titles.length
        ? t(live ? "chat.recalling" : "chat.recalled", { titles: titles.join(t("chat.titleSep")) })
        : "";
    },
  };
  copyBtn.addEventListener("click", () => copyText(view.content, copyBtn));
  if (decorate) decorate(view);
  return view;
}
