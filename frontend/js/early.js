// Runs before the first paint: a classic script in <head> (a module runs only after
// the page may already have been painted). The pet's transparent mode, and a theme
// and language the desktop window names in the address (?theme=dark&lang=en), so the
// loading state is drawn in them before the settings arrive. boot.js then picks the
// page's module.
(function early() {
  const params = new URLSearchParams(window.location.search);
  const root = document.documentElement;
  if (params.get("pet") === "1" || window.location.hash === "#pet") {
    root.classList.add("pet-mode");
    // No compositor: the panel's background instead of transparent (desktop/pet_desktop.py).
    if (params.get("bg") === "panel") root.classList.add("pet-panel");
  } else if (params.get("theme") === "dark" || params.get("theme") === "light") root.dataset.theme = params.get("theme");
  // Two animation frames later the page's first frame is on the screen: the desktop
  // then removes its native loading state (desktop/loading.py asks for this mark).
  requestAnimationFrame(() => requestAnimationFrame(() => { root.dataset.painted = "1"; }));
  // The desktop names the app's language (?lang=en): the loading state reads in it
  // from the first paint (app.css shows the matching text; app.js then takes over).
  const lang = params.get("lang");
  if (lang === "en" || lang === "zh") {
    root.dataset.bootLang = lang;
    root.lang = lang === "zh" ? "zh-CN" : "en";
  } else {
    // <html lang> is a guess until the page knows its language: the bridge is not
    // told it (transport.js), so it neither speaks it nor switches the companion to it.
    root.dataset.langGuessed = "1";
  }
})();
