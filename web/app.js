// Konnect web client entry: login and registration, then hands the page to a Session; wires the page controls.
'use strict';

(function (K) {
  const $ = (id) => document.getElementById(id);
  const AUTH_ERRORS = {
    invalid_credentials: 'Wrong username or password.',
    username_taken: 'That username is taken — pick another.',
    invalid_username: 'A username is 1–32 letters, digits, “_”, “.” or “-”.',
    invalid_password: 'A password needs at least 8 characters.',
    network: 'The server cannot be reached. Try again in a moment.',
  };
  const AUTH_FIELDS = {  // the field an error is about, where the focus goes; none: the submit button keeps it
    invalid_credentials: 'password',
    username_taken: 'username',
    invalid_username: 'username',
    invalid_password: 'password',
  };
  const SLEEP_GAP_MS = 15000;  // a timer that fires this late means the machine slept
  const UNSENT_USER_KEY = 'konnect.unsentUser';

  const api = new K.Api();
  const title = K.ui.unreadTitle();
  let session = null;
  let mode = 'login';

  api.onNetwork = (ok) => {
    const banner = $('net-status');
    if (banner.hidden === ok) return;
    banner.hidden = ok || !session;
    if (ok && session) { K.waker.wake(); session.reconnected(); }
  };
  api.onUnauthorized = () => {
    if (!session) return;
    // Messages the ended session could not send stay in this user's outbox (localStorage) and are sent after
    // the next login as the same user; until then the login screen shows them (never silently hidden).
    K.storage.write(UNSENT_USER_KEY, api.username);
    endSession(false);
    api.forget();
    showAuth('Your session has ended. Please log in again.');
  };

  /** The messages of the user whose session ended while they were queued, on the login screen. */
  function showUnsent() {
    const user = K.storage.read(UNSENT_USER_KEY);
    let items = [];
    try { items = user ? JSON.parse(K.storage.read(`konnect.outbox.${user}`) || '[]') : []; } catch (_) { items = []; }
    if (!Array.isArray(items) || !items.length) {
      if (user) K.storage.remove(UNSENT_USER_KEY);
      $('unsent').hidden = true;
      return;
    }
    $('unsent-title').textContent = `Not sent — will send after you log in as ${user}`;
    $('unsent-list').replaceChildren(...items.map((item) => {
      const li = document.createElement('li');
      const room = document.createElement('span');
      room.className = 'unsent-room';
      room.textContent = K.rooms.isDirect(item.room) ? `@${K.rooms.label(item.room, user)}` : `#${item.room}`;
      const text = document.createElement('span');
      text.className = 'unsent-text';
      text.dir = 'auto';
      text.textContent = [item.text, (item.fileNames || []).map((n) => `📎 ${n}`).join(' ')].filter(Boolean).join(' ');
      li.append(room, text);
      return li;
    }));
    $('unsent').hidden = false;
    if (!$('username').value) $('username').value = user;
  }

  function setMode(next) {
    mode = next;
    for (const [id, m] of [['tab-login', 'login'], ['tab-register', 'register']]) {
      $(id).setAttribute('aria-selected', String(m === mode));
      $(id).tabIndex = m === mode ? 0 : -1;
    }
    $('auth-form').setAttribute('aria-labelledby', mode === 'login' ? 'tab-login' : 'tab-register');
    $('auth-submit').textContent = mode === 'login' ? 'Log in' : 'Create account';
    $('password').autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    $('username-hint').hidden = mode === 'login';
    $('password-hint').hidden = mode === 'login';
    setAuthError('', null);
  }

  /**
   * Shows a login/registration error under the field it is about (`field` null: the form as a whole), ties it
   * to the field (aria-invalid, aria-describedby) and moves the focus there. The error line keeps its height
   * whether empty or not, so nothing jumps.
   */
  function setAuthError(message, field, focus) {
    for (const id of ['username', 'password']) {
      const input = $(id);
      const invalid = Boolean(message) && field === id;
      input.toggleAttribute('aria-invalid', invalid);
      if (invalid) input.setAttribute('aria-invalid', 'true');
      const hint = $(`${id}-hint`);
      const described = [invalid ? 'auth-error' : '', hint.hidden ? '' : hint.id].filter(Boolean).join(' ');
      if (described) input.setAttribute('aria-describedby', described);
      else input.removeAttribute('aria-describedby');
    }
    $('auth-error').textContent = message || '';
    if (focus && message) $(field || 'username').focus();
  }

  function showAuth(message) {
    setMode('login');
    $('chat').hidden = true;
    $('auth').hidden = false;
    $('net-status').hidden = true;
    setAuthError(message || '', null);
    $('password').value = '';
    title.clear();
    showUnsent();
    ($('username').value ? $('password') : $('username')).focus();
  }

  async function submitAuth(event) {
    event.preventDefault();
    const username = $('username').value.trim(), password = $('password').value;
    if (!username) { setAuthError('Enter a username.', 'username', true); return; }
    if (!password) { setAuthError('Enter a password.', 'password', true); return; }
    // Busy without `disabled`: disabling the focused button would drop the focus to the page.
    if ($('auth-submit').getAttribute('aria-disabled') === 'true') return;
    $('auth-submit').setAttribute('aria-disabled', 'true');
    try {
      if (mode === 'register') await api.register(username, password);
      await api.login(username, password);
      $('password').value = '';
      startSession();
    } catch (error) {
      if (!(error instanceof K.ApiError)) throw error;
      const message = error.code === 'too_many_attempts'
        ? `Too many attempts. Try again in ${Math.max(1, Math.ceil(error.retryAfter / 60))} min.`
        : AUTH_ERRORS[error.code] || error.message;
      setAuthError(message, AUTH_FIELDS[error.code] || null, true);
      if (!AUTH_FIELDS[error.code]) $('auth-submit').focus();
    } finally {
      $('auth-submit').removeAttribute('aria-disabled');
    }
  }

  function startSession() {
    if (K.storage.read(UNSENT_USER_KEY) === api.username) K.storage.remove(UNSENT_USER_KEY);
    $('unsent').hidden = true;
    $('auth').hidden = true;
    $('chat').hidden = false;
    $('me-name').textContent = api.username;
    const avatar = K.render.avatar(api.username);
    $('me-avatar').className = avatar.className;
    $('me-avatar').textContent = avatar.textContent;
    session = new K.Session(api, title);
    session.start();
    $('text').focus();
  }

  function endSession(forget) {
    if (session) session.stop(forget);
    session = null;
  }

  async function logout() {
    endSession(true);
    await api.logout();
    showAuth('');
  }

  function setupComposer(drawer) {
    const box = $('text');
    // On a phone (touch screen, no hover) Enter is a new line and the send button sends, as in the chat apps
    // people use there; with a keyboard, Enter sends and Shift+Enter is a new line.
    const phone = matchMedia('(pointer: coarse) and (hover: none)');
    const describeEnter = () => {
      box.enterKeyHint = phone.matches ? 'enter' : 'send';
      $('composer-help').textContent = phone.matches
        ? 'Enter starts a new line; the Send button sends.' : 'Enter sends, Shift+Enter starts a new line.';
    };
    phone.addEventListener('change', describeEnter);
    describeEnter();
    box.addEventListener('keydown', (event) => {
      // Enter that ends an IME composition is not a send.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !phone.matches) {
        event.preventDefault();
        $('composer').requestSubmit();
      }
    });
    box.addEventListener('input', () => { if (session) session.saveDraft(box.value); });
    K.files.init(api);
    const attachments = new K.files.Attachments();
    $('composer').addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!session) return;
      if (!attachments.count) {
        if (session.send(box.value)) box.value = '';
        box.focus();
        return;
      }
      // A message with files: never posted without them. A file the server refused blocks the send (the text stays);
      // else the message is queued like text (outbox.js): it is posted once its uploads are stored, offline or not.
      const refused = attachments.refused();
      if (refused) {
        session.flash(`Not sent: ${refused.file.name || 'file'}: ${refused.error.message}`);
        box.focus();
        return;
      }
      session.sendWithFiles(box.value, attachments.take());
      box.value = '';
      box.focus();
    });
    $('attach-button').addEventListener('click', () => $('file-input').click());
    $('file-input').addEventListener('change', () => {
      const input = $('file-input');
      if (input.files.length) attachments.add(Array.from(input.files));
      input.value = '';
      box.focus();
    });
    box.addEventListener('paste', (event) => {
      const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
      if (!files.length) return;  // plain text pastes as usual
      event.preventDefault();
      attachments.add(files);
    });
    const conversation = document.querySelector('.conversation');
    const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes('Files');
    conversation.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      conversation.classList.add('dropping');
    });
    conversation.addEventListener('dragleave', (event) => {
      if (!conversation.contains(event.relatedTarget)) conversation.classList.remove('dropping');
    });
    conversation.addEventListener('drop', (event) => {
      conversation.classList.remove('dropping');
      if (!carriesFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer.files.length) attachments.add(Array.from(event.dataTransfer.files));
      box.focus();
    });
    $('skip-link').addEventListener('click', (event) => {
      if ($('chat').hidden) return;
      event.preventDefault();
      box.focus();
    });
    $('room-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      if (session && await session.createRoom($('room-name').value, $('room-private').checked)) {
        $('room-name').value = '';
        $('room-private').checked = false;
        showForm('room', false);
        drawer.close();
        box.focus();
      }
    });
    $('dm-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      if (session && await session.openDirect($('dm-name').value)) {
        $('dm-name').value = '';
        showForm('dm', false);
        drawer.close();
        box.focus();
      }
    });
    for (const kind of ['room', 'dm']) {
      $(`${kind}-add`).addEventListener('click', () => showForm(kind, $(`${kind}-form`).hidden));
      $(`${kind}-form`).addEventListener('keydown', (event) => {
        if (event.key !== 'Escape') return;
        event.stopPropagation();  // closes the form, not the drawer
        showForm(kind, false);
        $(`${kind}-add`).focus();
      });
    }
    $('drawer').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-room]');
      if (!button || !session) return;
      session.open(button.dataset.room);
      drawer.close();
      box.focus();
    });
  }

  /** The "+" of a sidebar section shows or hides its small form (new room, new direct message). */
  function showForm(kind, open) {
    const form = $(`${kind}-form`);
    form.hidden = !open;
    $(`${kind}-add`).setAttribute('aria-expanded', String(open));
    $(`${kind}-error`).textContent = '';
    if (open) $(kind === 'room' ? 'room-name' : 'dm-name').focus();
  }

  /** The members panel of the open room: a column on wide screens, a sheet over the conversation on phones. */
  function setupMembers() {
    const narrow = matchMedia('(max-width: 767px)');
    const conversation = document.querySelector('.conversation');
    const sync = () => { conversation.inert = !$('members-panel').hidden && narrow.matches; };
    narrow.addEventListener('change', sync);
    $('members-button').addEventListener('click', () => {
      if (!session) return;
      if (session.membersOpen) session.closeMembers(true);
      else session.openMembers();
      sync();
    });
    $('members-close').addEventListener('click', () => { if (session) session.closeMembers(true); sync(); });
    $('members-panel').addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !session) return;
      session.closeMembers(true);
      sync();
    });
    $('member-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const name = $('member-name').value.trim().replace(/^@/, '');
      if (session && await session.changeMember(name, true)) $('member-name').value = '';
      $('member-name').focus();
    });
    $('members').addEventListener('click', async (event) => {
      const button = event.target.closest('button[data-member]');
      if (!button || !session) return;
      await session.changeMember(button.dataset.member, false);
      if (session && session.membersOpen) $('member-name').focus();
    });
    $('leave').addEventListener('click', async () => {
      if (!session) return;
      const join = $('leave').dataset.action === 'join';
      await session.changeMember(session.api.username, join);
      sync();
    });
  }

  /** Timers stall while a laptop sleeps; a late tick means any held poll is probably dead, so start afresh. */
  function watchForSleep() {
    let last = Date.now();
    setInterval(() => {
      const now = Date.now();
      if (now - last > SLEEP_GAP_MS && session) { K.waker.wake(); session.reconnected(); }
      last = now;
    }, 5000);
    // Network change: a held poll may be on a dead connection either way, so start afresh (and on 'offline'
    // the failing retry shows the banner at once instead of after the poll's timeout).
    addEventListener('online', () => { K.waker.wake(); if (session) session.reconnected(); });
    addEventListener('offline', () => { if (session) session.reconnected(); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) K.waker.wake(); });
  }

  function boot() {
    K.ui.setupTheme();
    const drawer = K.ui.setupDrawer();
    K.ui.setupEmoji($('text'));
    setupComposer(drawer);
    setupMembers();
    $('tab-login').addEventListener('click', () => setMode('login'));
    $('tab-register').addEventListener('click', () => setMode('register'));
    document.querySelector('.tabs').addEventListener('keydown', (event) => {
      // WAI-ARIA tabs pattern: arrow keys move between the two tabs.
      if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
      setMode(mode === 'login' ? 'register' : 'login');
      $(mode === 'login' ? 'tab-login' : 'tab-register').focus();
    });
    $('auth-form').addEventListener('submit', submitAuth);
    $('net-retry').addEventListener('click', () => { K.waker.wake(); if (session) session.reconnected(); });
    $('logout').addEventListener('click', logout);
    K.notify.setup($('notify-toggle'), (text) => {
      if (session && text) session.flash(text);
      else $('composer-error').hidden = true;
    });
    watchForSleep();
    // A message whose files are still uploading lives only in this page: ask before it goes (outbox.js).
    addEventListener('beforeunload', (event) => {
      if (session && session.outbox.uploading()) { event.preventDefault(); event.returnValue = ''; }
    });
    if (api.signedIn) startSession();
    else showAuth('');
  }

  boot();
})(window.Konnect);
