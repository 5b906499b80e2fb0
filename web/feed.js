// Room feed: history pages, live long-poll with backoff (retry.js), and dedupe by seq (API.md "GET /messages").
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const WAIT_S = 30;                                  // long-poll hold; the server answers sooner on a new message
  const PAGE = 50;

  /** Sleeps that end early on wake(): the network came back, the tab became visible, the laptop woke up. */
  const waker = {
    waiters: new Set(),
    sleep(ms) {
      return new Promise((resolve) => {
        const done = () => { clearTimeout(timer); waker.waiters.delete(done); resolve(); };
        const timer = setTimeout(done, ms);
        waker.waiters.add(done);
      });
    },
    wake() { for (const done of [...this.waiters]) done(); },
  };

  /** What the client holds of one room: messages in ascending seq, each seq at most once. */
  class RoomState {
    constructor(name) {
      this.name = name;
      this.messages = [];
      this.loaded = false;    // the newest page has been fetched
      this.hasOlder = false;  // history continues before messages[0]
      this.loadingOlder = false;
    }
    get lastSeq() { return this.messages.length ? this.messages[this.messages.length - 1].seq : 0; }

    /** Forgets all but the newest `keep` messages (they can be paged back in); how many went. */
    dropOldest(keep) {
      const count = Math.max(0, this.messages.length - keep);
      if (count) { this.messages.splice(0, count); this.hasOlder = true; }
      return count;
    }
    get firstSeq() { return this.messages.length ? this.messages[0].seq : 0; }
  }

  /**
   * Follows one room at a time. Because seq has no gaps (API.md), a reader that holds seq N holds all up to N:
   * new messages are only taken above lastSeq and older pages only below firstSeq, so none is shown twice,
   * and polling `after=lastSeq` after any outage fetches exactly what was missed.
   */
  class Feed {
    constructor(api, handlers) {
      this.api = api;
      this.handlers = handlers;  // reset(state), append(state, fresh), prepend(state, older), failed(state, error)
      this.rooms = new Map();
      this.current = null;
      this.generation = 0;
      this.controller = null;
      // One per feed, not per loop: a restart() during an outage (offline event, wake-up) does not reset it.
      this.backoff = new K.retry.Backoff();
      this.sleep = (ms) => waker.sleep(ms);  // replaced by the browser test's fake clock
    }

    open(name) {
      let state = this.rooms.get(name);
      if (!state) this.rooms.set(name, state = new RoomState(name));
      this.current = state;
      this.handlers.reset(state);
      this.restart();
    }

    /** Drops the held poll and starts again at once (after a sleep, or when the network returns). */
    restart() {
      if (!this.current) return;
      if (this.controller) this.controller.abort();
      this.controller = new AbortController();
      this.run(++this.generation, this.current, this.controller.signal);
    }

    /** Forgets a room the user can no longer read (removed, left): a later open loads it afresh. */
    forget(name) {
      if (this.current && this.current.name === name) {
        this.generation++;
        if (this.controller) this.controller.abort();
        this.current = null;
      }
      this.rooms.delete(name);
    }

    stop() {
      this.generation++;
      if (this.controller) this.controller.abort();
      this.current = null;
      this.rooms.clear();
    }

    async run(generation, state, signal) {
      while (generation === this.generation) {
        try {
          if (!state.loaded) {
            const page = await this.api.history(state.name, 0, PAGE);
            if (generation !== this.generation) return;
            state.messages = page.messages.slice();
            state.hasOlder = page.has_more;
            state.loaded = true;
            this.handlers.reset(state);
          } else {
            const page = await this.api.poll(state.name, state.lastSeq, WAIT_S, signal);
            if (generation !== this.generation) return;
            const fresh = page.messages.filter((m) => m.seq > state.lastSeq);
            for (const m of fresh) state.messages.push(m);
            if (fresh.length) this.handlers.append(state, fresh);
          }
          this.backoff.reset();
        } catch (error) {
          if (generation !== this.generation) return;
          if (!(error instanceof K.ApiError)) throw error;
          if (error.status === 401) return;  // the app returns to the login screen
          if (!error.transient) { this.handlers.failed(state, error); return; }
          await this.sleep(this.backoff.next(error.retryAfter));
        }
      }
    }

    /** Fetches the page before the oldest message held; a no-op while one is loading or at the beginning. */
    async loadOlder() {
      const state = this.current;
      if (!state || !state.loaded || !state.hasOlder || state.loadingOlder || !state.firstSeq) return;
      state.loadingOlder = true;
      this.handlers.loading(state);
      try {
        const before = state.firstSeq;
        const page = await this.api.history(state.name, before, PAGE);
        if (state.firstSeq !== before) {  // the oldest were dropped meanwhile: this page no longer joins on
          state.loadingOlder = false;
          if (state === this.current) this.handlers.loading(state);
          return;
        }
        const older = page.messages.filter((m) => m.seq < state.firstSeq);
        state.messages = older.concat(state.messages);
        state.hasOlder = page.has_more && older.length > 0;
        state.loadingOlder = false;
        if (state === this.current) this.handlers.prepend(state, older);
      } catch (error) {
        state.loadingOlder = false;
        if (state === this.current) this.handlers.loading(state);
        if (!(error instanceof K.ApiError)) throw error;
      }
    }
  }

  K.Feed = Feed;
  K.waker = waker;
})(window.Konnect);
