// The page's entry: the main window (app.js), or the desktop pet (pet.js) when the
// address says so: index.html?pet=1 or index.html#pet.

const params = new URLSearchParams(window.location.search);
const pet = params.get("pet") === "1" || window.location.hash === "#pet";

if (pet) {
  document.documentElement.classList.add("pet-mode"); // transparent before the first paint
  import("./pet.js");
} else {
  import("./app.js");
}
