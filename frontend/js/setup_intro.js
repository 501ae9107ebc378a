// The second step of the first-run setup: name the companion, say what it should
// call you, and pick how it looks — in one place. Names go to the profile
// (memory_profile_set), the look to the settings (settings_set avatar.model);
// both can be changed later (Memory → Names & self, Settings → Appearance & language); and whether
// it may check in about what the user mentioned (off unless ticked here or in Settings).

import { call } from "./transport.js";
import { t, addStrings } from "./i18n.js";
import { el, clear, errorLine } from "./ui.js";
import { avatarChoices } from "./avatar_picker.js";

addStrings({
  zh: {
    "intro.title": "认识一下",
    "intro.lead": "给它起个名字，选一个样子。以后可以在“记忆 → 名字和自我”和“设置 → 外观与语言”里修改。",
    "intro.selfName": "它的名字",
    "intro.userName": "它怎么称呼你",
    "intro.avatar": "它的样子",
    "intro.avatar.svg": "简笔头像",
    "intro.checkins": "让它在你提到的事情过去之后问问你怎么样了（比如“周五考试”）。关闭时不会为此向模型发送任何内容；以后可在“设置 → 插件”里修改。",
    "intro.done": "开始聊天",
    "intro.skip": "跳过",
  },
  en: {
    "intro.title": "Introductions",
    "intro.lead": "Give your companion a name and pick how it looks. You can change both later (Memory → Names & self, Settings → Appearance & language).",
    "intro.selfName": "Its name",
    "intro.userName": "What it calls you",
    "intro.avatar": "How it looks",
    "intro.avatar.svg": "Simple drawing",
    "intro.checkins": "Let it ask how things went after something you mentioned (\"exam on Friday\"). Off: nothing about it is sent to the model; change it later in Settings → Plugins.",
    "intro.done": "Start chatting",
    "intro.skip": "Skip",
  },
});

/** Fill `card` with the step; `done()` is called after saving or skipping. */
export async function renderIntro(card, done) {
  const [profileRes, modelsRes, settingsRes] = await Promise.all([
    call("memory_profile"), call("avatar_models"), call("settings_get"),
  ]);
  const profile = (profileRes.ok && profileRes.profile) || {};
  const checkinsOn = Boolean(settingsRes.ok && settingsRes.settings && settingsRes.settings.plugins
    && settingsRes.settings.plugins.checkins_enabled);
  const checkins = el("input#setup-checkins", { type: "checkbox", checked: checkinsOn });
  const current = (settingsRes.ok && settingsRes.settings && settingsRes.settings.avatar
    && settingsRes.settings.avatar.model) || "haru";
  const models = (modelsRes.ok && modelsRes.models) || [];
  const selfName = el("input#setup-self-name", { type: "text", maxlength: 40, autocomplete: "off", value: profile.self_name || "" });
  const userName = el("input#setup-user-name", { type: "text", maxlength: 40, autocomplete: "off", value: profile.user_name || "" });
  const statusNode = el("div.setup-status", { role: "status" });
  const choices = avatarChoices(models, { name: "setup-avatar", current, idPrefix: "setup-avatar" });
  const save = el("button.btn.primary#setup-intro-done", { type: "submit", text: t("intro.done") });
  const skip = el("button.btn.ghost#setup-intro-skip", { type: "button", text: t("intro.skip"), on: { click: () => done() } });
  const form = el("form.intro-form", { novalidate: true },
    el("div.setup-form", {},
      el("label.setup-field", { for: "setup-self-name" }, el("span.setup-label", { text: t("intro.selfName") }), selfName),
      el("label.setup-field", { for: "setup-user-name" }, el("span.setup-label", { text: t("intro.userName") }), userName)),
    el("fieldset.intro-avatars", { role: "radiogroup" }, el("legend.setup-label", { text: t("intro.avatar") }), ...choices),
    el("label.intro-checkins", { for: "setup-checkins" }, checkins, el("span", { text: t("intro.checkins") })),
    el("div.setup-row", {}, save, skip), statusNode);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const names = {};
    for (const [key, input] of [["self_name", selfName], ["user_name", userName]]) {
      const value = input.value.trim();
      if (value && value !== profile[key]) names[key] = value;
    }
    const picked = (form.querySelector("input[name=setup-avatar]:checked") || {}).value;
    save.disabled = skip.disabled = true;
    const results = [];
    if (Object.keys(names).length) results.push(await call("memory_profile_set", { profile: names }));
    const patch = {};
    if (picked && picked !== current) patch.avatar = { model: picked };
    if (checkins.checked !== checkinsOn) patch.plugins = { checkins_enabled: checkins.checked };
    if (Object.keys(patch).length) results.push(await call("settings_set", { patch }));
    const failed = results.find((r) => !r.ok);
    if (!failed) return done();
    save.disabled = skip.disabled = false;
    statusNode.className = "setup-status error";
    statusNode.textContent = errorLine(failed.error);
  });
  clear(card);
  card.append(
    el("div.setup-head", {}, el("h2.setup-title#setup-title", { text: t("intro.title") })),
    el("p.setup-lead", { text: t("intro.lead") }),
    form,
  );
  selfName.focus();
}
