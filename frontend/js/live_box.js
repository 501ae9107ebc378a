// What a test box of the settings page says, kept for the box drawn last.
//
// The settings form is drawn anew often (a language chosen, a save, the settings
// fetched again on opening the page, the theme flipped), each time with new boxes: what
// a test says, and its answer when it comes, go to the box drawn last, not to the one
// its button was in. Else an answer that came after a redraw was written into the
// detached box: "Testing…" gone and nothing said.

import { getLang } from "./i18n.js";

/** One test box's state across redraws. `paint(parts, state, fresh)` shows `state` in
 * the parts of a box (`fresh`: just said, not shown again in a new box).
 * - `attach(parts)`: the box just drawn; what was said shows again in it, unless said in
 *   another language;
 * - `say(state, fresh)`: say `state` in the box drawn last (kept for the next one);
 * - `ask()`: a new test; returns `current()`, false once a later test was asked (an
 *   earlier one's late answer is not shown over it). */
export function liveBox(paint) {
  let live = null; // the parts of the box drawn last
  let last = null; // what the box says ({...state, lang}), null: nothing yet
  let asked = 0;
  return {
    attach(parts) {
      live = parts;
      if (last && last.lang === getLang()) paint(live, last, false);
    },
    say(state, fresh = false) {
      last = { ...state, lang: getLang() };
      if (live) paint(live, last, fresh);
    },
    ask() {
      const mine = ++asked;
      return () => mine === asked;
    },
  };
}
