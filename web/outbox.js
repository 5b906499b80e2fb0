// Outbox: messages typed but not yet stored, retried with the same client_id until the server has them.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  /**
   * Sends in typing order, one at a time. A retry reuses the item's client_id, so a message whose first
   * attempt did reach the server (the answer was lost) is stored once (API.md: idempotent POST /messages).
   * Items survive a reload in localStorage, per user. A message with files waits for its uploads (retried while
   * offline by files.js) and is then posted with their ids; until they are stored it lives only in this page
   * (a File cannot go to localStorage): the page asks before a reload (uploading()), after it the ids are kept.
   */
  class Outbox {
    constructor(api, handlers) {
      this.api = api;
      this.handlers = handlers;  // changed(), sent(item, message), rejected(item, error)
      this.key = `konnect.outbox.${api.username}`;
      this.items = this.load();
      this.running = false;
      this.stopped = false;
      this.waiting = null;  // 'offline' or 'retrying' while the last attempt failed: every queued item shows it
      this.backoff = new K.retry.Backoff();
      this.sleep = (ms) => K.waker.sleep(ms);  // replaced by the browser test's fake clock
    }

    load() {
      try {
        const items = JSON.parse(K.storage.read(this.key) || '[]');
        return Array.isArray(items) ? items.map((item) => ({ ...item, state: 'sending' })) : [];
      } catch (_) {
        return [];
      }
    }

    save() {
      const plain = this.items.filter((item) => !item.uploads)
        .map(({ clientId, room, text, createdAt, files, fileNames }) => ({ clientId, room, text, createdAt, files, fileNames }));
      if (plain.length) K.storage.write(this.key, JSON.stringify(plain));
      else K.storage.remove(this.key);
    }

    /** Queues a message; `attached` ({ids, names} from Attachments.take()) when it carries files. */
    add(room, text, attached) {
      const item = { clientId: K.newClientId(), room, text, createdAt: new Date().toISOString(),
        state: this.waiting || 'sending' };
      if (attached) { item.uploads = attached.ids; item.fileNames = attached.names; item.state = 'uploading'; }
      this.items.push(item);
      this.save();
      this.handlers.changed();
      this.pump();
      return item;
    }

    forRoom(room) { return this.items.filter((item) => item.room === room); }

    /** Whether a message waits for uploads that a reload would lose. */
    uploading() { return this.items.some((item) => item.uploads); }

    /** Ends this session's sending; `forget` also drops unsent text (explicit log out). */
    stop(forget) {
      this.stopped = true;
      if (forget) { this.items = []; this.save(); }
    }

    async pump() {
      if (this.running) return;
      this.running = true;
      try {
        while (this.items.length && !this.stopped) {
          const item = this.items[0];
          try {
            if (item.uploads) {
              item.state = 'uploading';
              this.handlers.changed();
              item.files = await item.uploads;  // rejects with the server's detail when it refused a file
              delete item.uploads;
              item.state = this.waiting || 'sending';
              this.save();
              this.handlers.changed();
              if (this.stopped) return;
            }
            const data = await this.api.post(item.room, item.text, item.clientId, item.files);
            this.backoff.reset();
            this.waiting = null;
            this.remove(item);
            for (const other of this.items) other.state = 'sending';
            this.handlers.sent(item, data.message);
          } catch (error) {
            if (!(error instanceof K.ApiError)) throw error;
            if (error.status === 401) return;  // kept for the next login of this user
            if (!error.transient) { this.remove(item); this.handlers.rejected(item, error); continue; }
            this.waiting = error.status === 0 ? 'offline' : 'retrying';
            for (const other of this.items) other.state = this.waiting;
            this.handlers.changed();
            await this.sleep(this.backoff.next(error.retryAfter));
          }
        }
      } finally {
        this.running = false;
      }
    }

    remove(item) {
      this.items = this.items.filter((other) => other !== item);
      this.save();
    }
  }

  K.Outbox = Outbox;
})(window.Konnect);
