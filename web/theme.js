// Applies the remembered theme before first paint (loaded without defer, so no flash of the wrong theme).
// Themes: "system" (the default: follows prefers-color-scheme), "light", "dark"; theme-color follows the choice.
'use strict';
(function () {
  const COLORS = { light: '#ffffff', dark: '#161a22' };

  function apply(choice) {
    const root = document.documentElement;
    if (choice !== 'light' && choice !== 'dark') choice = 'system';
    root.dataset.themeChoice = choice;
    if (choice === 'system') delete root.dataset.theme;
    else root.dataset.theme = choice;
    // Two metas, one per media query: "system" keeps each its own colour, a choice gives both the chosen one.
    for (const meta of document.querySelectorAll('meta[name="theme-color"]')) {
      const scheme = (meta.media || '').includes('dark') ? 'dark' : 'light';
      meta.content = COLORS[choice === 'system' ? scheme : choice];
    }
    return choice;
  }

  let saved = null;
  try { saved = localStorage.getItem('konnect.theme'); } catch (_) { /* storage disabled: follow the system */ }
  apply(saved);
  window.KonnectTheme = { apply };
})();
