"""Unit tests of the web client's retry delays (web/retry.js) and of the loops that use them (feed, outbox),
run inside the page with a fake clock: the loops' sleep is replaced by one that records the delay and returns."""
from harness import wait_for

DELAY_UNITS_JS = """
const { retryDelay, Backoff, parseRetryAfter, FLOOR_MS, CAP_MS } = Konnect.retry;
const fails = [];
const eq = (what, got, want) => { if (got !== want) fails.push(`${what}: got ${got}, want ${want}`); };
const low = () => 0, high = () => 0.999999, half = () => 0.5;
eq('floor/cap', [FLOOR_MS, CAP_MS].join(), '500,30000');
eq('first retry, lowest pick', retryDelay(1, 0, low), 500);
eq('first retry, highest pick', retryDelay(1, 0, high), 999);
eq('third retry, half pick', retryDelay(3, 0, half), 2000);
eq('capped', retryDelay(12, 0, high), 29999);
eq('huge failure count capped', retryDelay(1e9, 0, high), 29999);
// The bug of issue 9: a network failure has no Retry-After; undefined/NaN must not make the delay NaN (= 0 ms).
for (const ra of [undefined, null, NaN, -5, 'abc', Infinity]) eq(`retryAfter ${String(ra)}`, retryDelay(1, ra, low), 500);
for (const n of [0, -1, NaN, undefined]) eq(`failures ${String(n)}`, retryDelay(n, 0, low), 500);
eq('random NaN', retryDelay(2, 0, () => NaN), 500);
eq('random 1', retryDelay(1, 0, () => 1), 1000);
eq('Retry-After honoured', retryDelay(1, 7, low), 7000);
eq('Retry-After above the cap honoured', retryDelay(9, 120, high), 120000);
eq('Retry-After shorter than the backoff', retryDelay(6, 1, high), 29999);
// Full jitter: uniform in [0, window), raised to the floor. Window of the 5th retry: 16 s, mean about 8 s.
let sum = 0, min = Infinity, max = 0;
for (let i = 0; i < 4000; i++) { const d = retryDelay(5, undefined); sum += d; min = Math.min(min, d); max = Math.max(max, d); }
const mean = sum / 4000;
if (!(min >= 500 && max < 16000 && mean > 7000 && mean < 9000)) fails.push(`jitter: min ${min} max ${max} mean ${mean}`);
const b = new Backoff(high);
const seq = [b.next(), b.next(), b.next(), b.next(), b.next(), b.next(), b.next()];
eq('Backoff sequence', seq.join(), '999,1999,3999,7999,15999,29999,29999');
b.reset();
eq('Backoff after reset', b.next(), 999);
eq('Retry-After seconds', parseRetryAfter('120'), 120);
eq('Retry-After date', parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1)), 60);
eq('Retry-After past date', parseRetryAfter(new Date(Date.UTC(2020, 0, 1)).toUTCString()), 0);
for (const v of [null, '', 'soon', undefined]) eq(`Retry-After ${JSON.stringify(v)}`, parseRetryAfter(v), 0);
return fails;
"""

# The feed and the outbox against a fake API that fails, with a fake clock: the delays they ask for are the
# backoff's, a success resets it, a network error (no Retry-After) never yields 0 ms, and Retry-After is used.
LOOP_UNITS_JS = """
const done = arguments[arguments.length - 1];
const K = Konnect, high = () => 0.999999;
const net = () => new K.ApiError(0, 'network', 'down');
const busy = () => new K.ApiError(503, 'unavailable', 'busy', 7);
function clock(stopAfter, stop) {
  const delays = [];
  return { delays, sleep(ms) { delays.push(ms); if (delays.length >= stopAfter) stop(); return Promise.resolve(); } };
}
const idle = () => new Promise((r) => setTimeout(() => r({ events: [], next: 1, has_more: false }), 20));
async function feedDelays() {
  // The feed loop (GET /events): a network failure, a 503 with Retry-After: 7, a network failure, then the
  // position is taken; from then on every follow request fails.
  let calls = 0;
  const api = {
    events: async () => { calls++; if (calls === 2) throw busy(); if (calls <= 3 || calls > 4) throw net();
                          return { events: [], next: 5, has_more: false }; },
    history: async () => ({ messages: [], has_more: false }),
    poll: async () => ({ messages: [], has_more: false }),
  };
  const noop = () => {};
  const feed = new K.Feed(api, { reset: noop, append: noop, prepend: noop, loading: noop, failed: noop,
                                 events: noop, follows: () => true });
  feed.backoff = new K.retry.Backoff(high);
  const c = clock(8, () => feed.stop());
  feed.sleep = c.sleep;
  feed.start();
  feed.open('unit-test-room');
  for (let i = 0; i < 100 && feed.current; i++) await new Promise((r) => setTimeout(r, 5));
  return c.delays;
}
async function roomDelays() {
  // The room loop of a room the feed does not carry (a public room looked at): history fails as above, then
  // every long-poll of the room fails. The feed itself answers (nothing new).
  let history = 0;
  const api = {
    events: idle,
    history: async () => { history++; if (history === 2) throw busy(); if (history <= 3) throw net();
                           return { messages: [], has_more: false }; },
    poll: async () => { throw net(); },
  };
  const noop = () => {};
  const feed = new K.Feed(api, { reset: noop, append: noop, prepend: noop, loading: noop, failed: noop,
                                 events: noop, follows: () => false });
  feed.roomBackoff = new K.retry.Backoff(high);
  const c = clock(8, () => feed.stop());
  feed.sleep = c.sleep;
  feed.start();
  feed.open('unit-test-room');
  for (let i = 0; i < 200 && feed.current; i++) await new Promise((r) => setTimeout(r, 5));
  feed.stop();
  return c.delays;
}
async function outboxDelays() {
  let posts = 0;
  const api = {
    username: 'unit-test-' + Math.random().toString(36).slice(2),
    post: async () => { posts++; if (posts === 4) return { message: { seq: 1 } }; throw net(); },
  };
  const outbox = new K.Outbox(api, { changed() {}, sent() {}, rejected() {} });
  outbox.backoff = new K.retry.Backoff(high);
  const c = clock(6, () => outbox.stop(true));
  outbox.sleep = c.sleep;
  outbox.add('unit-test-room', 'one');
  outbox.add('unit-test-room', 'two');
  for (let i = 0; i < 100 && outbox.running; i++) await new Promise((r) => setTimeout(r, 5));
  outbox.stop(true);
  return c.delays;
}
// A room the user lost (404 room_not_found, API.md "Rooms v2"): the feed reports it once and stops, the outbox
// gives the message back once and goes on; neither sleeps or asks again.
async function notFound() {
  const gone = () => new K.ApiError(404, 'room_not_found', "room 'x' does not exist");
  let polls = 0, posts = 0, failed = 0, rejected = 0;
  const api = {
    username: 'unit-test-' + Math.random().toString(36).slice(2),
    events: idle,
    history: async () => { polls++; throw gone(); },
    post: async () => { posts++; throw gone(); },
  };
  const noop = () => {};
  const feed = new K.Feed(api, { reset: noop, append: noop, prepend: noop, loading: noop, failed: () => failed++,
                                 events: noop, follows: () => true });
  const feedClock = clock(1, () => feed.stop());
  feed.sleep = feedClock.sleep;
  feed.start();
  feed.open('unit-test-gone');
  const outbox = new K.Outbox(api, { changed: noop, sent: noop, rejected: () => rejected++ });
  const outboxClock = clock(1, () => outbox.stop(true));
  outbox.sleep = outboxClock.sleep;
  outbox.add('unit-test-gone', 'lost');
  await new Promise((r) => setTimeout(r, 300));
  const left = outbox.items.length;
  feed.stop();
  outbox.stop(true);
  return [polls, failed, feedClock.delays.length, posts, rejected, outboxClock.delays.length, left];
}
Promise.all([feedDelays(), roomDelays(), outboxDelays(), notFound()]).then(done, (e) => done(String(e && e.stack || e)));
"""


def check(page, step):
    fails = page.js(DELAY_UNITS_JS)
    assert fails == [], "retry delay unit tests failed:\n  " + "\n  ".join(fails)
    step("retryDelay: floor 0.5 s, cap 30 s, full jitter, Retry-After honoured, no NaN from a missing Retry-After")
    page.driver.set_script_timeout(30)
    result = page.driver.execute_async_script(LOOP_UNITS_JS)
    assert isinstance(result, list), f"loop unit test threw: {result}"
    feed, room, outbox, gone = result
    # Feed: failures in 1, 2 (the 503 asks for 7 s: honoured) and 4 s windows; the success resets; polls fail.
    assert feed == [999, 7000, 3999, 999, 1999, 3999, 7999, 15999], f"feed delays {feed}"
    assert room == [999, 7000, 3999, 999, 1999, 3999, 7999, 15999], f"room loop delays {room}"
    # Outbox: 3 failures, a success resets the backoff for the second message, which then fails on.
    assert outbox == [999, 1999, 3999, 999, 1999, 3999], f"outbox delays {outbox}"
    step(f"feed, room and outbox loops with a fake clock ask for {feed} / {room} / {outbox} ms (reset after a success)")
    # [history reads, failed reports, feed sleeps, posts, rejections, outbox sleeps, items left]
    assert gone == [1, 1, 0, 1, 1, 0, 0], f"a 404 room is retried: {gone}"
    step("a 404 room_not_found stops the feed and drops the outbox item at once: no retry, no sleep")


COUNT_FETCH_JS = """
if (!window.__fetchTimes) {
  const realFetch = window.fetch;
  window.fetch = function (...args) { window.__fetchTimes.push(performance.now()); return realFetch.apply(this, args); };
}
window.__fetchTimes = [];
"""


def start_counting(pages):
    for page in pages:
        page.js(COUNT_FETCH_JS)


def requests_made(page):
    return page.js("return window.__fetchTimes.length")
