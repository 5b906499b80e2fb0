// Session, the members panel (issue 14): the open room's members, add and remove, leave and join.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const $ = (id) => document.getElementById(id);
  const USER_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

  class SessionMembers {
    get membersOpen() { return !$('members-panel').hidden; }

    openMembers() {
      $('members-panel').hidden = false;
      $('chat').classList.add('members-open');
      $('members-button').setAttribute('aria-expanded', 'true');
      $('member-error').textContent = '';
      this.members = { name: this.room, members: null };  // null: loading
      this.renderMembers();
      this.showMembers();
      $('members-title').focus();
    }

    closeMembers(restoreFocus) {
      if (!$('members-panel').hidden && restoreFocus) $('members-button').focus();
      $('members-panel').hidden = true;
      $('chat').classList.remove('members-open');
      $('members-button').setAttribute('aria-expanded', 'false');
      if (!$('chat').classList.contains('drawer-open')) document.querySelector('.conversation').inert = false;
      this.members = null;
    }

    /** Fetches the open room's members (GET /rooms/{name}) and shows them. */
    async showMembers() {
      const name = this.room;
      if (!name) return;
      if (this.members && this.members.name !== name) {
        this.members = { name, members: null };
        $('member-error').textContent = '';
        this.renderMembers();
      }
      try {
        const data = await this.api.room(name);
        if (!this.members || this.room !== name) return;
        this.members = data.room;
        this.renderMembers();
      } catch (error) {
        if (!(error instanceof K.ApiError)) throw error;
        if (error.code === 'room_not_found' && this.room === name) this.dropRoom(name, true);
      }
    }

    renderMembers() {
      const room = this.members;
      if (!room) return;
      const me = this.api.username.toLowerCase();
      const info = this.rooms.find((r) => r.name === room.name) || room;
      const kind = K.rooms.isDirect(room.name) ? 'direct' : info.visibility || 'public';
      const owner = room.owner || info.owner || null;
      const iOwn = owner !== null && owner.toLowerCase() === me;
      $('members-title').textContent = `Members of ${this.mention(room.name)}`;
      const about = {
        public: 'Public room: everyone can read and post. Members get its news.',
        private: 'Private room: only its members can see it.',
        direct: 'Direct messages: only the two of you. Members are fixed.',
      }[kind] || '';
      $('members-about').textContent = owner ? `${about} Created by ${owner}.` : about;
      const items = (room.members || []).map((name) => {
        const li = document.createElement('li');
        li.className = 'member';
        const who = document.createElement('span');
        who.className = 'member-name';
        who.textContent = name;
        li.append(K.render.avatar(name), who);
        const tags = [];
        if (name.toLowerCase() === me) tags.push('you');
        if (owner && name.toLowerCase() === owner.toLowerCase()) tags.push('owner');
        if (tags.length) {
          const tag = document.createElement('span');
          tag.className = 'member-tag';
          tag.textContent = tags.join(' · ');
          li.append(tag);
        }
        if (kind !== 'direct' && iOwn && name.toLowerCase() !== me) {
          const remove = document.createElement('button');
          remove.type = 'button';
          remove.className = 'ghost remove-member';
          remove.dataset.member = name;
          remove.textContent = 'Remove';
          remove.setAttribute('aria-label', `Remove ${name}`);
          li.append(remove);
        }
        return li;
      });
      $('members').replaceChildren(...items);
      $('member-form').hidden = kind === 'direct';
      const leave = $('leave');
      const joined = info.joined !== false && (room.members || []).some((n) => n.toLowerCase() === me);
      leave.hidden = kind === 'direct';
      leave.dataset.action = joined || !room.members ? 'leave' : 'join';
      leave.textContent = leave.dataset.action === 'join' ? `Join ${this.mention(room.name)}` : `Leave ${this.mention(room.name)}`;
      leave.className = leave.dataset.action === 'join' ? 'secondary leave-button' : 'danger-button leave-button';
    }

    /** Adds (PUT) or removes (DELETE) a member of the open room; the server's refusal is shown in the panel. */
    async changeMember(username, add) {
      const room = this.room;
      const error = $('member-error');
      error.textContent = '';
      if (!username) return false;
      if (add && !USER_PATTERN.test(username)) { error.textContent = 'A username is 1–32 letters, digits, “_”, “.” or “-”.'; return false; }
      try {
        if (add) await this.api.addMember(room, username);
        else await this.api.removeMember(room, username);
      } catch (e) {
        if (!(e instanceof K.ApiError)) throw e;
        error.textContent = e.code === 'user_not_found' ? `No user is called “${username}”.` : e.message;
        return false;
      }
      const self = username.toLowerCase() === this.api.username.toLowerCase();
      const info = this.rooms.find((r) => r.name === room);
      if (self && !add && info && info.visibility !== 'public') {
        this.closeMembers(false);
        this.flash(`You left ${this.mention(room)}.`);
        this.dropRoom(room, false);
        $('text').focus();
      } else {
        if (self && info) info.joined = add;
        await this.showMembers();
        this.refreshRooms();
      }
      return true;
    }
  }

  K.Session.extend(SessionMembers);
})(window.Konnect);
