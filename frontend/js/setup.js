// First-run setup: choose which model answers — ollama on this computer, an
// OpenAI-compatible service (DeepSeek, OpenAI, ...) with its key, or the tiny
// offline demo model. Shown over the app on first run (setup_status.needed) and
// reachable later from Settings; on first run it goes on to the names and the
// look (setup_intro.js). Bridge: setup_status, setup_probe_ollama, setup_apply. Model names and messages go in as text only (el / textContent).

import { call } from "./transport.js";
import { t, addStrings, onLangChange } from "./i18n.js";
import { el, clear, toast, errorLine } from "./ui.js";
import { renderIntro } from "./setup_intro.js";

addStrings({
  zh: {
    "setup.title": "欢迎使用数字生命",
    "setup.lead": "先选择由哪个模型来回答。以后可以在“设置”里随时更改。",
    "setup.later": "稍后再说",
    "setup.ollama": "本机的 ollama",
    "setup.ollama.help": "在自己的电脑上运行开源模型，免费、离线、隐私好。",
    "setup.ollama.checking": "正在查找 ollama……",
    "setup.ollama.found": "找到 {n} 个模型：",
    "setup.ollama.none": "ollama 在运行，但还没有模型。在终端里运行：",
    "setup.ollama.off": "没有找到 ollama（{url}）。从 ollama.com 安装并启动它，然后运行：",
    "setup.ollama.use": "使用这个模型",
    "setup.ollama.again": "重新查找",
    "setup.ollama.state.checking": "查找中…",
    "setup.ollama.state.off": "未找到",
    "setup.ollama.state.none": "没有模型",
    "setup.ollama.state.found": "{n} 个模型",
    "setup.service": "在线服务：DeepSeek、OpenAI 或其他兼容服务",
    "setup.service.help": "效果最好；需要该服务的 API 密钥。密钥只保存在本机的密钥库中。",
    "setup.service.preset": "服务",
    "setup.service.other": "其他兼容 OpenAI 的服务",
    "setup.service.url": "服务地址",
    "setup.service.key": "API 密钥",
    "setup.service.keyHelp": "留空则沿用已保存的密钥（如有）。",
    "setup.service.model": "模型",
    "setup.service.apply": "测试并保存",
    "setup.service.testing": "正在测试连接……",
    "setup.demo": "离线演示模型",
    "setup.demo.help": "{name}，{size} MB，在本机运行，无需网络。它非常小：回答简单，常常出错，只适合试用本应用。",
    "setup.demo.off": "演示模型不可用：{why}",
    "setup.demo.use": "使用演示模型",
    "setup.done": "已设置：现在由 {model} 回答。",
    "setup.entry": "对话模型：由谁来回答？",
    "setup.entry.open": "设置向导…",
    "setup.env": "注意：环境变量 {names} 会覆盖这里的选择。",
    "choice.llm.provider.openai": "兼容 OpenAI 的服务",
    "choice.llm.provider.demo": "离线演示模型（很小）",
  },
  en: {
    "setup.title": "Welcome to Digital Life",
    "setup.lead": "First choose which model answers. You can change it any time in Settings.",
    "setup.later": "Later",
    "setup.ollama": "ollama on this computer",
    "setup.ollama.help": "Open models running on your own computer: free, offline, private.",
    "setup.ollama.checking": "Looking for ollama…",
    "setup.ollama.found": "Found {n} models:",
    "setup.ollama.found.one": "Found 1 model:",
    "setup.ollama.none": "ollama is running but has no models yet. In a terminal, run:",
    "setup.ollama.off": "ollama was not found ({url}). Install it from ollama.com, start it, then run:",
    "setup.ollama.use": "Use this model",
    "setup.ollama.again": "Check again",
    "setup.ollama.state.checking": "checking…",
    "setup.ollama.state.off": "not found",
    "setup.ollama.state.none": "no models",
    "setup.ollama.state.found": "{n} models",
    "setup.ollama.state.found.one": "1 model",
    "setup.service": "An online service: DeepSeek, OpenAI or another compatible one",
    "setup.service.help": "The best answers; needs the service's API key. The key stays in this computer's key store.",
    "setup.service.preset": "Service",
    "setup.service.other": "Another OpenAI-compatible service",
    "setup.service.url": "Address",
    "setup.service.key": "API key",
    "setup.service.keyHelp": "Empty: keep the key already saved, if any.",
    "setup.service.model": "Model",
    "setup.service.apply": "Test and save",
    "setup.service.testing": "Testing the connection…",
    "setup.demo": "The offline demo model",
    "setup.demo.help": "{name}, {size} MB, runs on this computer with no network. It is tiny: its answers are simple and often wrong — it is only for trying the app.",
    "setup.demo.off": "The demo model is unavailable: {why}",
    "setup.demo.use": "Use the demo model",
    "setup.done": "Set up: {model} answers now.",
    "setup.entry": "Chat model: which one answers?",
    "setup.entry.open": "Setup…",
    "setup.env": "Note: the environment variables {names} override the choice made here.",
    "choice.llm.provider.openai": "OpenAI-compatible service",
    "choice.llm.provider.demo": "Offline demo model (tiny)",
  },
});

// One choice: its title and help always show (all three fit an 800x600 window);
// its body only while it is the open one, chosen by clicking the title.
function option(id, title, help, body, open, onOpen, badge) {
  const head = el(`button.setup-option-head#${id}-head`, {
    type: "button", "aria-expanded": String(open), "aria-controls": `${id}-body`,
    on: { click: () => { if (!open) onOpen(); } },
  }, el(`h3.setup-option-title#${id}-title`, { text: title },
    badge ? el("span.setup-badge", { text: badge }) : null), el("span.setup-help", { text: help }));
  const inner = el(`div.setup-option-body#${id}-body`, {}, body);
  inner.hidden = !open;
  return el(`section.setup-option${open ? ".open" : ""}#${id}`, { "aria-labelledby": `${id}-title` }, head, inner);
}

function field(id, label, input, help) {
  return el("label.setup-field", { for: id },
    el("span.setup-label", { text: label }), input,
    help ? el("span.setup-help", { text: help }) : null);
}

/** The setup dialog; resolves when it closes (true when a model was chosen). */
export function openSetup(status, onApplied) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    let stopLang = () => {};
    const close = (chosen) => {
      stopLang();
      backdrop.remove();
      document.removeEventListener("keydown", onKey, true);
      if (previous && previous.focus) previous.focus();
      resolve(chosen);
    };
    const onKey = (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        close(false);
      }
    };
    const card = el("div.setup-card", { role: "dialog", "aria-modal": "true", "aria-labelledby": "setup-title" });
    const backdrop = el("div.setup-backdrop#setup", {}, card);
    let probe = null; // last setup_probe_ollama result
    let chosen = null; // the option the user opened (null: ollama if it has models, else the service)
    let busy = false;
    const drafts = {};

    async function applied(res, model) {
      toast(t("setup.done", { model }));
      const finish = async () => {
        close(true);
        if (onApplied) await onApplied(res);
      };
      if (!status.needed) return finish();
      // First run: then the names and the look, in one step.
      stopLang();
      stopLang = () => {};
      await renderIntro(card, finish);
    }

    async function apply(params, statusNode, model) {
      if (busy) return;
      busy = true;
      for (const b of card.querySelectorAll("button")) b.disabled = true;
      statusNode.className = "setup-status";
      statusNode.textContent = params.choice === "demo" ? "" : t("setup.service.testing");
      const res = await call("setup_apply", params); // its words in the page's language (X-DL-Lang)
      busy = false;
      if (res.ok) return applied(res, model);
      for (const b of card.querySelectorAll("button")) b.disabled = false;
      statusNode.className = "setup-status error";
      statusNode.textContent = errorLine(res.error);
    }

    function ollamaBox() {
      const box = el("div.setup-ollama", { "aria-live": "polite" });
      const statusNode = el("div.setup-status", { role: "status" });
      const again = el("button.btn#setup-ollama-again", { type: "button", text: t("setup.ollama.again"), on: { click: () => runProbe() } });
      if (!probe) {
        box.append(el("p.muted", { text: t("setup.ollama.checking") }));
        return box;
      }
      const o = probe.ollama || {};
      if (o.running && o.models && o.models.length) {
        const select = el("select#setup-ollama-model", {}, ...o.models.map((m) => el("option", { value: m, text: m })));
        if (o.models.includes(o.suggested)) select.value = o.suggested;
        box.append(
          el("p.setup-found", { text: t("setup.ollama.found", { n: o.models.length }) }),
          el("div.setup-row", {}, select,
            el("button.btn.primary#setup-ollama-use", { type: "button", text: t("setup.ollama.use"), on: { click: () => apply({ choice: "ollama", base_url: status.ollama_url, model: select.value }, statusNode, select.value) } })),
          statusNode,
        );
      } else {
        const text = o.running ? t("setup.ollama.none") : t("setup.ollama.off", { url: status.ollama_url });
        box.append(el("p", { text }), el("code.setup-code", { text: `ollama pull ${o.suggested || status.suggested_ollama_model}` }), el("div.setup-row", {}, again));
      }
      return box;
    }

    function ollamaState() {
      if (!probe) return t("setup.ollama.state.checking");
      const o = probe.ollama || {};
      const n = (o.models || []).length;
      if (!o.running) return t("setup.ollama.state.off");
      if (!n) return t("setup.ollama.state.none");
      return t("setup.ollama.state.found", { n });
    }

    function serviceBox() {
      const presets = status.presets || [];
      const preset = el("select#setup-preset", {},
        ...presets.map((p) => el("option", { value: p.key, text: p.label })),
        el("option", { value: "other", text: t("setup.service.other") }));
      const url = el("input#setup-url", { type: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://…/v1" });
      const key = el("input#setup-key", { type: "password", autocomplete: "off", spellcheck: "false" });
      const model = el("input#setup-model", { type: "text", autocomplete: "off", spellcheck: "false" });
      const statusNode = el("div.setup-status", { role: "status" });
      const fill = () => {
        const p = presets.find((x) => x.key === preset.value);
        url.value = p ? p.base_url : "";
        model.value = p ? p.model : "";
      };
      preset.addEventListener("change", fill);
      if (drafts.preset) {
        Object.assign(preset, { value: drafts.preset });
        url.value = drafts.url;
        model.value = drafts.model;
      } else fill();
      for (const input of [preset, url, model]) {
        input.addEventListener("input", () => Object.assign(drafts, { preset: preset.value, url: url.value, model: model.value }));
        input.addEventListener("change", () => Object.assign(drafts, { preset: preset.value, url: url.value, model: model.value }));
      }
      const submit = el("button.btn.primary#setup-service-apply", { type: "submit", text: t("setup.service.apply") });
      const form = el("form.setup-form", { novalidate: true },
        field("setup-preset", t("setup.service.preset"), preset),
        field("setup-url", t("setup.service.url"), url),
        field("setup-key", t("setup.service.key"), key, t("setup.service.keyHelp")),
        field("setup-model", t("setup.service.model"), model),
        el("div.setup-row", {}, submit), statusNode);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const params = { choice: "service", base_url: url.value.trim(), model: model.value.trim() };
        if (key.value) params.api_key = key.value;
        key.value = ""; // the key goes to Python once; it is not kept in the page
        apply(params, statusNode, params.model);
      });
      return form;
    }

    function demoBox() {
      const d = status.demo || {};
      const statusNode = el("div.setup-status", { role: "status" });
      if (!d.available) return el("p.setup-status.error", { text: t("setup.demo.off", { why: d.problem || "?" }) });
      return el("div.setup-row", {},
        el("button.btn#setup-demo-use", { type: "button", text: t("setup.demo.use"), on: { click: () => apply({ choice: "demo" }, statusNode, `${d.name} (${d.note})`) } }),
        statusNode);
    }

    function render() {
      clear(card);
      const d = status.demo || {};
      const overridden = [...new Set((status.env_overrides || []).filter((p) => p.startsWith("llm.")).map((p) => (status.env_names || {})[p] || p))];
      const found = probe && probe.ollama && probe.ollama.running && (probe.ollama.models || []).length;
      const open = chosen || (found || !probe ? "ollama" : "service");
      card.append(...[
        el("div.setup-head", {},
          el("h2.setup-title#setup-title", { text: t("setup.title") }),
          el("button.btn.ghost#setup-later", { type: "button", text: t("setup.later"), on: { click: () => close(false) } })),
        el("p.setup-lead", { text: t("setup.lead") }),
        overridden.length ? el("p.setup-status.warn", { text: t("setup.env", { names: overridden.join(", ") }) }) : null,
        ...[
          ["ollama", t("setup.ollama"), t("setup.ollama.help"), ollamaBox],
          ["service", t("setup.service"), t("setup.service.help"), serviceBox],
          ["demo", t("setup.demo"), t("setup.demo.help", { name: d.name || "", size: d.size_mb || "?" }), demoBox],
        ].map(([key, title, help, box]) => option(`setup-opt-${key}`, title, help, box(), key === open,
          () => { chosen = key; render(); card.querySelector(`#setup-opt-${key}-head`).focus(); },
          key === "ollama" ? ollamaState() : null)),
      ].filter(Boolean));
    }

    async function runProbe() {
      probe = null;
      render();
      const res = await call("setup_probe_ollama", {});
      probe = res.ok ? res : { ollama: { running: false, models: [] } };
      if (document.body.contains(backdrop)) render();
    }

    document.addEventListener("keydown", onKey, true);
    document.body.append(backdrop);
    stopLang = onLangChange(render) || (() => {});
    render();
    runProbe();
    card.querySelector("#setup-later").focus();
  });
}

/** The entry in Settings, and the dialog on first run; returns a function that opens it. */
export async function initSetup({ settingsRoot, onApplied }) {
  const open = async () => {
    const res = await call("setup_status");
    if (res.ok) await openSetup(res, onApplied);
  };
  if (settingsRoot) {
    const text = el("span.setup-entry-text", { text: t("setup.entry") });
    const button = el("button.btn.small#setup-open", { type: "button", text: t("setup.entry.open"), on: { click: open } });
    settingsRoot.prepend(el("div.setup-entry", {}, text, button));
    onLangChange(() => {
      text.textContent = t("setup.entry");
      button.textContent = t("setup.entry.open");
    });
  }
  const res = await call("setup_status");
  if (res.ok && res.needed) openSetup(res, onApplied); // not awaited: the page goes on
  return open; // the service-down banner offers the wizard too
}
