// The chat page's error banner: what failed (title by error type, the service's
// words), Retry when the failed action can be repeated, Setup for a service
// error, Settings, Dismiss. It follows the service, memory and bridge status events
// itself: a service that comes back clears a banner that has nothing to retry.

import { on } from "./transport.js";
import { t, addStrings } from "./i18n.js";
import { el, toast, errorTitle, saysItAll } from "./ui.js";

addStrings({
  zh: { "banner.setup": "设置向导" },
  en: { "banner.setup": "Setup wizard" },
});

// Errors of the model service: the banner offers the setup wizard beside Settings.
const SERVICE_ERRORS = new Set(["ServiceUnreachable", "AuthFailed", "ModelNotFound", "ServerFailed", "BadResponse"]);

export function createBanner({ navigate, openSetup }) {
  let retryAction = null;
  const title = el("strong.banner-title");
  const message = el("span.banner-msg");
  const retryBtn = el("button.btn.primary#banner-retry", {
    type: "button",
    dataset: { i18n: "banner.retry" },
    on: { click: () => retryAction && retryAction() },
  });
  const setupBtn = el("button.btn#banner-setup", {
    type: "button",
    dataset: { i18n: "banner.setup" },
    on: { click: () => openSetup && openSetup() },
  });
  const node = el(
    "div.banner#error-banner",
    { role: "alert", hidden: true },
    el("div.banner-text", {}, title, message),
    el(
      "div.banner-actions",
      {},
      retryBtn,
      setupBtn,
      el("button.btn#banner-settings", {
        type: "button",
        dataset: { i18n: "banner.settings" },
        on: { click: () => navigate("settings") },
      }),
      el("button.btn.ghost#banner-dismiss", { type: "button", dataset: { i18n: "banner.dismiss" }, on: { click: hide } }),
    ),
  );

  // ``retry``: what the Retry button does (none: no button).
  function show(error, retry) {
    // A message that says it all (a rejected key, naming the service) is the one line;
    // others are the page's title over the service's words.
    const whole = saysItAll(error);
    title.textContent = whole ? error.message : errorTitle(error);
    message.textContent = !whole && error && error.message ? error.message : "";
    message.hidden = !message.textContent;
    retryAction = retry || null;
    retryBtn.hidden = !retry;
    setupBtn.hidden = !openSetup || !SERVICE_ERRORS.has(error && error.type);
    node.dataset.type = (error && error.type) || "";
    node.hidden = false;
  }

  function hide() {
    node.hidden = true;
    retryAction = null;
  }

  on("service.status", (p) => {
    if (!p) return;
    if (p.ok) {
      if (!node.hidden) toast(p.message || t("banner.back"));
      if (!node.hidden && !retryAction) hide();
    } else if (node.hidden) {
      show({ type: "ServiceUnreachable", message: p.message });
    }
  });
  // The diary's stores, opened after the chat showed, could not be opened: what the
  // page would have heard on its first call (the next call reports it again).
  on("memory.status", (p) => {
    if (p && p.ok === false) show(p.error);
  });
  on("bridge.status", (p) => {
    if (p && !p.ok && node.hidden) show({ type: "BridgeUnavailable", message: "" });
    else if (p && p.ok && node.dataset.type === "BridgeUnavailable") hide();
  });

  return { node, show, hide };
}
