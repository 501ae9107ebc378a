// Runs before the first paint: a classic script in <head> (a module runs only after
// the page may already have been painted). The pet's transparent mode, and a theme
// the desktop window names in the address (?theme=dark), so the loading state is
// drawn in it before the settings arrive. boot.js then picks the page's module.
(function early() {
  const params = new URLSearchParams(window.location.search);
  const root = document.documentElement;
  if (params.get("pet") === "1" || window.location.hash === "#pet") {
    root.classList.add("pet-mode");
    // No compositor: the panel's background instead of transparent (desktop/pet_desktop.py).
    if (params.get("bg") === "panel") root.classList.add("pet-panel");
  } else if (params.get("theme") === "dark" || params.get("theme") === "light") root.dataset.theme = params.get("theme");
})();
