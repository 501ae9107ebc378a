// The avatar picker with pictures, one for the whole page: the first-run
// introductions (setup_intro.js) and Settings → Appearance (settings_pickers.js).
// Bundled models and the simple drawing have a picture (img/avatars/<id>.png);
// an imported model shows its name on a plain card.

import { t } from "./i18n.js";
import { el } from "./ui.js";

const PICTURES = new Set(["haru", "shizuku", "hijiki", "svg"]);

function label(model) {
  return model.id === "svg" ? t("intro.avatar.svg") : model.name || model.id;
}

/** Radio cards for `models` ([{id, name}]): inputs named `name`, `current` checked,
 * each card `label.intro-avatar#<idPrefix>-<id>`. */
export function avatarChoices(models, { name, current, idPrefix }) {
  return models.map((m) => {
    const input = el("input", { type: "radio", name, value: m.id, checked: m.id === current });
    const picture = PICTURES.has(m.id)
      ? el("img.intro-avatar-img", { src: `img/avatars/${m.id}.png`, alt: "", width: 96, height: 120 })
      : el("span.intro-avatar-img.none", { text: (label(m)[0] || "?").toUpperCase() });
    return el(`label.intro-avatar#${idPrefix}-${m.id}`, { title: label(m) }, input, picture,
      el("span.intro-avatar-name", { text: label(m) }));
  });
}
