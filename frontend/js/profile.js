// Memory → Names and self: the two names, the self-concept, the user profile, and
// the history of earlier versions (memory_profile / _set / _restore).

import { call } from "./transport.js";
import { t, onLangChange } from "./i18n.js";
import { el, clear, confirmDialog, toast } from "./ui.js";
import { errorBox, errorText, fmtTime, preview } from "./memutil.js";

const NAME_MAX = 100;
const TEXT_MAX = 20000;

export function createProfile(root, { onChanged }) {
  let loaded = null; // the profile as last loaded/saved
  let history = [];

  const error = errorBox("mem-self-error");

  // ---- names -------------------------------------------------------------
  const selfName = el("input#mem-self-name", { type: "text", maxlength: String(NAME_MAX), autocomplete: "off" });
  const userName = el("input#mem-user-name", { type: "text", maxlength: String(NAME_MAX), autocomplete: "off" });
  const namesError = el("div.field-error#mem-names-error", { role: "alert" });
  const namesSave = el("button.btn.primary#mem-names-save", { type: "button", dataset: { i18n: "mem.saveNames" }, on: { click: saveNames } });
  const namesStatus = el("span.form-status#mem-names-status", { role: "status" });
  const namesCard = el(
    "section.card#mem-names",
    {},
    el("h2.card-title", { dataset: { i18n: "mem.names" } }),
    el("p.field-help", { dataset: { i18n: "mem.namesHelp" } }),
    el(
      "div.name-grid",
      {},
      el("label.field-label", { for: "mem-self-name", dataset: { i18n: "mem.selfName" } }),
      selfName,
      el("label.field-label", { for: "mem-user-name", dataset: { i18n: "mem.userName" } }),
      userName,
    ),
    namesError,
    el("div.card-actions", {}, namesSave, namesStatus),
  );

  // ---- texts -------------------------------------------------------------
  function textArea(id) {
    const area = el(`textarea.mem-text#${id}`, { rows: 8, maxlength: String(TEXT_MAX), spellcheck: "false" });
    const count = el("span.char-count", { id: `${id}-count` });
    const update = () => (count.textContent = t("mem.chars", { n: area.value.length, max: TEXT_MAX }));
    area.addEventListener("input", update);
    area._count = update;
    return { area, count };
  }
  const aboutSelf = textArea("mem-about-self");
  const aboutUser = textArea("mem-about-user");
  const textsSave = el("button.btn.primary#mem-texts-save", { type: "button", dataset: { i18n: "mem.saveTexts" }, on: { click: saveTexts } });
  const textsRevert = el("button.btn.ghost#mem-texts-revert", { type: "button", dataset: { i18n: "mem.revert" }, on: { click: revertTexts } });
  const textsStatus = el("span.form-status#mem-texts-status", { role: "status" });
  const textsError = el("div.field-error#mem-texts-error", { role: "alert" });
  const textsCard = el(
    "section.card#mem-texts",
    {},
    el("h2.card-title", { dataset: { i18n: "mem.texts" } }),
    el("p.field-help", { dataset: { i18n: "mem.textsHelp" } }),
    el("div.text-head", {}, el("label.field-label", { for: "mem-about-self", dataset: { i18n: "mem.aboutSelf" } }), aboutSelf.count),
    aboutSelf.area,
    el("div.text-head", {}, el("label.field-label", { for: "mem-about-user", dataset: { i18n: "mem.aboutUser" } }), aboutUser.count),
    aboutUser.area,
    textsError,
    el("div.card-actions", {}, textsSave, textsRevert, textsStatus),
  );

  // ---- history -----------------------------------------------------------
  const historyList = el("ol.history-list#mem-history");
  const historyCard = el(
    "section.card#mem-history-card",
    {},
    el("h2.card-title", { dataset: { i18n: "mem.history" } }),
    el("p.field-help", { dataset: { i18n: "mem.historyHelp" } }),
    historyList,
  );

  root.append(error.node, namesCard, textsCard, historyCard);

  // ---- behaviour ---------------------------------------------------------
  /** Fill inputs from `profile`, keeping what the user typed and has not saved. */
  function fill(profile, force) {
    const prev = loaded || {};
    const pairs = [
      [selfName, "self_name"],
      [userName, "user_name"],
      [aboutSelf.area, "memory_about_self"],
      [aboutUser.area, "memory_about_user"],
    ];
    for (const [input, key] of pairs) {
      const dirty = loaded && input.value !== (prev[key] ?? "");
      if (force || !dirty) input.value = profile[key] ?? "";
    }
    loaded = { ...profile };
    aboutSelf.area._count();
    aboutUser.area._count();
  }

  function renderHistory() {
    clear(historyList);
    if (!history.length) {
      historyList.append(el("li.muted.history-empty", { text: t("mem.historyEmpty") }));
      return;
    }
    history.forEach((item, i) => {
      const p = item.profile || {};
      const details = el(
        "details.history-details",
        {},
        el("summary", { text: t("mem.historyShow") }),
        el("dl.history-full", {},
          el("dt", { text: t("mem.selfName") }), el("dd", { text: p.self_name || "" }),
          el("dt", { text: t("mem.userName") }), el("dd", { text: p.user_name || "" }),
          el("dt", { text: t("mem.aboutSelf") }), el("dd.pre", { text: p.memory_about_self || "" }),
          el("dt", { text: t("mem.aboutUser") }), el("dd.pre", { text: p.memory_about_user || "" }),
        ),
      );
      historyList.append(
        el(
          "li.history-item",
          { dataset: { at: String(item.at) } },
          el(
            "div.history-row",
            {},
            el("span.history-time", { text: fmtTime(item.at) }),
            el("span.history-names", { text: `${p.self_name || "–"} · ${p.user_name || "–"}` }),
            el("button.btn.small.history-restore", {
              type: "button",
              text: t("mem.restore"),
              dataset: { index: String(i) },
              on: { click: () => restore(item) },
            }),
          ),
          el("div.history-preview", { text: preview(p.memory_about_self, 120) || t("common.none") }),
          details,
        ),
      );
    });
  }

  function apply(res, force) {
    fill(res.profile || {}, force);
    history = Array.isArray(res.history) ? res.history : [];
    renderHistory();
  }

  async function load() {
    const res = await call("memory_profile");
    if (!res.ok) {
      error.show(res.error);
      return;
    }
    error.hide();
    apply(res, false);
  }

  async function saveNames() {
    namesError.textContent = "";
    namesStatus.textContent = "";
    const a = selfName.value.trim();
    const b = userName.value.trim();
    if (!a || !b) {
      namesError.textContent = t("mem.nameRequired");
      return;
    }
    if (a.length > NAME_MAX || b.length > NAME_MAX) {
      namesError.textContent = t("mem.nameTooLong", { max: NAME_MAX });
      return;
    }
    if (loaded && a === loaded.self_name && b === loaded.user_name) {
      namesStatus.textContent = t("settings.noChanges");
      return;
    }
    const ok = await confirmDialog(t("mem.confirmNamesTitle"), t("mem.confirmNames"), t("mem.saveNames"));
    if (!ok) return;
    namesSave.disabled = true;
    const res = await call("memory_profile_set", { profile: { self_name: a, user_name: b } });
    namesSave.disabled = false;
    if (!res.ok) {
      namesError.textContent = errorText(res.error);
      return;
    }
    selfName.value = a;
    userName.value = b;
    apply(res, false);
    namesStatus.textContent = t("settings.saved");
    toast(t("mem.namesSaved"));
    onChanged();
  }

  async function saveTexts() {
    textsError.textContent = "";
    textsStatus.textContent = "";
    const patch = {};
    if (!loaded || aboutSelf.area.value !== loaded.memory_about_self) patch.memory_about_self = aboutSelf.area.value;
    if (!loaded || aboutUser.area.value !== loaded.memory_about_user) patch.memory_about_user = aboutUser.area.value;
    if (!Object.keys(patch).length) {
      textsStatus.textContent = t("settings.noChanges");
      return;
    }
    textsSave.disabled = true;
    const res = await call("memory_profile_set", { profile: patch });
    textsSave.disabled = false;
    if (!res.ok) {
      textsError.textContent = errorText(res.error);
      return;
    }
    // Saved: the fields now equal what was sent, so fill() replaces them with the stored text.
    loaded = { ...loaded, ...patch };
    apply(res, false);
    textsStatus.textContent = t("settings.saved");
    toast(t("settings.saved"));
    onChanged();
  }

  function revertTexts() {
    if (!loaded) return;
    aboutSelf.area.value = loaded.memory_about_self ?? "";
    aboutUser.area.value = loaded.memory_about_user ?? "";
    aboutSelf.area._count();
    aboutUser.area._count();
    textsStatus.textContent = "";
  }

  async function restore(item) {
    const ok = await confirmDialog(
      t("mem.confirmRestoreTitle"),
      t("mem.confirmRestore", { time: fmtTime(item.at) }),
      t("mem.restore"),
    );
    if (!ok) return;
    const res = await call("memory_profile_restore", { at: item.at });
    if (!res.ok) {
      error.show(res.error);
      return;
    }
    error.hide();
    apply(res, true);
    toast(t("mem.restored"));
    onChanged();
  }

  onLangChange(() => {
    aboutSelf.area._count();
    aboutUser.area._count();
    renderHistory();
  });

  return { load };
}
