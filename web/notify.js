// Browser notifications for direct messages while the tab is hidden (issue 10); asked for only from a click.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const KEY = 'konnect.notify';  // 'on' once the user turned them on with the bell (and the browser allowed it)
  const MAX_BODY = 140;          // characters of the message shown; longer text is cut with "…"
  let button = null;
  let say = () => {};

  function supported() { return typeof window.Notification === 'function'; }
  function permission() { return supported() ? Notification.permission : 'denied'; }
  function enabled() { return K.storage.read(KEY) === 'on' && permission() === 'granted'; }

  /** The bell's look and words follow the choice and the browser's permission. */
  function render() {
    if (!button) return;
    const on = enabled();
    const blocked = permission() === 'denied';
    button.setAttribute('aria-pressed', String(on));
    button.classList.toggle('on', on);
    button.title = !supported() ? 'This browser cannot show notifications'
      : blocked ? 'Notifications are blocked for this site in the browser settings'
        : on ? 'Notifications for direct messages: on' : 'Notifications for direct messages: off';
  }

  /**
   * The bell in the sidebar: turns notifications on (asking the browser for permission then, from this click,
   * never on load) or off. `tell(text)` says why when they cannot be turned on.
   */
  function setup(bell, tell) {
    button = bell;
    say = tell;
    render();
    bell.addEventListener('click', async () => {
      if (enabled()) { K.storage.remove(KEY); render(); return; }
      if (!supported()) { say('This browser cannot show notifications.'); return; }
      let answer = Notification.permission;
      if (answer === 'default') {
        try { answer = await Notification.requestPermission(); } catch (_) { answer = Notification.permission; }
      }
      if (answer === 'granted') { K.storage.write(KEY, 'on'); say(''); } else say('Notifications are blocked for this site: allow them in the browser’s site settings.');
      render();
    });
  }

  /** "hello there…": the message's text only, on one line, cut to MAX_BODY characters. */
  function body(message) {
    const text = String(message.text || '').replace(/\s+/g, ' ').trim();
    const chars = Array.from(text);
    if (!chars.length) return message.files && message.files.length ? 'sent a file' : '';
    return chars.length > MAX_BODY ? `${chars.slice(0, MAX_BODY - 1).join('')}…` : text;
  }

  /** Shows a direct message (the caller checked: someone else's, the tab hidden); a click focuses and opens it. */
  function show(message, opened) {
    if (!enabled()) { render(); return null; }  // the permission may have been withdrawn: the bell shows it
    let note;
    try {
      note = new Notification(message.user, { body: body(message), tag: message.room, icon: 'icon.svg' });
    } catch (_) {
      return null;  // some browsers only notify from a service worker: nothing to show then
    }
    note.onclick = () => { note.close(); opened(); };
    return note;
  }

  K.notify = { setup, show, body, render };
})(window.Konnect);
