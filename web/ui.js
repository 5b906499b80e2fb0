// Page chrome: theme choice, the room drawer on narrow screens, the emoji picker and the unread count in the title.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const EMOJI = ['😀', '😂', '🙂', '😊', '😍', '🤔', '😅', '😎', '😢', '😮', '😴', '🤯', '🙏', '👍', '👎', '👏',
    '🙌', '💪', '👋', '🤝', '👀', '🎉', '🔥', '✨', '❤️', '💯', '✅', '❌', '🚀', '☕', '🍕', '🌟'];

  const THEMES = ['system', 'light', 'dark'];

  /** Theme button: cycles system → light → dark, remembers the choice; "system" follows prefers-color-scheme. */
  function setupTheme() {
    const button = document.getElementById('theme');
    const current = () => document.documentElement.dataset.themeChoice || 'system';
    const label = () => {
      const now = current(), next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
      button.setAttribute('aria-label', `Theme: ${now}. Switch to ${next}`);
      button.title = `Theme: ${now}`;
    };
    button.addEventListener('click', () => {
      const next = THEMES[(THEMES.indexOf(current()) + 1) % THEMES.length];
      window.KonnectTheme.apply(next);
      if (next === 'system') K.storage.remove('konnect.theme');
      else K.storage.write('konnect.theme', next);
      label();
    });
    label();
  }

  /** Below the breakpoint the room list is a drawer: opened by the menu button, closed by Escape or a choice. */
  function setupDrawer() {
    const chat = document.getElementById('chat');
    const menu = document.getElementById('menu');
    const backdrop = document.getElementById('backdrop');
    const conversation = document.querySelector('.conversation');
    const set = (open) => {
      chat.classList.toggle('drawer-open', open);
      conversation.inert = open;  // keyboard focus stays in the open drawer
      menu.setAttribute('aria-expanded', String(open));
      backdrop.hidden = !open;
      if (open) {
        const target = document.querySelector('#drawer [aria-current="page"]') || document.getElementById('room-add');
        target.focus();
      }
    };
    menu.addEventListener('click', () => set(!chat.classList.contains('drawer-open')));
    // Widening the window past the breakpoint turns the drawer back into a sidebar: close it (and un-inert).
    matchMedia('(max-width: 767px)').addEventListener('change', (event) => { if (!event.matches) set(false); });
    backdrop.addEventListener('click', () => set(false));
    document.getElementById('drawer-close').addEventListener('click', () => { set(false); menu.focus(); });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && chat.classList.contains('drawer-open')) { set(false); menu.focus(); }
    });
    return { close: () => set(false) };
  }

  /** A grid of common emoji; a choice is inserted at the cursor of the composer. Arrow keys move, Escape closes. */
  function setupEmoji(textarea) {
    const button = document.getElementById('emoji-button');
    const panel = document.getElementById('emoji-panel');
    for (const emoji of EMOJI) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'emoji';
      b.textContent = emoji;
      b.setAttribute('aria-label', `Insert ${emoji}`);
      panel.append(b);
    }
    const buttons = () => Array.from(panel.querySelectorAll('button'));
    const set = (open) => {
      panel.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (open) buttons()[0].focus();
    };
    button.addEventListener('click', () => set(panel.hidden));
    panel.addEventListener('click', (event) => {
      const b = event.target.closest('button');
      if (!b) return;
      const start = textarea.selectionStart, end = textarea.selectionEnd;
      textarea.setRangeText(b.textContent, start, end, 'end');
      set(false);
      textarea.focus();
    });
    panel.addEventListener('keydown', (event) => {
      const all = buttons(), i = all.indexOf(document.activeElement);
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[event.key];
      if (step && i >= 0) { event.preventDefault(); all[(i + step + all.length) % all.length].focus(); }
      if (event.key === 'Escape') { event.stopPropagation(); set(false); button.focus(); }
    });
    panel.addEventListener('focusout', (event) => {
      if (!panel.contains(event.relatedTarget) && event.relatedTarget !== button) set(false);
    });
    document.addEventListener('pointerdown', (event) => {
      if (!panel.hidden && !panel.contains(event.target) && !button.contains(event.target)) set(false);
    });
  }

  /** The title counts unread messages of all rooms, as chat apps do: "(3) Konnect". The session sets it. */
  function unreadTitle() {
    const show = (n) => { document.title = n > 0 ? `(${n > 999 ? '999+' : n}) Konnect` : 'Konnect'; };
    return {
      set(n) { show(n); },
      clear() { show(0); },
    };
  }

  K.ui = { setupTheme, setupDrawer, setupEmoji, unreadTitle };
})(window.Konnect);
