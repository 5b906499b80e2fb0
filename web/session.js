// Chat session of a signed-in user: the open room, the room list, the live feed, the outbox and the composer.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const $ = (id) => document.getElementById(id);
  const ROOMS_REFRESH_MS = 20000;
  const ROOM_ERRORS = {
    room_exists: 'That room already exists.',
    invalid_room_name: 'Room names are 1–64 lowercase letters, digits, “_” or “-”.',
    network: 'The server cannot be reached.',
  };

  /** One signed-in user's page. Built on login, dropped on logout or 401. */
  class Session {
    constructor(api, title) {
      this.api = api;
      this.title = title;
      this.room = K.storage.read('konnect.room') || 'general';
      this.rooms = [];
      this.sent = new Map();  // client_id → item: stored by the server, not yet delivered by the feed
      this.seenKey = `konnect.seen.${api.username}`;
      this.draftsKey = `konnect.drafts.${api.username}`;
      try { this.drafts = JSON.parse(K.storage.read(this.draftsKey) || '{}'); } catch (_) { this.drafts = {}; }
      if (!this.drafts || typeof this.drafts !== 'object') this.drafts = {};
      try { this.seen = JSON.parse(K.storage.read(this.seenKey) || '{}'); } catch (_) { this.seen = {}; }
      this.view = new K.MessageView(api.username, () => this.feed.loadOlder());
      this.feed = new K.Feed(api, {
        reset: (state) => { this.view.reset(state); this.markSeen(state); this.showPending(); },
        append: (state, fresh) => this.appended(state, fresh),
        prepend: (state, older) => this.view.prepend(state, older),
        loading: (state) => this.view.updateNote(state),
        failed: (state, error) => this.roomFailed(state, error),
      });
      this.outbox = new K.Outbox(api, {
        changed: () => this.showPending(),
        sent: (item, message) => this.delivered(item, message),
        rejected: (item, error) => this.rejected(item, error),
      });
    }

    start() {
      this.showRoomName();
      this.loadDraft();
      this.feed.open(this.room);
      this.outbox.pump();
      this.refreshRooms();
      this.timer = setInterval(() => this.refreshRooms(), ROOMS_REFRESH_MS);
      this.api.me().catch(() => {});  // a revoked token shows at once (401 → login) rather than on the next poll
    }

    stop(forget) {
      clearInterval(this.timer);
      if (forget) K.storage.remove(this.draftsKey);  // log out: nothing typed stays on this device
      else this.saveDraft($('text').value);
      this.feed.stop();
      this.outbox.stop(forget);
      for (const id of ['messages', 'pending', 'rooms', 'announcer']) $(id).replaceChildren();
    }

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
      $('room-name-label').textContent = this.room;
      $('text').placeholder = `Message #${this.room}`;
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

    appended(state, fresh) {
      // The pending copy leaves in the same task the stored message arrives: a message is never shown twice.
      this.view.append(state, fresh);
      const { max, keep } = K.MessageView.limits;
      if (state.messages.length > max && this.view.atBottom && state.dropOldest(keep)) {
        this.view.dropOldest(state);
        this.view.scrollToBottom();
      }
      this.showPending();
      this.markSeen(state);
      this.title.count(fresh.filter((m) => m.user !== this.api.username).length);
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
      this.flash(`Not sent: ${error.message}`);
    }

    showPending() {
      const state = this.feed.current;
      if (!state) return;
      for (const [clientId, item] of this.sent) if (item.seq <= state.lastSeq) this.sent.delete(clientId);
      const items = [...this.sent.values()].filter((item) => item.room === state.name)
        .concat(this.outbox.forRoom(state.name));
      this.view.showPending(state, items);
    }

    roomFailed(state, error) {
      this.view.note.textContent = error.code === 'room_not_found'
        ? `The room #${state.name} does not exist.` : `This room cannot be shown: ${error.message}`;
      if (error.code === 'room_not_found' && state.name !== 'general') {
        this.room = null;
        this.open('general');
      }
    }

    flash(text) {
      const note = $('composer-error');
      note.textContent = text;
      note.hidden = false;
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => { note.hidden = true; }, 6000);
    }

    markSeen(state) {
      if (!state.loaded) return;
      this.seen[state.name] = Math.max(this.seen[state.name] || 0, state.lastSeq);
      K.storage.write(this.seenKey, JSON.stringify(this.seen));
      const room = this.rooms.find((r) => r.name === state.name);
      if (room) { room.last_seq = Math.max(room.last_seq, state.lastSeq); this.renderRooms(); }
    }

    async refreshRooms() {
      try {
        const data = await this.api.rooms();
        this.rooms = data.rooms;
        for (const room of this.rooms) if (!(room.name in this.seen)) this.seen[room.name] = room.last_seq;
        this.renderRooms();
      } catch (error) {
        if (!(error instanceof K.ApiError)) throw error;  // retried by the timer and on reconnect
      }
    }

    renderRooms() {
      const items = this.rooms.map((room) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'room';
        button.dataset.room = room.name;
        button.title = `#${room.name}`;  // the whole name of a long one, cut with "…" in the list
        const name = document.createElement('span');
        name.className = 'room-label';
        name.textContent = `# ${room.name}`;
        button.append(name);
        const unread = room.name === this.room ? 0 : Math.max(0, room.last_seq - (this.seen[room.name] || 0));
        if (unread) {
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.textContent = unread > 99 ? '99+' : String(unread);
          badge.setAttribute('aria-label', `${unread} unread`);
          button.append(badge);
        }
        if (room.name === this.room) button.setAttribute('aria-current', 'page');
        li.append(button);
        return li;
      });
      $('rooms').replaceChildren(...items);
    }

    async createRoom(raw) {
      const name = raw.trim().toLowerCase().replace(/\s+/g, '-');
      const error = $('room-error');
      error.textContent = '';
      if (!name) return false;
      try {
        await this.api.createRoom(name);
      } catch (e) {
        if (!(e instanceof K.ApiError)) throw e;
        if (e.code !== 'room_exists') { error.textContent = ROOM_ERRORS[e.code] || e.message; return false; }
      }
      await this.refreshRooms();
      this.open(name);
      return true;
    }
  }

  K.Session = Session;
})(window.Konnect);
