"""Issue 10 in the browser: one `/events` feed for all rooms, unread badges and title, direct-message notifications,
rooms that appear and disappear without a reload, and a server restart mid-follow that loses and doubles nothing."""
import os
import time
from urllib.parse import quote

from harness import REPO, Api, wait_for
from page import Page

ROOMS = ["ev-1", "ev-2", "ev-3", "ev-4"]  # private: the feed carries them, no one else's sidebar shows them
SECRET = "ev-secret"
IDLE_S = 6

# Installed before the page's own scripts (CDP), so every fetch of the page is seen, the first /events included:
# [url, start ms, end ms or null]. CDP-injected scripts are not subject to the page's CSP.
# konnect.test.delayHistory (sessionStorage, once): the page's first history read is held 1.5 s, before it is sent
# ('request') or after its answer came ('answer'), so a message can be posted in between.
RECORD_JS = """
(() => {
  const log = window.__requests = [];
  const real = window.fetch;
  const delayMode = sessionStorage.getItem('konnect.test.delayHistory');
  sessionStorage.removeItem('konnect.test.delayHistory');
  const later = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  window.fetch = function (input, init) {
    const entry = { url: String(input && input.url ? input.url : input), start: performance.now(), end: null };
    log.push(entry);
    const self = this, args = arguments;
    const history = delayMode && !window.__historyDelayed && /^\\/messages\\?/.test(entry.url)
      && /[?&]limit=50(&|$)/.test(entry.url) && !/[?&](after|before)=/.test(entry.url);
    if (history) window.__historyDelayed = delayMode;
    // window.__holdFeedUntil (performance.now() ms): /events requests are sent only from then on.
    const hold = entry.url.startsWith('/events') ? (window.__holdFeedUntil || 0) - performance.now() : 0;
    const answer = hold > 0 ? later(hold).then(() => real.apply(self, args))
      : !history ? real.apply(self, args)
      : delayMode === 'request' ? later(1500).then(() => real.apply(self, args))
      : real.apply(self, args).then((response) => { window.__historyAnswered = true; return later(1500).then(() => response); });
    const done = () => { entry.end = performance.now(); };
    answer.then(done, done);
    if (entry.url.startsWith('/events')) {  // what each page of the feed held: ["joined @a,b", "message @a,b"]
      answer.then((response) => response.clone().json())
        .then((page) => { entry.events = page.events.map((e) => `${e.type} ${e.room}`); }, () => {});
    }
    return answer;
  };
  if (typeof window.Notification === 'function') {
    const Real = window.Notification;
    window.__notes = [];
    class Captured extends Real {
      constructor(title, options) {
        const record = { title, body: options && options.body, tag: options && options.tag, hidden: document.hidden };
        window.__notes.push(record);
        super(title, options);
        record.note = this;
      }
    }
    Object.defineProperty(Captured, 'permission', { get: () => Real.permission });
    window.__permissionAsks = 0;
    Captured.requestPermission = (...args) => { window.__permissionAsks++; return Real.requestPermission(...args); };
    window.Notification = Captured;
  }
})();
"""

SHOTS = os.path.join(REPO, "artifacts", "screenshots")


def events_shot(name):
    os.makedirs(SHOTS, exist_ok=True)
    return os.path.join(SHOTS, name)


NOTES_JS = "return (window.__notes || []).map(n => [n.title, n.body, n.tag, n.hidden])"


def token(page):
    return page.js("return localStorage.getItem('konnect.token')")


def badge(page, room):
    return page.js("const b = document.querySelector('#drawer button[data-room=\"' + arguments[0] + '\"] .badge');"
                   " return b ? b.textContent : null", room)


def feed_pages(page):
    return page.js("return window.__requests.filter(r => r.events && r.events.length).map(r => r.events)")


def requests(page, since=0):
    return page.js("return window.__requests.filter(r => r.start >= arguments[0]).map(r => [r.url, r.start, r.end])",
                   since)


def tab_title(page, handle):
    targets = page.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
    return next((t["title"] for t in targets if t["targetId"] == handle), None)


def scenario(server, step, shots_for, password):
    frank = Api(server).sign_up("frank", password)
    gina = Api(server).sign_up("gina", password)
    erin = Page("erin", server.url + "/")
    try:
        erin.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_JS})
        erin.driver.refresh()
        erin.sign_up("erin", password)
        _one_feed(server, erin, frank, step)
        _badges(erin, frank, step)
        _notifications(server, erin, frank, gina, step, shots_for(erin))
        _first_message_in_one_page(server, erin, step, password)
        _added_and_removed(erin, gina, step)
        _restart(server, erin, frank, step)
        _startup_race(erin, frank, step)
        erin.collect_console()
    finally:
        erin.close()


def _one_feed(server, erin, frank, step):
    me = Api(server, token(erin))
    for name in ROOMS:
        me.call("POST", "/rooms", {"name": name, "visibility": "private"}, expect=(201,))
        me.call("PUT", f"/rooms/{name}/members/frank", expect=(201,))
    # Rooms she creates elsewhere (here: over the API) reach her page as `joined` events, without a reload.
    wait_for(lambda: set(ROOMS) <= {name for name, _ in erin.listed("rooms")}, 5, "erin's 4 new rooms listed from the feed")
    erin.driver.refresh()  # count from the page's first request
    wait_for(lambda: erin.visible("#composer"), 10, "erin's chat after a reload")
    wait_for(lambda: len(erin.listed("rooms")) >= 5, 10, "erin's rooms")
    time.sleep(1.0)
    t0 = erin.js("return performance.now()")
    time.sleep(IDLE_S)
    every = requests(erin)
    idle = requests(erin, t0)
    outstanding = [r for r in every if r[2] is None]
    assert len(outstanding) == 1 and outstanding[0][0].startswith("/events?"), f"outstanding: {outstanding}"
    assert "after=" in outstanding[0][0] and "wait=30" in outstanding[0][0], outstanding
    waits = [r[0] for r in every if r[0].startswith("/messages") and "wait=" in r[0]]
    assert not waits, f"per-room long-polls: {waits}"
    assert all(r[0].startswith("/events?") for r in idle), f"requests while idle: {[r[0] for r in idle]}"
    events = [r[0] for r in every if r[0].startswith("/events")]
    assert "after=" not in events[0], f"the first /events takes the position (no after): {events[0]}"
    step(f"{len(erin.listed('rooms'))} rooms listed (5 hers), idle {IDLE_S} s: one outstanding request ({outstanding[0][0]}), "
         f"no /messages?wait=; since load: {[r[0].split('?')[0] for r in every]}")


def _badges(erin, frank, step):
    erin.open_room("general")
    t0 = erin.js("return performance.now()")
    frank.post("ev-2", "two-a")
    frank.post("ev-2", "two-b")
    frank.post("ev-3", "three-a")
    Api(frank.server, token(erin)).post("ev-4", "my own, from another device")
    wait_for(lambda: badge(erin, "ev-2") == "2" and badge(erin, "ev-3") == "1", 5, "badges on ev-2 and ev-3")
    time.sleep(0.5)
    assert badge(erin, "ev-4") is None, f"own message counted: {badge(erin, 'ev-4')}"
    assert erin.driver.title == "(3) Konnect", erin.driver.title
    assert badge(erin, "general") is None
    erin.viewport(360, 740, True)  # on a phone the list is in the drawer: its button has a dot and says how many
    menu = erin.js("const m = document.getElementById('menu'); return [m.classList.contains('has-unread'),"
                   " m.getAttribute('aria-label'), getComputedStyle(m, '::after').content]")
    erin.driver.save_screenshot(events_shot("menu-unread-phone.png"))
    erin.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert menu == [True, "Show rooms (3 unread)", '""'], menu
    waits = [r[0] for r in requests(erin, t0) if not r[0].startswith("/events")]
    assert not waits, f"messages in closed rooms made other requests: {waits}"
    step("messages in rooms not open: badges 2 and 1, none for her own, title '(3) Konnect', only /events asked")

    erin.open_room("ev-2")
    assert erin.shown("two-a") and erin.shown("two-b")
    wait_for(lambda: badge(erin, "ev-2") is None and erin.driver.title == "(1) Konnect", 3, "ev-2 read")
    seen = erin.js("return JSON.parse(localStorage.getItem('konnect.seen.erin'))")
    assert seen.get("ev-2") == 2, seen
    t0 = erin.js("return performance.now()")
    frank.post("ev-2", "live in the open room")
    wait_for(lambda: erin.shown("live in the open room"), 3, "a live message in the open room")
    asked = [r[0] for r in requests(erin, t0)]
    assert all(u.startswith("/events?") or (u.startswith("/messages?room=ev-2&after=2") and "wait" not in u)
               for u in asked), asked
    step(f"opening ev-2 clears its badge and the title ((1) Konnect), seen kept; a new message comes by {asked}")

    # Back to a room opened before: shown at once from what the page kept, then brought up to date with after=.
    erin.open_room("general")
    frank.post("ev-2", "while she was away 1")
    frank.post("ev-2", "while she was away 2")
    wait_for(lambda: badge(erin, "ev-2") == "2", 5, "ev-2's badge")
    t0 = erin.js("return performance.now()")
    erin.open_room("ev-2")
    wait_for(lambda: erin.shown("while she was away 2"), 5, "the messages that came meanwhile")
    stored = [(m["seq"], m["text"]) for m in frank.history("ev-2")]
    assert erin.messages() == stored, f"erin shows {erin.messages()}, the room is {stored}"
    asked = [r[0] for r in requests(erin, t0) if r[0].startswith("/messages")]
    assert asked == ["/messages?room=ev-2&after=3&limit=200"], asked
    # Far behind (more than a page came meanwhile): the newest page, as on a first visit.
    erin.open_room("general")
    for i in range(205):
        frank.post("ev-2", f"flood {i}")
    wait_for(lambda: badge(erin, "ev-2") == "99+", 10, "ev-2's badge at 99+")
    t0 = erin.js("return performance.now()")
    erin.open_room("ev-2")
    wait_for(lambda: erin.shown("flood 204"), 5, "the newest message")
    shown = erin.messages()
    assert [seq for seq, _ in shown] == list(range(210 - len(shown) + 1, 210 + 1)) and len(shown) == 50, shown[:3]
    asked = [r[0].split("&limit")[0] for r in requests(erin, t0) if r[0].startswith("/messages")]
    assert asked == ["/messages?room=ev-2&after=5", "/messages?room=ev-2"], asked
    erin.open_room("general")
    step(f"a room opened before shows at once and reads only what came meanwhile (after=3); "
         f"205 behind, it reads the newest page instead ({asked})")


def _notifications(server, erin, frank, gina, step, shots):
    origin = server.url

    def permission(setting):
        erin.driver.execute_cdp_cmd("Browser.setPermission", {"origin": origin, "permission": {"name": "notifications"},
                                                               "setting": setting})

    permission("prompt")
    erin.driver.refresh()  # a fresh load with the permission not yet decided: nothing is asked
    wait_for(lambda: erin.visible("#composer"), 10, "erin's chat")
    erin.open_room("general")
    time.sleep(1)
    assert erin.js("return [Notification.permission, window.__permissionAsks]") == ["default", 0], "asked on load"
    bell = "#notify-toggle"
    if not erin.visible(bell):
        erin.el("#menu").click()  # the drawer on a phone
    wait_for(lambda: erin.visible(bell), 3, "the bell")
    erin.el(bell).click()
    wait_for(lambda: erin.js("return window.__permissionAsks") == 1, 3, "the click asks the browser")
    # Headless Chromium answers the prompt by itself (not 'granted'): the page says why it stays off.
    wait_for(lambda: "blocked" in erin.el("#composer-error").get_attribute("textContent"), 5, "why it cannot")
    assert erin.el(bell).get_attribute("aria-pressed") == "false"
    permission("denied")
    erin.el(bell).click()
    wait_for(lambda: "blocked" in erin.el("#composer-error").get_attribute("textContent"), 3, "why it cannot")
    assert erin.el(bell).get_attribute("aria-pressed") == "false"
    erin.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["notifications"]})
    erin.el(bell).click()
    wait_for(lambda: erin.el(bell).get_attribute("aria-pressed") == "true", 3, "notifications on")
    if erin.visible("#drawer-close"):
        erin.el("#drawer-close").click()
    assert erin.js(NOTES_JS) == []
    step("the bell: nothing asked on load; a click asks the browser (refused: said), denied is said, "
         "granted turns it on (aria-pressed)")

    chat = erin.driver.current_window_handle
    me = Api(server, token(erin))
    erin.driver.switch_to.new_window("tab")
    time.sleep(0.3)
    long_text = "word " * 80
    frank.post("@erin", "psst erin, a direct one")
    time.sleep(0.2)
    gina.post("@erin", long_text)
    me.post("@frank", "my own reply from my phone")
    wait_for(lambda: tab_title(erin, chat) == "(3) Konnect", 5, "the hidden tab's title counts the two direct messages")
    erin.driver.close()
    erin.driver.switch_to.window(chat)
    notes = erin.js(NOTES_JS)
    assert len(notes) == 2, notes
    assert notes[0][:3] == ["frank", "psst erin, a direct one", "@erin,frank"] and notes[0][3], notes[0]
    assert notes[1][0] == "gina" and notes[1][2] == "@erin,gina" and len(notes[1][1]) == 140, notes[1]
    assert notes[1][1].endswith("…") and long_text.strip().startswith(notes[1][1][:-1]), notes[1]
    step("a hidden tab notifies direct messages from others (sender, text cut to 140), not her own; title (3)")

    erin.driver.execute_cdp_cmd("Page.bringToFront", {})
    order = [name for name, _ in erin.listed("dms")]
    # Her own reply to frank (from another device) is the latest activity.
    assert order == ["@erin,frank", "@erin,gina"], f"direct chats by latest activity: {order}"
    assert badge(erin, "@erin,gina") == "1" and badge(erin, "@erin,frank") == "1"
    shots(lambda theme, label: erin.driver.save_screenshot(shots.path(f"badges-{theme}-{label}.png")), drawer=True)
    erin.js("window.__notes[0].note.onclick()")
    wait_for(lambda: erin.open_name() == "@erin,frank", 5, "the notification's click opens the direct chat")
    wait_for(lambda: erin.shown("psst erin, a direct one") and erin.shown("my own reply from my phone"), 5, "the chat")
    assert badge(erin, "@erin,frank") is None
    gina.post("@erin", "gina again")
    wait_for(lambda: [n for n, _ in erin.listed("dms")] == ["@erin,gina", "@erin,frank"], 5, "gina's chat on top")
    erin.driver.refresh()
    wait_for(lambda: len(erin.listed("dms")) == 2, 10, "direct chats after a reload")
    assert [n for n, _ in erin.listed("dms")] == ["@erin,gina", "@erin,frank"], erin.listed("dms")
    assert badge(erin, "@erin,gina") == "2", badge(erin, "@erin,gina")
    assert erin.el(bell).get_attribute("aria-pressed") == "true", "the choice is kept"
    step("direct chats newest first (kept across a reload); a notification's click opens its chat; "
         "screenshots badges-*.png")

    # Off: no notification, even hidden and granted.
    if not erin.visible(bell):
        erin.el("#menu").click()
    wait_for(lambda: erin.visible(bell), 3, "the bell")
    erin.el(bell).click()
    assert erin.el(bell).get_attribute("aria-pressed") == "false"
    if erin.visible("#drawer-close"):
        erin.el("#drawer-close").click()
    erin.open_room("general")
    erin.driver.switch_to.new_window("tab")
    gina.post("@erin", "while notifications are off")
    wait_for(lambda: tab_title(erin, chat) == "(4) Konnect", 5, "gina's chat counted: ev-3 1, gina 3")
    erin.driver.close()
    erin.driver.switch_to.window(chat)
    erin.driver.execute_cdp_cmd("Page.bringToFront", {})
    assert erin.js(NOTES_JS) == [], "a notification while turned off"
    step("turned off with the bell: no notification")


def _first_message_in_one_page(server, erin, step, password):
    """A new direct chat whose `joined` event and first message come in one page of the feed (here: the page's feed
    request is held back while both are posted) is listed, counted and notified like any other."""
    hal = Api(server).sign_up("hal", password)
    bell = "#notify-toggle"
    if not erin.visible(bell):
        erin.el("#menu").click()
    wait_for(lambda: erin.visible(bell), 3, "the bell")
    erin.el(bell).click()
    wait_for(lambda: erin.el(bell).get_attribute("aria-pressed") == "true", 3, "notifications on again")
    if erin.visible("#drawer-close"):
        erin.el("#drawer-close").click()
    chat = erin.driver.current_window_handle
    # 'online' restarts the feed (app.js): its new request waits 4 s in the page, then reads both events at once.
    erin.js("window.__holdFeedUntil = performance.now() + 4000; dispatchEvent(new Event('online'))")
    erin.driver.switch_to.new_window("tab")
    hal.post("@erin", "hi erin, hal here")
    wait_for(lambda: tab_title(erin, chat) == "(5) Konnect", 10, "hal's message counted in the hidden tab")
    erin.driver.close()
    erin.driver.switch_to.window(chat)
    erin.driver.execute_cdp_cmd("Page.bringToFront", {})
    assert ("@erin,hal", "hal") in erin.listed("dms"), erin.listed("dms")
    pages = [p for p in feed_pages(erin) if "joined @erin,hal" in p]
    assert pages and "message @erin,hal" in pages[0], f"not one page: {pages}"
    note = [n for n in erin.js(NOTES_JS) if n[0] == "hal"]
    assert note == [["hal", "hi erin, hal here", "@erin,hal", True]], note
    assert badge(erin, "@erin,hal") == "1", badge(erin, "@erin,hal")
    step(f"a new direct chat's `joined` and first message in one page ({pages[0]}): listed, badge 1, notified once")

    # The permission withdrawn in the browser while the bell is on: no notification.
    erin.driver.execute_cdp_cmd("Browser.setPermission", {"origin": server.url, "permission": {"name": "notifications"},
                                                           "setting": "denied"})
    count = len(erin.js(NOTES_JS))
    erin.driver.switch_to.new_window("tab")
    hal.post("@erin", "are you there?")
    wait_for(lambda: tab_title(erin, chat) == "(6) Konnect", 10, "hal's second message counted")
    erin.driver.close()
    erin.driver.switch_to.window(chat)
    erin.driver.execute_cdp_cmd("Page.bringToFront", {})
    assert len(erin.js(NOTES_JS)) == count, "a notification without the permission"
    assert erin.el("#notify-toggle").get_attribute("aria-pressed") == "false", "the bell still says on"
    step("with the permission withdrawn in the browser, a direct message to the hidden tab notifies nothing")


def _added_and_removed(erin, gina, step):
    erin.open_room("general")
    erin.js("window.__noReload = true")
    gina.call("POST", "/rooms", {"name": SECRET, "visibility": "private"}, expect=(201,))
    gina.post(SECRET, "before erin came")
    t0 = time.monotonic()
    gina.call("PUT", f"/rooms/{SECRET}/members/erin", expect=(201,))
    wait_for(lambda: SECRET in [n for n, _ in erin.listed("rooms")], 5, "the private room in erin's list")
    took = time.monotonic() - t0
    assert erin.js("return window.__noReload === true"), "the page was reloaded"
    assert badge(erin, SECRET) == "1", badge(erin, SECRET)
    gina.post(SECRET, "welcome erin")
    wait_for(lambda: badge(erin, SECRET) == "2", 5, "the new room's badge")
    step(f"added to a private room: listed {took * 1000:.0f} ms later without a reload, badge 2")

    erin.open_room(SECRET)
    wait_for(lambda: erin.shown("welcome erin"), 5, "erin reads it")
    t0 = erin.js("return performance.now()")
    gina.call("DELETE", f"/rooms/{SECRET}/members/erin", expect=(204,))
    gina.post(SECRET, "after erin was removed")
    wait_for(lambda: erin.open_name() == "general", 5, "erin moved to #general")
    assert SECRET not in [n for n, _ in erin.listed("rooms")]
    assert f"not a member of #{SECRET}" in erin.el("#composer-error").get_attribute("textContent")
    time.sleep(1.5)
    assert "after erin was removed" not in erin.el("body").get_attribute("textContent")
    asked = [r[0] for r in requests(erin, t0) if quote(SECRET) in r[0]]
    assert not asked, f"the page still asks for the room it left: {asked}"
    step("removed: the room leaves her list, she is told and moved to #general, nothing of it shown or asked after")


def _restart(server, erin, frank, step):
    erin.open_room("ev-1")
    before = badge(erin, "ev-3")
    frank.post("ev-1", "right before the restart")
    frank.post("ev-3", "three before the restart")
    server.stop()
    wait_for(lambda: erin.offline_banner(), 15, "offline banner")
    server.start()
    for i in range(3):
        frank.post("ev-1", f"after the restart {i}")
    frank.post("ev-3", "three after the restart")
    wait_for(lambda: not erin.offline_banner(), 45, "back online")
    wait_for(lambda: erin.shown("after the restart 2"), 15, "messages after the restart")
    time.sleep(1)
    stored = [(m["seq"], m["text"]) for m in frank.history("ev-1")]
    assert erin.messages() == stored, f"erin shows {erin.messages()}, the room is {stored}"
    want = str(int(before or 0) + 2)
    assert badge(erin, "ev-3") == want, f"ev-3 badge {badge(erin, 'ev-3')}, want {want}"
    outstanding = [r for r in requests(erin) if r[2] is None]
    assert len(outstanding) == 1 and outstanding[0][0].startswith("/events?"), outstanding
    step(f"server restarted mid-follow: ev-1 shows its {len(stored)} messages once each, ev-3's badge is {want}")


def _startup_race(erin, frank, step):
    """A message posted while the page loads the open room's history is shown once, wherever it comes from."""
    erin.open_room("ev-1")
    for mode in ("request", "answer"):
        erin.js("sessionStorage.setItem('konnect.test.delayHistory', arguments[0])", mode)
        erin.driver.refresh()
        wait_for(lambda: erin.js("return window.__historyDelayed") == mode, 10, "the history read held")
        if mode == "answer":
            wait_for(lambda: erin.js("return window.__historyAnswered === true"), 5, "the history answered (held)")
        text = f"posted while the history loads ({mode})"
        frank.post("ev-1", text)
        wait_for(lambda: erin.shown(text), 10, f"{text!r} shown")
        time.sleep(1)
        stored = [(m["seq"], m["text"]) for m in frank.history("ev-1")]
        assert erin.messages() == stored, f"{mode}: erin shows {erin.messages()}, the room is {stored}"
        urls = [r[0].split("&wait")[0] for r in requests(erin)]
        assert urls.index("/events?limit=100") < min(i for i, u in enumerate(urls) if u.startswith("/messages?")), urls
    step("a message posted while the history loads (held before its request, or after its answer) shows once")


if __name__ == "__main__":  # alone: KONNECT_BIN=.build/debug/konnect /usr/bin/python3 Tests/Browser/events.py
    import os
    import shutil
    import sys
    import tempfile
    import traceback

    from harness import REPO, Server
    import polish

    binary = os.environ.get("KONNECT_BIN") or os.path.join(REPO, ".build", "debug", "konnect")
    workdir = tempfile.mkdtemp(prefix="konnect-events-")
    server = Server(binary, os.path.join(workdir, "konnect.db")).start()
    status = 0
    try:
        scenario(server, lambda text: print(f"ok - {text}", flush=True),
                 lambda page: polish.Shots(page, os.path.join(REPO, "artifacts", "screenshots")), "correct horse battery")
    except Exception:
        traceback.print_exc()
        print("server log tail:\n" + "\n".join(server.log[-30:]), file=sys.stderr)
        status = 1
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(status)
