// Session, the feed's side (issue 10): joined and left rooms, unread counts and the title, direct-chat order and
// notifications, from the events of `GET /events` (API.md "The feed").
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const $ = (id) => document.getElementById(id);
  const ACTIVITY_FETCHES = 50;  // at most this many direct rooms asked for their newest message per refresh

  class SessionFeed {
    isMe(user) { return String(user).toLowerCase() === this.api.username.toLowerCase(); }

    /** Whether the feed carries `name`: rooms the user is a member of (a public room only once joined). */
    follows(name) {
      const room = this.rooms.find((r) => r.name === name);
      return !room || room.visibility !== 'public' || room.joined !== false;
    }

    /** A page of the feed's events, in pos order (API.md "The feed"). */
    feedEvents(events) {
      events.forEach((event, i) => {
        if (event.type === 'message' && event.message) this.feedMessage(event.message);
        else if (event.type === 'joined' && event.room_info) this.joinedRoom(event.room_info, events.slice(i + 1));
        else if (event.type === 'left') this.leftRoom(event.room);
      });
      this.renderRooms();
      this.updateTitle();
    }

    /**
     * A new message in one of the user's rooms: the room's unread count (not for one's own messages, nor for the
     * open room while the tab is visible), its activity (the order of direct chats) and, for a direct message to
     * a hidden tab, a notification.
     */
    feedMessage(m) {
      const room = this.rooms.find((r) => r.name === m.room);
      if (!room || m.seq <= room.last_seq) return;  // not listed yet: the list's last_seq counts it
      room.last_seq = m.seq;
      if (room.visibility === 'direct') this.noteActivity(room, m.seq, m.created_at);
      const viewing = m.room === this.room && !document.hidden;
      if (this.isMe(m.user)) {
        // Written here or elsewhere: nothing before it is unread, so it is seen too (right after a reload as well).
        if (!room.unread && !viewing) this.setSeen(m.room, m.seq);
        return;
      }
      if (viewing) return;  // the room loop shows it and marks it seen
      room.unread = (room.unread || 0) + 1;
      if (room.visibility === 'direct' && document.hidden) {
        K.notify.show(m, () => { if (!this.stopped) { window.focus(); this.open(m.room); } });
      }
    }

    /**
     * The user became a member (created, joined, was added, a first direct message): the room is listed. `later`:
     * the events after it in the same page. Its `last_seq` is the room's as the page was read, so it already
     * counts the messages that follow in the page: those are counted (and notified) one by one instead.
     */
    joinedRoom(info, later) {
      const name = info.name;
      const first = later.find((e) => e.type === 'message' && e.room === name && e.message);
      const base = first ? Math.min(info.last_seq, first.message.seq - 1) : info.last_seq;
      const old = this.rooms.find((r) => r.name === name);
      if (old) {
        const was = this.follows(name);
        Object.assign(old, { visibility: info.visibility, owner: info.owner, joined: true });
        if (!was) { old.last_seq = Math.max(old.last_seq, base); this.feed.refollow(name); }
      } else {
        const room = { ...info, last_seq: base, joined: true };
        if (!(name in this.seen)) this.setSeen(name, room.visibility === 'public' ? room.last_seq : 0);
        room.unread = name === this.room ? 0 : Math.max(0, room.last_seq - (this.seen[name] || 0));
        if (room.visibility === 'direct') room.activity = this.knownActivity(room);
        this.rooms.push(room);
        this.rooms.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        if (room.visibility === 'direct') this.fetchActivity([room]);
        if (name === this.room) { this.showRoomName(); this.feed.refollow(name); }
      }
      if (this.members && this.members.name === name) this.showMembers();
    }

    /**
     * The user stopped being a member. A private or direct room leaves the list (when open: the page says why and
     * moves to #general, and nothing more of it is shown); a public room stays readable, only its events stop.
     */
    leftRoom(name) {
      const room = this.rooms.find((r) => r.name === name);
      if (room && room.visibility === 'public') {
        room.joined = false;
        room.unread = 0;
        this.feed.refollow(name);
        if (this.members && this.members.name === name) this.showMembers();
        return;
      }
      this.dropRoom(name, true);
    }

    setSeen(name, seq) {
      this.seen[name] = Math.max(this.seen[name] || 0, seq);
      K.storage.write(this.seenKey, JSON.stringify(this.seen));
    }

    /** The title counts what is unread in every room: "(3) Konnect" (the open room's only while hidden). */
    updateTitle() {
      let total = 0, elsewhere = 0;
      for (const room of this.rooms) {
        if (room.name !== this.room) elsewhere += room.unread || 0;
        if (room.name !== this.room || document.hidden) total += room.unread || 0;
      }
      this.title.set(total);
      // On a phone the list is in the drawer: its button carries a dot and says how many are unread elsewhere.
      const menu = $('menu');
      menu.classList.toggle('has-unread', elsewhere > 0);
      menu.setAttribute('aria-label', elsewhere ? `Show rooms (${elsewhere} unread)` : 'Show rooms');
    }

    knownActivity(room) {
      const known = this.activity[room.name];
      return known ? known[1] : Date.parse(room.created_at) || 0;
    }

    noteActivity(room, seq, createdAt) {
      const at = Date.parse(createdAt) || Date.now();
      room.activity = Math.max(room.activity || 0, at);
      this.activity[room.name] = [seq, room.activity];
      K.storage.write(this.activityKey, JSON.stringify(this.activity));
    }

    /** The newest message's time of direct rooms that moved since this device last saw them, one at a time. */
    async fetchActivity(rooms) {
      const stale = rooms.filter((r) => r.last_seq > 0 && !(this.activity[r.name] && this.activity[r.name][0] >= r.last_seq))
        .slice(0, ACTIVITY_FETCHES);
      for (const room of stale) {
        try {
          const page = await this.api.history(room.name, 0, 1);
          const newest = page.messages[page.messages.length - 1];
          if (newest && !this.stopped) this.noteActivity(room, newest.seq, newest.created_at);
        } catch (error) {
          if (!(error instanceof K.ApiError)) throw error;
          return;  // asked again on the next refresh
        }
      }
      if (stale.length && !this.stopped) this.renderRooms();
    }
  }

  K.Session.extend(SessionFeed);
})(window.Konnect);
