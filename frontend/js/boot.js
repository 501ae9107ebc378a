// The page's entry: the main window (app.js), or the desktop pet (pet.js) when the
// address says so: index.html?pet=1 or index.html#pet (with bg=panel where the desktop
// cannot show through the window: no compositor, desktop/pet_desktop.py).

const params = new URLSearchParams(window.location.search);
const pet = params.get("pet") === "1" || window.location.hash === "#pet";

if (pet) {
  document.documentElement.classList.add("pet-mode"); // transparent before the first paint
  if (params.get("bg") === "panel") document.documentElement.classList.add("pet-panel");
  import("./pet.js");
} else {
  import("./app.js");
}
