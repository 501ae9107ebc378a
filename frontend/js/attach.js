// Attachments in the composer: an attach button, pasted images, the chips of what
// will be sent, and the pictures/files shown on user messages in the history.
// Files travel to the bridge as base64 (chat_send {images, files}).

import { call } from "./transport.js";
import { t } from "./i18n.js";
import { el, toast } from "./ui.js";

export const MAX_BYTES = 10 * 1024 * 1024;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
const DOC_EXT = ["pdf", "docx", "md", "markdown", "txt", "html", "htm"];
const MAX_EACH = 4;

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The composer's attachment tray: ``button`` opens the file picker, ``tray``
 * lists chips; ``take()`` returns and clears {images, files} for chat_send. */
const SVG_NS = "http://www.w3.org/2000/svg";

function paperclip() {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute(
    "d",
    "M21 11.5l-8.6 8.6a5.5 5.5 0 01-7.8-7.8l9.2-9.2a3.7 3.7 0 015.2 5.2l-9.2 9.2a1.8 1.8 0 01-2.6-2.6l8.5-8.5",
  );
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  svg.append(path);
  return svg;
}

export function createAttachTray() {
  let items = []; // {kind, name, mime, data_base64}
  const tray = el("div.attach-tray#attach-tray", { hidden: true });
  const picker = el("input#attach-input", {
    type: "file",
    multiple: true,
    hidden: true,
    accept: [...IMAGE_TYPES, ...DOC_EXT.map((e) => `.${e}`)].join(","),
    on: { change: () => addFiles([...picker.files]).then(() => (picker.value = "")) },
  });
  const button = el("button.btn#chat-attach", {
    type: "button",
    dataset: { i18nTitle: "attach.button" },
    title: t("attach.button"),
    "aria-label": t("attach.button"),
    on: { click: () => picker.click() },
  });
  button.append(paperclip()); // an SVG, not an emoji: no emoji font needed

  function render() {
    tray.replaceChildren(
      ...items.map((item, i) =>
        el(
          "span.attach-chip",
          { dataset: { kind: item.kind }, title: item.note || null },
          el("span", { text: `${item.kind === "image" ? "🖼" : "📄"} ${item.name}` }),
          item.note ? el("span.attach-note", { text: item.note }) : null,
          el("button.attach-remove", {
            type: "button",
            title: t("attach.remove"),
            text: "×",
            on: { click: () => { items.splice(i, 1); render(); } },
          }),
        ),
      ),
    );
    tray.hidden = items.length === 0;
  }

  async function addFiles(files) {
    for (const file of files) {
      const ext = (file.name.split(".").pop() || "").toLowerCase();
      const kind = IMAGE_TYPES.includes(file.type) ? "image" : DOC_EXT.includes(ext) ? "file" : null;
      if (!kind) {
        toast(t("attach.badType", { name: file.name }));
        continue;
      }
      if (file.size > MAX_BYTES) {
        toast(t("attach.tooBig", { name: file.name }));
        continue;
      }
      if (items.filter((x) => x.kind === kind).length >= MAX_EACH) {
        toast(t("attach.tooMany", { max: MAX_EACH }));
        continue;
      }
      const name = file.name || `pasted.${(file.type.split("/")[1] || "png").replace("jpeg", "jpg")}`;
      items.push({ kind, name, mime: file.type, data_base64: await readBase64(file) });
    }
    render();
  }

  function onPaste(ev) {
    const files = [...((ev.clipboardData && ev.clipboardData.files) || [])];
    if (!files.length) return;
    ev.preventDefault();
    addFiles(files);
  }

  function take() {
    const out = { images: [], files: [] };
    // eslint-disable-next-line no-unused-vars
    for (const { kind, note, ...rest } of items) (kind === "image" ? out.images : out.files).push(rest);
    items = [];
    render();
    return out;
  }

  /** Add an item made in the page ({kind, name, mime, data_base64, note}), e.g. a long paste. */
  function put(item) {
    items.push(item);
    render();
  }

  /** Put back what ``take`` returned (a turn stopped before it began). */
  function restore(taken) {
    for (const a of taken.images || []) items.push({ kind: "image", ...a });
    for (const a of taken.files || []) items.push({ kind: "file", ...a });
    render();
  }

  return { button, picker, tray, onPaste, take, put, restore, count: () => items.length, addFiles };
}

/** Pictures and file names under a user message. ``local`` items carry their own
 * base64; stored ones ({id, kind, name, note}) are fetched with attachment_get. */
export function attachmentsNode(list) {
  const box = el("div.msg-attachments");
  for (const a of list || []) {
    if (a.kind === "image") {
      const img = el("img.msg-image", { alt: a.name, title: a.note ? `${a.name} — ${a.note}` : a.name });
      if (a.data_base64) img.src = `data:${a.mime};base64,${a.data_base64}`;
      else if (a.id) {
        call("attachment_get", { id: a.id }).then((res) => {
          if (res.ok && res.data_url) img.src = res.data_url;
        });
      }
      box.append(img);
    } else box.append(el("div.msg-file", { text: `📄 ${a.name}`, title: a.note || null }));
  }
  return box;
}
