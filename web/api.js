// Konnect API client: fetch with bearer auth, JSON bodies and RFC 9457 problem errors (contract: shared API.md).
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const TOKEN_KEY = 'konnect.token';
  const USER_KEY = 'konnect.user';

  /** A failed call: `status` 0 means the network failed (server down, laptop asleep, timeout). */
  class ApiError extends Error {
    constructor(status, code, detail, retryAfter) {
      super(detail || code);
      this.status = status;
      this.code = code;
      this.retryAfter = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0;  // seconds; 0 = none
    }
    /** Worth retrying unchanged: network failures, 5xx, 408 and 429. Other 4xx will fail again. */
    get transient() {
      return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429;
    }
  }

  /** The HTTP API of one server (same origin). Holds the session token in localStorage. */
  class Api {
    constructor() {
      this.token = read(TOKEN_KEY);
      this.username = read(USER_KEY);
      this.onUnauthorized = () => {};
      this.onNetwork = () => {};  // called with true after any answer, false after a network failure
    }

    get signedIn() { return Boolean(this.token && this.username); }

    async request(method, path, { body, query, signal, timeoutMs = 15000 } = {}) {
      const url = query ? `${path}?${new URLSearchParams(query)}` : path;
      const headers = { Accept: 'application/json' };
      if (this.token) headers.Authorization = `Bearer ${this.token}`;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      // A request held across a laptop sleep can hang forever on a dead TCP connection: bound every call.
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (signal) signals.push(signal);
      const init = { method, headers, cache: 'no-store', credentials: 'omit', signal: AbortSignal.any(signals) };
      if (body !== undefined) init.body = JSON.stringify(body);
      let res, data = null;
      try {
        res = await fetch(url, init);
        if (res.status !== 204) data = await res.json().catch(() => null);
      } catch (err) {
        if (signal && signal.aborted) throw err;  // the caller cancelled: not a network problem
        this.onNetwork(false);
        throw new ApiError(0, 'network', 'The server cannot be reached.');
      }
      this.onNetwork(true);
      if (res.ok) return data;
      const code = (data && data.code) || `http_${res.status}`;
      const error = new ApiError(res.status, code, data && data.detail, K.retry.parseRetryAfter(res.headers.get('Retry-After')));
      // 401 on a session route means the token is gone (expired, revoked, logged out elsewhere).
      if (res.status === 401 && this.token && path !== '/login') this.onUnauthorized(error);
      throw error;
    }

    register(username, password) { return this.request('POST', '/register', { body: { username, password } }); }

    async login(username, password) {
      const data = await this.request('POST', '/login', { body: { username, password } });
      this.token = data.token;
      this.username = data.user.username;
      write(TOKEN_KEY, this.token);
      write(USER_KEY, this.username);
      return data;
    }

    /** Forgets the session locally first, so the page is logged out even when the server is unreachable. */
    async logout() {
      const token = this.token;
      this.forget();
      if (!token) return;
      const headers = { Authorization: `Bearer ${token}` };
      await fetch('/logout', { method: 'POST', headers, credentials: 'omit', signal: AbortSignal.timeout(5000) })
        .catch(() => {});
    }

    forget() {
      this.token = null;
      this.username = null;
      remove(TOKEN_KEY);
      remove(USER_KEY);
    }

    me() { return this.request('GET', '/me'); }
    /** One page of the room list: public rooms, and the private and direct ones the caller is in. */
    rooms(after) { return this.request('GET', '/rooms', after ? { query: { after } } : {}); }
    createRoom(name, visibility = 'public') {
      return this.request('POST', '/rooms', { body: { name, visibility } });
    }
    /** The room with its members; `@bob` opens (and on first use creates) the direct room with bob. */
    room(name) { return this.request('GET', `/rooms/${encodeURIComponent(name)}`); }
    addMember(room, username) {
      return this.request('PUT', `/rooms/${encodeURIComponent(room)}/members/${encodeURIComponent(username)}`);
    }
    removeMember(room, username) {
      return this.request('DELETE', `/rooms/${encodeURIComponent(room)}/members/${encodeURIComponent(username)}`);
    }

    /** The newest page, or the page before seq `before`. */
    history(room, before, limit = 50) {
      const query = { room, limit: String(limit) };
      if (before) query.before = String(before);
      return this.request('GET', '/messages', { query });
    }

    /** Messages after seq `after`; with `wait` > 0 held up to that many seconds when there are none yet. */
    poll(room, after, wait, signal) {
      const query = { room, after: String(after), limit: '200' };
      if (wait) query.wait = String(wait);
      return this.request('GET', '/messages', { query, signal, timeoutMs: (wait + 15) * 1000 });
    }

    /**
     * The feed of all the user's rooms (API.md "The feed"): events after position `after` (null: none, and `next`
     * is now), held up to `wait` seconds when there are none yet.
     */
    events(after, wait, limit, signal) {
      const query = { limit: String(limit) };
      if (after !== null && after !== undefined) query.after = String(after);
      if (wait) query.wait = String(wait);
      return this.request('GET', '/events', { query, signal, timeoutMs: (wait + 15) * 1000 });
    }

    /** A message; `files` (ids of stored uploads) when it carries files, then `text` may be empty. */
    post(room, text, clientId, files) {
      const body = { room, text, client_id: clientId };
      if (files && files.length) body.files = files;
      return this.request('POST', '/messages', { body, timeoutMs: files && files.length ? 30000 : 15000 });
    }
  }

  function read(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
  function write(key, value) { try { localStorage.setItem(key, value); } catch (_) { /* private mode */ } }
  function remove(key) { try { localStorage.removeItem(key); } catch (_) { /* private mode */ } }

  /** A random client_id for idempotent retries (API.md: up to 64 printable ASCII characters). */
  function newClientId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  K.Api = Api;
  K.ApiError = ApiError;
  K.newClientId = newClientId;
  K.storage = { read, write, remove };
})(window.Konnect);
