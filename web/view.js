// Message pane: renders a room's messages and the outbox, keeps the scroll position, announces arrivals.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const NEAR_BOTTOM_PX = 120;
  const NEAR_TOP_PX = 200;
  // A long-open room keeps at most `max` messages in the page: past it, while the reader follows the newest,
  // the oldest go down to `keep` (scrolling back fetches them again). Changeable for the browser test.
  const LIMITS = { max: 3000, keep: 2500 };
  const STATE_LABELS = { sending: 'sending…', retrying: 'retrying…', offline: 'waiting for connection…', sent: 'sent',
    uploading: 'uploading files…' };

  /** The scrollable message list of the open room. Older pages go on top without moving what is on screen. */
  class MessageView {
    constructor(me, onNeedOlder) {
      this.me = me;
      this.scroller = document.getElementById('scroller');
      this.list = document.getElementById('messages');
      this.pending = document.getElementById('pending');
      this.note = document.getElementById('history-note');
      this.jump = document.getElementById('jump');
      this.announcer = document.getElementById('announcer');
      this.onNeedOlder = onNeedOlder;
      // How the notes name a room: "#general", "your conversation with bob".
      this.notes = (name) => ({ beginning: `#${name}`, empty: `in #${name}` });
      this.pendingCount = 0;
      this.atBottom = true;  // as of the last scroll event: where the reader was before a resize
      this.scroller.addEventListener('scroll', () => this.scrolled(), { passive: true });
      this.jump.addEventListener('click', () => this.scrollToBottom());
      // The composer grows with its text (and a phone keyboard shrinks the page): the pane gets shorter from the
      // bottom, so a reader at the bottom is kept there instead of losing the newest messages under the composer.
      if (typeof ResizeObserver === 'function') {
        new ResizeObserver(() => {
          if (this.atBottom) this.scrollToBottom();
        }).observe(this.scroller);
      }
    }

    scrolled() {
      if (this.scroller.scrollTop < NEAR_TOP_PX) this.onNeedOlder();
      this.atBottom = this.nearBottom();
      if (this.atBottom) this.jump.hidden = true;
    }

    nearBottom() {
      const s = this.scroller;
      return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
    }

    scrollToBottom() {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.atBottom = true;
      this.jump.hidden = true;
    }

    /** Redraws the whole room (room switch, first page) and shows its newest messages. */
    reset(state) {
      this.list.replaceChildren(this.build(state.messages, null));
      this.updateNote(state);
      this.scrollToBottom();
      this.fill(state);
    }

    build(messages, prev) {
      const fragment = document.createDocumentFragment();
      for (const msg of messages) {
        fragment.append(...K.render.messageNodes(msg, prev, this.me));
        prev = msg;
      }
      return fragment;
    }

    /** New messages at the bottom: follow them when the reader was at the bottom, else offer a jump. */
    append(state, fresh) {
      const follow = this.nearBottom() || fresh.some((m) => m.user === this.me);
      const prev = state.messages[state.messages.length - fresh.length - 1] || null;
      this.list.append(this.build(fresh, prev));
      this.updateNote(state);
      if (follow) this.scrollToBottom();
      else this.jump.hidden = false;
      this.announce(fresh.filter((m) => m.user !== this.me));
    }

    /**
     * Older messages on top, inserted without redrawing the list: only the message that was first is rebuilt
     * (it may now continue the group of the one before it, or lose its day separator). The distance from the
     * bottom is kept, so the message being read stays put.
     */
    prepend(state, older) {
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      if (older && older.length && older.length < state.messages.length) {
        const fragment = this.build(older, null);
        const boundary = state.messages[older.length];
        const first = this.list.firstElementChild;
        const oldNodes = first && first.classList.contains('day') ? [first, first.nextElementSibling] : [first];
        fragment.append(...K.render.messageNodes(boundary, older[older.length - 1], this.me));
        for (const node of oldNodes) if (node) node.remove();
        this.list.prepend(fragment);
      } else if (!older || older.length) {
        this.list.replaceChildren(this.build(state.messages, null));
      }
      this.updateNote(state);
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
      this.fill(state);
    }

    /** Removes the nodes of messages the state no longer holds (older than its first) and redraws the new first. */
    dropOldest(state) {
      const first = state.messages[0];
      if (!first) { this.list.replaceChildren(); return; }
      const firstSeq = String(first.seq);
      while (this.list.firstElementChild && this.list.firstElementChild.dataset.seq !== firstSeq) {
        this.list.firstElementChild.remove();
      }
      const old = this.list.firstElementChild;
      if (old) old.replaceWith(...K.render.messageNodes(first, null, this.me));
      this.updateNote(state);
    }

    /** While the pane is not full there is nothing to scroll, so keep loading until it is (or history ends). */
    fill(state) {
      if (state.loaded && state.hasOlder && this.scroller.scrollHeight <= this.scroller.clientHeight + NEAR_TOP_PX) {
        requestAnimationFrame(() => this.onNeedOlder());
      }
    }

    updateNote(state) {
      let text = '';
      if (!state.loaded) text = 'Loading messages…';
      else if (state.loadingOlder) text = 'Loading older messages…';
      else if (!state.hasOlder) text = state.messages.length
        ? `This is the beginning of ${this.notes(state.name).beginning}.`
        : `No messages ${this.notes(state.name).empty} yet — say hello 👋`;
      this.note.textContent = text;
      this.note.classList.toggle('busy', !state.loaded || state.loadingOlder);
    }

    /** Own messages not yet in the room: outbox items and sent ones the feed has not delivered yet. */
    showPending(state, items) {
      const follow = this.nearBottom();
      const fragment = document.createDocumentFragment();
      let prev = state.messages[state.messages.length - 1] || null;
      for (const item of items) {
        const msg = { user: this.me, text: item.text, created_at: item.createdAt, client_id: item.clientId };
        const nodes = K.render.messageNodes(msg, prev, this.me, STATE_LABELS[item.state] || item.state);
        nodes[nodes.length - 1].classList.add('pending', `state-${item.state}`);
        if (item.fileNames && item.fileNames.length) {  // the files it waits for or carries, by name
          const names = document.createElement('span');
          names.className = 'pending-files';
          names.dir = 'auto';
          names.textContent = `📎 ${item.fileNames.join(', ')}`;
          nodes[nodes.length - 1].querySelector('.text').after(names);
        }
        fragment.append(...nodes);
        prev = msg;
      }
      const added = items.length > this.pendingCount;  // a new send: show it even when reading history
      this.pendingCount = items.length;
      this.pending.replaceChildren(fragment);
      if (follow || added) this.scrollToBottom();
    }

    /** Screen readers hear others' new messages (the list itself is not live: history loads would flood it). */
    announce(messages) {
      for (const msg of messages.slice(-3)) {
        const p = document.createElement('p');
        const names = (msg.files || []).map((f) => f.name).join(', ');
        p.textContent = `${msg.user}: ${msg.text}${names ? `${msg.text ? ' ' : ''}[${names}]` : ''}`;
        this.announcer.append(p);
      }
      while (this.announcer.childElementCount > 5) this.announcer.firstElementChild.remove();
    }
  }

  MessageView.limits = LIMITS;
  K.MessageView = MessageView;
})(window.Konnect);
