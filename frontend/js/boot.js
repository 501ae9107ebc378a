// The page's entry: the main window (app.js), or the desktop pet (pet.js) when the
// address says so: index.html?pet=1 or index.html#pet (early.js, before the first
// paint, already made the pet transparent — or gave it the panel's background with
// bg=panel, where the desktop cannot show through: desktop/pet_desktop.py — or drew
// a theme the address names).

const params = new URLSearchParams(window.location.search);
const pet = params.get("pet") === "1" || window.location.hash === "#pet";

if (pet) {
  import("./pet.js");
} else {
  import("./app.js");
}
