// Retry delays: the one place that decides how long the client waits before trying a failed call again.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const FLOOR_MS = 500;     // never sooner than this, whatever the failure (a refused connection fails in ~1 ms)
  const CAP_MS = 30000;     // never later than this, unless the server asked for more with Retry-After
  const BASE_MS = 1000;     // the window of the first retry; it doubles with each consecutive failure

  /**
   * Delay before retry number `failures` (1, 2, …): exponential backoff with full jitter (a uniform pick in
   * [0, min(cap, base·2^(n-1))), raised to the floor), so clients that lost the same server do not come back
   * in lockstep. `retryAfterS` (the server's Retry-After, in seconds) is honoured when it asks for longer.
   * Whatever the inputs (undefined, NaN, negative), the answer is a finite number of ms in [floor, max(cap, Retry-After)].
   */
  function retryDelay(failures, retryAfterS, random = Math.random) {
    const n = Math.min(Math.max(1, Math.floor(Number(failures)) || 1), 30);
    const window = Math.min(CAP_MS, BASE_MS * 2 ** (n - 1));
    let pick = Number(random());
    if (!Number.isFinite(pick) || pick < 0) pick = 0;
    let ms = Math.max(FLOOR_MS, Math.min(window, Math.floor(pick * window)));
    const after = Number(retryAfterS);
    if (Number.isFinite(after) && after > 0) ms = Math.max(ms, Math.ceil(after * 1000));
    return ms;
  }

  /** Consecutive failures of one retry loop: next() gives the wait before the next try, reset() after a success. */
  class Backoff {
    constructor(random = Math.random) {
      this.failures = 0;
      this.random = random;
    }
    next(retryAfterS) { this.failures++; return retryDelay(this.failures, retryAfterS, this.random); }
    reset() { this.failures = 0; }
  }

  /** Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); 0 when absent or unreadable. */
  function parseRetryAfter(value, now = Date.now()) {
    if (value === null || value === undefined || String(value).trim() === '') return 0;
    const text = String(value).trim();
    if (/^\d+$/.test(text)) return Number(text);
    const when = Date.parse(text);
    return Number.isFinite(when) ? Math.max(0, Math.ceil((when - now) / 1000)) : 0;
  }

  K.retry = { retryDelay, Backoff, parseRetryAfter, FLOOR_MS, CAP_MS, BASE_MS };
})(window.Konnect);
