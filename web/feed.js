// Live receipt: one `GET /events` long-poll for every room (API.md "The feed"), the open room's history pages, and
// dedupe by seq (API.md "GET /messages"). Every retry waits as retry.js says.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const WAIT_S = 30;   // long-poll hold; the server answers sooner when an event arrives
  const PAGE = 50;
  const EVENTS_LIMIT = 100;
  const KEPT_ROOMS = 20;  // rooms left recently keep their messages: reopened at once, then brought up to date

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

  /** What the client holds of a room (the open one, or one kept): messages in ascending seq, each seq at most once. */
  class RoomState {
    constructor(name) {
      this.name = name;
      this.messages = [];
      this.loaded = false;    // the newest page has been fetched
      this.hasOlder = false;  // history continues before messages[0]
      this.loadingOlder = false;
      this.dirty = false;     // the feed said this room has messages above lastSeq (or may have)
      this.reopened = false;  // kept from an earlier visit: a long way behind, it is read afresh instead
    }
    get lastSeq() { return this.messages.length ? this.messages[this.messages.length - 1].seq : 0; }
    get firstSeq() { return this.messages.length ? this.messages[0].seq : 0; }

    /** Forgets all but the newest `keep` messages (they can be paged back in); how many went. */
    dropOldest(keep) {
      const count = Math.max(0, this.messages.length - keep);
      if (count) { this.messages.splice(0, count); this.hasOlder = true; }
      return count;
    }
  }

  /**
   * Two loops. The feed loop holds ONE `GET /events?after=next&wait=30` at a time for all the user's rooms, with
   * fetch and the Authorization header (EventSource cannot send it). A long-poll rather than the ndjson stream:
   * each request is bounded by a timeout (a stream over a connection that died during a laptop sleep would hang
   * until a heartbeat watchdog noticed), retried by retry.js like every other call, and `next` is all the state.
   * It starts from "now" (`/events` without `after`) before the open room's history is read, so a message posted
   * in between is in the history or in the feed (or both: seq dedupes).
   * The room loop holds the open room. For a room the user follows (member) it sends nothing until the feed says
   * the room moved, then reads `GET /messages?after=lastSeq` (no wait); seq has no gaps, so that fills any gap
   * (an outage, `has_more`) and shows nothing twice. A public room the user only looks at (not a member: the
   * feed does not carry it) is followed by its own `GET /messages?after=&wait=` while it is open.
   */
  class Feed {
    constructor(api, handlers) {
      this.api = api;
      // reset(state), append(state, fresh), prepend(state, older), loading(state), failed(state, error),
      // events(list): the feed's events, in pos order; follows(name): whether the feed carries the room.
      this.handlers = handlers;
      this.current = null;
      this.kept = new Map();      // name → RoomState of rooms opened before, most recent last
      this.position = null;       // the feed's `next`; null until taken
      this.feedGeneration = 0;
      this.roomGeneration = 0;
      this.feedController = null;
      this.roomController = null;
      this.kick = null;           // resolves the room loop's wait for news
      this.ready = null;          // resolves once the position is taken
      // One per loop, not per request: a restart() during an outage (offline event, wake-up) does not reset it.
      this.backoff = new K.retry.Backoff();
      this.roomBackoff = new K.retry.Backoff();
      this.sleep = (ms) => waker.sleep(ms);  // replaced by the browser test's fake clock
    }

    /** Takes the position, then follows; open() may come before or after. */
    start() {
      let resolve;
      this.ready = new Promise((r) => { resolve = r; });
      this.readyResolve = resolve;
      this.restartFeed();
    }

    open(name) {
      if (this.current) {
        this.kept.delete(this.current.name);
        if (this.current.loaded) this.kept.set(this.current.name, this.current);
        while (this.kept.size > KEPT_ROOMS) this.kept.delete(this.kept.keys().next().value);
      }
      let state = this.kept.get(name);
      this.kept.delete(name);
      if (state) {
        state.dirty = true;  // what came while it was not open is read with after=lastSeq
        state.reopened = true;
      } else {
        state = new RoomState(name);
      }
      this.current = state;
      this.handlers.reset(state);
      this.restartRoom();
    }

    /** Drops held requests and starts again at once (after a sleep, or when the network returns). */
    restart() {
      if (this.ready) this.restartFeed();
      this.restartRoom();
    }

    restartFeed() {
      if (this.feedController) this.feedController.abort();
      this.feedController = new AbortController();
      this.runFeed(++this.feedGeneration, this.feedController.signal);
    }

    restartRoom() {
      if (this.roomController) this.roomController.abort();
      if (this.kick) this.kick();
      if (!this.current) return;
      this.roomController = new AbortController();
      this.runRoom(++this.roomGeneration, this.current, this.roomController.signal);
    }

    /** The feed says `name` moved, or that whether it is followed changed: the open room looks again. */
    touch(name) {
      if (!this.current || this.current.name !== name) return;
      this.current.dirty = true;
      if (this.kick) this.kick();
    }

    /** Following changed for the open room (joined or left a public room): its loop picks the right way. */
    refollow(name) { if (this.current && this.current.name === name) this.restartRoom(); }

    /** Forgets a room the user can no longer read (removed, left): nothing more of it is shown. */
    forget(name) {
      this.kept.delete(name);
      if (this.current && this.current.name === name) {
        this.roomGeneration++;
        if (this.roomController) this.roomController.abort();
        if (this.kick) this.kick();
        this.current = null;
      }
    }

    stop() {
      this.feedGeneration++;
      this.roomGeneration++;
      for (const c of [this.feedController, this.roomController]) if (c) c.abort();
      if (this.kick) this.kick();
      this.current = null;
      this.kept.clear();
    }

    async runFeed(generation, signal) {
      while (generation === this.feedGeneration) {
        try {
          if (this.position === null) {
            const page = await this.api.events(null, 0, EVENTS_LIMIT, signal);  // no `after`: `next` is now
            if (generation !== this.feedGeneration) return;
            this.position = page.next;
            this.readyResolve();
            if (this.current) this.touch(this.current.name);  // a position taken again: the open room looks itself
          } else {
            const page = await this.api.events(this.position, WAIT_S, EVENTS_LIMIT, signal);
            if (generation !== this.feedGeneration) return;
            this.position = page.next;  // always `next`, even when lower than `after` (API.md)
            if (page.events.length) {
              this.deliver(page.events);
              this.handlers.events(page.events);
            }
          }
          this.backoff.reset();
        } catch (error) {
          if (generation !== this.feedGeneration) return;
          if (!(error instanceof K.ApiError)) throw error;
          if (error.status === 401) return;  // the app returns to the login screen
          // A refused `after` (400: cannot happen with the server's own `next`) starts from now again.
          if (!error.transient) this.position = null;
          await this.sleep(this.backoff.next(error.retryAfter));
        }
      }
    }

    async runRoom(generation, state, signal) {
      const live = () => generation === this.roomGeneration;
      while (live()) {
        try {
          if (!state.loaded) {
            if (this.ready) await this.ready;  // the feed's position first: nothing posted meanwhile is lost
            if (!live()) return;
            state.dirty = false;
            const page = await this.api.history(state.name, 0, PAGE);
            if (!live()) return;
            state.messages = page.messages.slice();
            state.hasOlder = page.has_more;
            state.loaded = true;
            this.handlers.reset(state);
          } else if (this.handlers.follows(state.name)) {
            if (!state.dirty) {
              await new Promise((resolve) => {
                const kick = () => { if (this.kick === kick) this.kick = null; resolve(); };
                this.kick = kick;
              });
              continue;
            }
            state.dirty = false;
            if (!await this.catchUp(state, 0, signal, live)) state.dirty = true;
          } else {
            await this.catchUp(state, WAIT_S, signal, live);
          }
          this.roomBackoff.reset();
        } catch (error) {
          if (!live()) return;
          if (!(error instanceof K.ApiError)) throw error;
          if (error.status === 401) return;
          if (!error.transient) { this.handlers.failed(state, error); return; }
          state.dirty = true;
          await this.sleep(this.roomBackoff.next(error.retryAfter));
        }
      }
    }

    /** Reads the messages above lastSeq (held up to `wait` s when none); whether it reached the newest. */
    async catchUp(state, wait, signal, live) {
      const page = await this.api.poll(state.name, state.lastSeq, wait, signal);
      if (!live()) return true;
      const reopened = state.reopened;
      state.reopened = false;
      if (reopened && page.has_more) {  // more than a page behind: the newest page instead, as on a first visit
        state.loaded = false;
        state.messages = [];
        this.handlers.reset(state);
        return true;
      }
      const fresh = page.messages.filter((m) => m.seq > state.lastSeq);
      for (const m of fresh) state.messages.push(m);
      if (fresh.length) this.handlers.append(state, fresh);
      return !page.has_more;
    }

    /**
     * The open room's messages in a page of events: taken as they are when they join on (a message event is the
     * whole message, files included), else the room loop is told to read them (and any gap before them) from
     * `GET /messages?after=`.
     */
    deliver(events) {
      const state = this.current;
      if (!state) return;
      const fresh = [];
      for (const event of events) {
        if (event.type !== 'message' || event.room !== state.name) continue;
        const m = event.message;
        if (state.loaded && !state.dirty && m.seq === state.lastSeq + 1) {
          state.messages.push(m);
          fresh.push(m);
        } else if (!state.loaded || m.seq > state.lastSeq) {
          this.touch(state.name);
        }
      }
      if (fresh.length) this.handlers.append(state, fresh);
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
