// The Memory page: sub-tabs for names and self, the diary, import/export and cloud backup.

import { t, onLangChange } from "./i18n.js";
import { el } from "./ui.js";
import { createProfile } from "./profile.js";
import { createDiary } from "./diary.js";
import { createTransfer } from "./transfer.js";
import { createCloud } from "./cloud.js";

export const MEMORY_TABS = ["self", "diary", "transfer", "cloud"];

export function createMemory(root, { getInfo, onChanged, onTab }) {
  let active = "self";
  const nav = el("div.subtabs#memory-tabs", { role: "tablist" });
  const panels = {};
  for (const name of MEMORY_TABS) {
    panels[name] = el("div.memory-panel", { id: `memory-${name}`, role: "tabpanel", hidden: name !== active });
    nav.append(
      el("button.subtab", {
        type: "button",
        role: "tab",
        id: `memory-tab-${name}`,
        "aria-controls": `memory-${name}`,
        on: { click: () => show(name) },
      }),
    );
  }
  root.append(nav, ...Object.values(panels));

  // Every sub-tab reloads its data when shown, so a change only needs to reach the app.
  const pages = {
    self: createProfile(panels.self, { onChanged }),
    diary: createDiary(panels.diary, { getInfo, onChanged }),
    transfer: createTransfer(panels.transfer, { getInfo, onChanged }),
    cloud: createCloud(panels.cloud, { onChanged }),
  };

  function renderTabs() {
    const info = getInfo() || {};
    for (const name of MEMORY_TABS) {
      const tab = nav.querySelector(`#memory-tab-${name}`);
      tab.textContent = name === "diary" ? t("memory.tab.diary", { name: info.self_name || t("diary.ai") }) : t(`memory.tab.${name}`);
      tab.setAttribute("aria-selected", name === active ? "true" : "false");
    }
  }

  function show(name, notify = true) {
    if (!MEMORY_TABS.includes(name)) name = "self";
    active = name;
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== active;
    renderTabs();
    pages[name].load();
    if (notify && onTab) onTab(name);
  }

  onLangChange(renderTabs);

  return {
    /** Show the page (optionally a sub-tab); reloads that sub-tab's data. */
    load(tab) {
      show(tab || active, false);
    },
    active: () => active,
    renderTabs,
  };
}
