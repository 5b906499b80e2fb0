// Chat session of a signed-in user: the open room, the room list, the outbox and the composer (the feed's events:
// session-feed.js; the members panel: session-members.js).
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const $ = (id) => document.getElementById(id);
  // The feed's `joined`/`left` events keep the list of the user's own rooms current; this slow refresh only
  // finds public rooms others created (no event reaches a non-member).
  const ROOMS_REFRESH_MS = 60000;
  const ROOM_PAGES = 10;            // at most this many pages of GET /rooms (1,000 rooms each) per refresh
  const ROOM_ERRORS = {
    room_exists: 'That room already exists.',
    invalid_room_name: 'Room names are 1–64 lowercase letters, digits, “_” or “-”.',
    network: 'The server cannot be reached.',
  };
  const USER_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
  const SVG = 'http://www.w3.org/2000/svg';

  /** One signed-in user's page. Built on login, dropped on logout or 401. */
  class Session {
    constructor(api, title) {
      this.api = api;
      this.title = title;
      this.room = K.storage.read('konnect.room') || 'general';
      this.rooms = [];
      this.roomsLoaded = false;  // a complete list has arrived at least once
      this.members = null;       // the open room's object with `members`, while the members panel shows it
      this.sent = new Map();  // client_id → item: stored by the server, not yet delivered by the feed
      this.seenKey = `konnect.seen.${api.username}`;
      this.draftsKey = `konnect.drafts.${api.username}`;
      this.activityKey = `konnect.activity.${api.username}`;
      // Direct room → [seq, time of its newest message as ms]: the order of the direct chats across reloads.
      try { this.activity = JSON.parse(K.storage.read(this.activityKey) || '{}'); } catch (_) { this.activity = {}; }
      if (!this.activity || typeof this.activity !== 'object') this.activity = {};
      try { this.drafts = JSON.parse(K.storage.read(this.draftsKey) || '{}'); } catch (_) { this.drafts = {}; }
      if (!this.drafts || typeof this.drafts !== 'object') this.drafts = {};
      try { this.seen = JSON.parse(K.storage.read(this.seenKey) || '{}'); } catch (_) { this.seen = {}; }
      if (!this.seen || typeof this.seen !== 'object') this.seen = {};
      // Rooms that appear later (a direct message, a private room you were added to) count all their messages
      // as unread; on the very first list every room starts as read.
      this.seenBefore = Object.keys(this.seen).length > 0;
      this.view = new K.MessageView(api.username, () => this.feed.loadOlder());
      this.view.notes = (name) => K.rooms.notes(name, api.username);
      this.feed = new K.Feed(api, {
        reset: (state) => { this.view.reset(state); this.markSeen(state); this.showPending(); },
        append: (state, fresh) => this.appended(state, fresh),
        prepend: (state, older) => this.view.prepend(state, older),
        loading: (state) => this.view.updateNote(state),
        failed: (state, error) => this.roomFailed(state, error),
        events: (list) => this.feedEvents(list),
        follows: (name) => this.follows(name),
      });
      this.onVisibility = () => {
        if (!document.hidden && this.feed.current) this.markSeen(this.feed.current);
      };
      this.outbox = new K.Outbox(api, {
        changed: () => this.showPending(),
        sent: (item, message) => this.delivered(item, message),
        rejected: (item, error) => this.rejected(item, error),
      });
    }

    start() {
      this.showRoomName();
      this.loadDraft();
      this.feed.start();  // the feed's position first, then the room's history (Feed.runRoom waits for it)
      this.feed.open(this.room);
      this.outbox.pump();
      this.refreshRooms();
      document.addEventListener('visibilitychange', this.onVisibility);
      this.timer = setInterval(() => this.refreshRooms(), ROOMS_REFRESH_MS);
      this.api.me().catch(() => {});  // a revoked token shows at once (401 → login) rather than on the next poll
    }

    stop(forget) {
      clearInterval(this.timer);
      document.removeEventListener('visibilitychange', this.onVisibility);
      this.stopped = true;
      if (forget) K.storage.remove(this.draftsKey);  // log out: nothing typed stays on this device
      else this.saveDraft($('text').value);
      this.feed.stop();
      this.outbox.stop(forget);
      this.closeMembers(false);
      for (const id of ['messages', 'pending', 'rooms', 'dms', 'announcer']) $(id).replaceChildren();
    }

    label(name) { return K.rooms.label(name, this.api.username); }
    mention(name) { return K.rooms.mention(name, this.api.username); }

    open(room) {
      if (room === this.room) return;
      this.saveDraft($('text').value);  // the text typed belongs to the room it was typed in
      this.room = room;
      this.sent.clear();  // sent messages of the room left are part of its history now
      K.storage.write('konnect.room', room);
      this.showRoomName();
      this.loadDraft();
      this.feed.open(room);
      this.renderRooms();
      if (this.members) this.showMembers();
    }

    /** The composer's text of the open room, kept per room in localStorage (survives a reload). */
    saveDraft(text) {
      if (!this.room) return;
      if (text.trim()) this.drafts[this.room] = text;
      else delete this.drafts[this.room];
      if (Object.keys(this.drafts).length) K.storage.write(this.draftsKey, JSON.stringify(this.drafts));
      else K.storage.remove(this.draftsKey);
    }

    loadDraft() {
      $('text').value = (this.room && this.drafts[this.room]) || '';
    }

    showRoomName() {
      const name = this.room || 'general';
      const info = this.rooms.find((r) => r.name === name);
      const kind = K.rooms.isDirect(name) ? 'direct' : info ? info.visibility : 'public';
      const title = $('room-title');
      title.dataset.room = name;
      title.dataset.kind = kind;
      $('room-name-label').textContent = this.label(name);
      $('room-kind').textContent = kind === 'private' ? ' (private room)' : kind === 'direct' ? ' (direct messages)' : '';
      const mark = $('room-mark');
      if (kind === 'direct') mark.replaceChildren(K.render.avatar(K.rooms.peer(name, this.api.username) || this.api.username));
      else if (kind === 'private') mark.replaceChildren(lockIcon());
      else mark.textContent = '#';
      $('text').placeholder = `Message ${this.mention(name)}`;
      $('members-button').setAttribute('aria-label', `Members of ${this.mention(name)}`);
    }

    /** After an outage: fetch what was missed at once, and let waiting sends go. */
    reconnected() {
      this.feed.restart();
      this.outbox.pump();
      this.refreshRooms();
    }

    /** Queues the composer's text (trailing white space trimmed); false when there is nothing to send. */
    send(raw) {
      const text = raw.replace(/\s+$/u, '');
      if (!text.trim()) return false;
      this.outbox.add(this.room, text);
      this.saveDraft('');
      return true;
    }

    /** Queues a message with files (`attached` from Attachments.take()); the text may be empty. */
    sendWithFiles(raw, attached) {
      this.outbox.add(this.room, raw.replace(/\s+$/u, ''), attached);
      this.saveDraft('');
    }

    appended(state, fresh) {
      // The pending copy leaves in the same task the stored message arrives: a message is never shown twice.
      this.view.append(state, fresh);
      const { max, keep } = K.MessageView.limits;
      if (state.messages.length > max && this.view.atBottom && state.dropOldest(keep)) {
        this.view.dropOldest(state);
        this.view.scrollToBottom();
      }
      this.showPending();
      // A room the feed does not carry (a public room the user only looks at) counts here while the tab is hidden.
      const room = this.rooms.find((r) => r.name === state.name);
      if (room && document.hidden && !this.follows(state.name)) {
        room.unread = (room.unread || 0) + fresh.filter((m) => !this.isMe(m.user)).length;
        room.last_seq = Math.max(room.last_seq, state.lastSeq);
        this.updateTitle();
      }
      this.markSeen(state);
    }

    delivered(item, message) {
      item.state = 'sent';
      item.seq = message.seq;
      this.sent.set(item.clientId, item);
      this.showPending();
    }

    rejected(item, error) {
      // Keep the text: give it back to the composer so nothing typed is lost.
      const box = $('text');
      if (!box.value.trim()) box.value = item.text;
      this.showPending();
      if (error.code === 'room_not_found') {
        this.flash(`Not sent: you are no longer in ${this.mention(item.room)}. The text is back in the message box.`);
        this.dropRoom(item.room, false);
      } else {
        this.flash(`Not sent: ${error.message}`);
      }
    }

    showPending() {
      const state = this.feed.current;
      if (!state) return;
      for (const [clientId, item] of this.sent) if (item.seq <= state.lastSeq) this.sent.delete(clientId);
      const items = [...this.sent.values()].filter((item) => item.room === state.name)
        .concat(this.outbox.forRoom(state.name));
      this.view.showPending(state, items);
    }

    /**
     * A 404 for the open room: it was deleted, or it is private and the user was removed (API.md: a room you are
     * not in does not exist for you). The feed has stopped (no retry of a 404); the room leaves the list and
     * the page moves to #general.
     */
    roomFailed(state, error) {
      if (error.code === 'room_not_found' && state.name !== 'general') {
        this.dropRoom(state.name, true);
        return;
      }
      this.view.note.textContent = `This room cannot be shown: ${error.message}`;
    }

    /** Forgets a room the user cannot read any more; when it was open, moves to #general and says why. */
    dropRoom(name, notify) {
      if (name === 'general') return;
      const known = this.rooms.some((r) => r.name === name);
      this.rooms = this.rooms.filter((r) => r.name !== name);
      this.feed.forget(name);
      if (this.room === name) {
        if (notify) this.flash(`You are not a member of ${this.mention(name)} any more.`);
        this.room = null;
        this.open('general');
      } else if (known) {
        this.renderRooms();
      }
    }

    flash(text) {
      const note = $('composer-error');
      note.textContent = text;
      note.hidden = false;
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => { note.hidden = true; }, 6000);
    }

    /** The open room is seen (only while the tab is visible): its badge and its part of the title go. */
    markSeen(state) {
      if (!state.loaded || document.hidden || state !== this.feed.current) return;
      this.setSeen(state.name, state.lastSeq);
      const room = this.rooms.find((r) => r.name === state.name);
      if (room) { room.last_seq = Math.max(room.last_seq, state.lastSeq); room.unread = 0; }
      this.renderRooms();
      this.updateTitle();
    }

    /** The whole room list (paged by `after`), then the sidebar; a room that left the list is checked and dropped. */
    async refreshRooms() {
      const generation = this.roomsGeneration = (this.roomsGeneration || 0) + 1;
      let rooms = [], after = null, complete = false;
      try {
        for (let page = 0; page < ROOM_PAGES; page++) {
          const data = await this.api.rooms(after);
          rooms = rooms.concat(data.rooms);
          if (!data.has_more || !data.rooms.length) { complete = true; break; }
          after = data.rooms[data.rooms.length - 1].name;
        }
      } catch (error) {
        if (!(error instanceof K.ApiError)) throw error;  // retried by the timer and on reconnect
        return;
      }
      if (generation !== this.roomsGeneration) return;  // a newer refresh started meanwhile: it decides
      const previous = new Map(this.rooms.map((r) => [r.name, r]));
      const followedBefore = this.follows(this.room);
      this.rooms = rooms;
      for (const room of this.rooms) {
        const old = previous.get(room.name);
        if (!(room.name in this.seen)) {
          const added = this.seenBefore && this.roomsLoaded && room.visibility !== 'public' && !old;
          this.seen[room.name] = added || (this.seenBefore && room.visibility === 'direct') ? 0 : room.last_seq;
        }
        if (room.visibility === 'direct') room.activity = Math.max(old ? old.activity || 0 : 0, this.knownActivity(room));
        // Unread counts are the feed's, so only for rooms it carries (a public room the user has not joined has
        // none, but while it is open in a hidden tab: appended()).
        if (!this.follows(room.name)) {
          room.unread = old && room.name === this.room ? old.unread || 0 : 0;
          if (old) room.last_seq = Math.max(room.last_seq, old.last_seq);
        } else if (old && old.visibility === room.visibility && old.joined !== false) {
          // A newer last_seq here is on its way in the feed: counted there, once.
          room.unread = old.unread || 0;
          room.last_seq = old.last_seq;
        } else {
          room.unread = room.name === this.room ? 0 : Math.max(0, room.last_seq - (this.seen[room.name] || 0));
        }
      }
      K.storage.write(this.seenKey, JSON.stringify(this.seen));
      if (this.follows(this.room) !== followedBefore) this.feed.refollow(this.room);
      this.fetchActivity(this.rooms.filter((r) => r.visibility === 'direct'));
      this.roomsLoaded = true;
      this.seenBefore = true;
      this.showRoomName();
      this.renderRooms();
      this.updateTitle();
      if (this.members) this.showMembers();
      // The open room is missing: it may have been created after this list was read, so ask about it alone.
      const open = this.room;
      if (complete && open && open !== 'general' && !this.rooms.some((r) => r.name === open)) {
        try {
          await this.api.room(open);
        } catch (error) {
          if (!(error instanceof K.ApiError)) throw error;
          if (error.code === 'room_not_found' && this.room === open) this.dropRoom(open, true);
        }
      }
    }

    renderRooms() {
      const rooms = this.rooms.filter((r) => r.visibility !== 'direct');
      // Direct chats by latest activity, newest first (as chat apps list them); rooms by name.
      const direct = this.rooms.filter((r) => r.visibility === 'direct')
        .sort((a, b) => (b.activity || 0) - (a.activity || 0) || this.label(a.name).localeCompare(this.label(b.name)));
      const dms = direct.map((room) => this.roomItem(room, $('dms')));
      if (!dms.length) {
        const li = $('dms').querySelector('.rooms-empty') || document.createElement('li');
        li.className = 'rooms-empty';
        li.textContent = 'No direct messages yet';
        dms.push(li);
      }
      update($('rooms'), rooms.map((room) => this.roomItem(room, $('rooms'))));
      update($('dms'), dms);
      this.updateTitle();
    }

    /** A room's list item; the one already shown is updated in place, so a focused button keeps the focus. */
    roomItem(room, list) {
      const old = Array.from(list.children).find((li) => li.firstElementChild && li.firstElementChild.dataset.room === room.name);
      const li = old || document.createElement('li');
      const button = old ? old.firstElementChild : document.createElement('button');
      button.replaceChildren();
      button.removeAttribute('aria-current');
      button.type = 'button';
      button.className = `room room-${room.visibility}`;
      button.dataset.room = room.name;
      const direct = room.visibility === 'direct';
      const label = this.label(room.name);
      button.title = direct ? label : `#${room.name}`;  // the whole name of a long one, cut with "…" in the list
      if (direct) {
        button.append(K.render.avatar(K.rooms.peer(room.name, this.api.username) || this.api.username));
      } else {
        const mark = document.createElement('span');
        mark.className = 'room-mark';
        mark.setAttribute('aria-hidden', 'true');
        if (room.visibility === 'private') mark.append(lockIcon());
        else mark.textContent = '#';
        button.append(mark);
      }
      const name = document.createElement('span');
      name.className = 'room-label';
      name.textContent = label;
      button.append(name);
      if (room.visibility === 'private') {
        const kind = document.createElement('span');
        kind.className = 'sr-only';
        kind.textContent = ' (private)';
        button.append(kind);
      }
      const unread = room.name === this.room ? 0 : room.unread || 0;
      if (unread) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = unread > 99 ? '99+' : String(unread);
        badge.setAttribute('aria-label', `${unread} unread`);
        button.append(badge);
      }
      if (room.name === this.room) button.setAttribute('aria-current', 'page');
      if (!old) li.append(button);
      return li;
    }

    async createRoom(raw, isPrivate) {
      const name = raw.trim().toLowerCase().replace(/\s+/g, '-');
      const error = $('room-error');
      error.textContent = '';
      if (!name) return false;
      try {
        await this.api.createRoom(name, isPrivate ? 'private' : 'public');
      } catch (e) {
        if (!(e instanceof K.ApiError)) throw e;
        if (e.code !== 'room_exists') { error.textContent = ROOM_ERRORS[e.code] || e.message; return false; }
      }
      await this.refreshRooms();
      this.open(name);
      return true;
    }

    /** Opens the direct room with `raw` (a username, "@" optional); an unknown user is said under the field. */
    async openDirect(raw) {
      const username = raw.trim().replace(/^@/, '');
      const error = $('dm-error');
      error.textContent = '';
      if (!username) return false;
      if (!USER_PATTERN.test(username)) { error.textContent = 'A username is 1–32 letters, digits, “_”, “.” or “-”.'; return false; }
      let room;
      try {
        room = (await this.api.room(`@${username}`)).room;
      } catch (e) {
        if (!(e instanceof K.ApiError)) throw e;
        error.textContent = e.code === 'user_not_found' ? `No user is called “${username}”.`
          : ROOM_ERRORS[e.code] || e.message;
        return false;
      }
      if (!this.rooms.some((r) => r.name === room.name)) {
        const info = { ...room, unread: 0 };
        delete info.members;
        info.activity = this.knownActivity(info);
        this.rooms.push(info);
        this.setSeen(room.name, room.last_seq);
      }
      this.open(room.name);
      this.refreshRooms();
      return true;
    }
  }

  /** Makes `list`'s children `items`, in order, moving only what moved (a node taken out of the page loses focus). */
  function update(list, items) {
    items.forEach((item, i) => { if (list.children[i] !== item) list.insertBefore(item, list.children[i] || null); });
    while (list.children.length > items.length) list.lastElementChild.remove();
  }

  function lockIcon() {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'lock');
    svg.setAttribute('aria-hidden', 'true');
    const use = document.createElementNS(SVG, 'use');
    use.setAttribute('href', '#icon-lock');
    svg.append(use);
    return svg;
  }

  /** Adds the methods of `part` (a class written in a file of its own: session-*.js) to Session. */
  Session.extend = (part) => {
    for (const name of Object.getOwnPropertyNames(part.prototype)) {
      if (name !== 'constructor') Object.defineProperty(Session.prototype, name, Object.getOwnPropertyDescriptor(part.prototype, name));
    }
  };

  K.Session = Session;
})(window.Konnect);
