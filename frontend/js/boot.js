// The page's entry: the main window (app.js), or the desktop pet (pet.js) when the
// address says so: index.html?pet=1 or index.html#pet (early.js, before the first
// paint, already made the pet transparent — or gave it the panel's background with
// bg=panel, where the desktop cannot show through: desktop/pet_desktop.py — or drew
// a theme the address names).

// early.js decided it from the address (one place reads ?pet=1 / #pet).
const pet = document.documentElement.classList.contains("pet-mode");

if (pet) {
  import("./pet.js");
} else {
  import("./app.js");
}
