// About: the app's version, licence, links and data folder (app_info), then what it
// is built on and the licence notices the bundled avatar models and the Live2D
// runtime require. Reachable from the footer and the avatar panel; opens at the top.

import { t, addStrings } from "../i18n.js";
import { call } from "../transport.js";
import { el } from "../ui.js";

addStrings({
  zh: {
    "about.version": "版本 {version}",
    "about.license": "本应用以 {license} 许可发布",
    "about.links": "项目链接",
    "about.dataDir": "你的记忆保存在：{dir}",
    "about.thirdParty": "第三方组件和素材",
  },
  en: {
    "about.version": "Version {version}",
    "about.license": "Released under the {license} licence",
    "about.links": "Project links",
    "about.dataDir": "Your memory is kept in: {dir}",
    "about.thirdParty": "Third-party components and materials",
  },
});

const ITEMS = [
  ["about.runtime.title", "about.runtime.text", "https://www.live2d.com/eula/live2d-proprietary-software-license-agreement_en.html"],
  ["about.release.title", "about.release.text", "https://www.live2d.com/en/download/cubism-sdk/release-license/"],
  ["about.haru.title", "about.haru.text", "https://www.live2d.jp/terms/live2d-free-material-license-agreement/"],
  ["about.samples.title", "about.samples.text", "https://www.live2d.com/eula/live2d-free-material-license-agreement_en.html"],
  ["about.pixi.title", "about.pixi.text", "https://github.com/pixijs/pixijs/blob/v6.5.10/LICENSE"],
  ["about.pl2d.title", "about.pl2d.text", "https://github.com/guansss/pixi-live2d-display/blob/v0.4.0/LICENSE"],
  ["about.svg.title", "about.svg.text", ""],
];

let openDialog = null;

export function showAbout() {
  if (openDialog) return;
  const previous = document.activeElement;
  const close = () => {
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    openDialog = null;
    if (previous && previous.focus) previous.focus();
  };
  const onKey = (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      close();
    }
  };
  const list = el("div.about-list");
  for (const [title, text, url] of ITEMS) {
    list.append(
      el(
        "section.about-item",
        {},
        el("h3.about-item-title", { text: t(title) }),
        el("p.about-item-text", { text: t(text) }),
        url ? el("p.about-item-url", { text: url }) : null,
      ),
    );
  }
  // Every package's licence, generated from what is installed (or shipped in the bundle).
  const notices = el("pre.about-notices", { hidden: true });
  const noticesBtn = el("button.btn", {
    type: "button",
    text: t("about.notices"),
    on: {
      async click() {
        noticesBtn.disabled = true;
        notices.hidden = false;
        notices.textContent = t("about.notices.loading");
        const res = await call("about_notices");
        notices.textContent = res.ok ? res.text : t("about.notices.failed", { error: res.error.message });
        notices.scrollIntoView({ block: "nearest" });
      },
    },
  });
  const closeBtn = el("button.btn.primary", { type: "button", text: t("common.ok"), on: { click: close } });
  const project = el("div.about-project#about-project");
  const dialog = el(
    "div.modal.about-dialog#about-dialog",
    { role: "dialog", "aria-modal": "true", "aria-labelledby": "about-title" },
    el("h2#about-title.modal-title", { text: t("about.title") }),
    project,
    el("h3.about-section-title", { text: t("about.thirdParty") }),
    el("p.modal-text", { text: t("about.intro") }),
    list,
    el("p.about-files", { text: t("about.files") }),
    notices,
    el("div.modal-actions", {}, noticesBtn, closeBtn),
  );
  const backdrop = el("div.modal-backdrop", { on: { click: (ev) => ev.target === backdrop && close() } }, dialog);
  document.body.append(backdrop);
  document.addEventListener("keydown", onKey, true);
  openDialog = backdrop;
  closeBtn.focus({ preventScroll: true }); // the button is at the bottom; the dialog opens at the top
  dialog.scrollTop = 0;
  fillProject(project);
}

/** Version, licence, links and the data folder, from app_info. */
async function fillProject(box) {
  const res = await call("app_info");
  if (!res.ok) return;
  const line = [res.version ? t("about.version", { version: res.version }) : "", res.license ? t("about.license", { license: res.license }) : ""];
  box.append(el("p.about-version", { text: line.filter(Boolean).join(" · ") }));
  if (Array.isArray(res.links) && res.links.length) {
    const links = el("ul.about-links", { "aria-label": t("about.links") });
    for (const link of res.links) {
      links.append(el("li", {}, el("span.about-link-label", { text: `${link.label}: ` }), el("span.about-item-url", { text: link.url })));
    }
    box.append(el("h3.about-section-title", { text: t("about.links") }), links);
  }
  if (res.data_dir) box.append(el("p.about-data", { text: t("about.dataDir", { dir: res.data_dir }) }));
}
