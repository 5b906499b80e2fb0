// Applies the remembered theme before first paint (loaded without defer, so no flash of the wrong theme).
'use strict';
(function () {
  try {
    const theme = localStorage.getItem('konnect.theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch (_) { /* storage disabled: follow prefers-color-scheme */ }
})();
