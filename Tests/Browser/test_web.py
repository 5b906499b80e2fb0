#!/usr/bin/python3
"""End-to-end test of the web client (web/) in headless Chromium against the real `konnect serve` binary.

Run: KONNECT_BIN=.build/debug/konnect /usr/bin/python3 Tests/Browser/test_web.py
Needs Debian's chromium, chromium-driver and python3-selenium (.ci/install-browser.sh installs them).
Screenshots go to artifacts/screenshots/. Exit status 0 means every step passed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Api, Server, wait_for  # noqa: E402
from page import Page  # noqa: E402
import backoff  # noqa: E402
import events  # noqa: E402
import files  # noqa: E402
import polish  # noqa: E402
import rooms  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

PASSWORD = "correct horse battery"
HISTORY = 200
LONG = 2250           # messages in #long, to time paging back with 2,000 and more loaded
OUTAGE_S = 20         # how long the request rate is measured with the server down
MAX_OUTAGE_RATE = 2   # requests per second per tab, at most (issue 9: a 0 ms retry loop made ~280)
SCREENSHOTS = os.path.join(REPO, "artifacts", "screenshots")


def step(text):
    print(f"ok - {text}", flush=True)


def seen_within(page, text, seconds):
    """Waits for `text` on `page` and returns how long it took; fails after `seconds`."""
    start = time.monotonic()
    wait_for(lambda: page.shown(text), seconds, f"{page.name} to show {text!r}", interval=0.01)
    return time.monotonic() - start


def exchange(alice, bob):
    alice.type_and_send("hello bob 👋")
    took = seen_within(bob, "hello bob 👋", 1.0)
    step(f"bob sees alice's message after {took * 1000:.0f} ms")
    wait_for(lambda: "alice: hello bob 👋" in bob.el("#announcer").get_attribute("textContent"), 2, "aria-live note")
    assert bob.el("#announcer").get_attribute("aria-live") == "polite"
    bob.type_and_send("hi alice!\nsecond line")
    took = seen_within(alice, "hi alice!\nsecond line", 1.0)
    step(f"alice sees bob's two-line message after {took * 1000:.0f} ms")
    white_space = alice.js("return getComputedStyle(document.querySelector('#messages .text')).whiteSpace")
    assert white_space == "pre-wrap", white_space
    own = alice.js("return Array.from(document.querySelectorAll('#messages li.msg')).map(li => li.className)")
    assert "own" in own[0] and "other" in own[1], own
    step("newlines kept (pre-wrap), own and others' messages styled apart")

    bob.type_and_send("docs at https://example.com/a?b=1. and http://example.org")
    seen_within(alice, "docs at https://example.com/a?b=1. and http://example.org", 2)
    links = alice.js("return Array.from(document.querySelectorAll('#messages a')).map(a =>"
                     " [a.getAttribute('href'), a.textContent, a.rel, a.target])")
    assert links == [["https://example.com/a?b=1", "https://example.com/a?b=1", "noopener noreferrer", "_blank"],
                     ["http://example.org/", "http://example.org", "noopener noreferrer", "_blank"]], links
    step("http/https links are <a rel=noopener noreferrer target=_blank>, trailing dot left out")

    box = alice.el("#text")
    box.send_keys("party  time")
    alice.js("arguments[0].setSelectionRange(6, 6)", box)
    alice.el("#emoji-button").click()
    wait_for(lambda: alice.visible("#emoji-panel"), 2, "emoji panel")
    alice.el('#emoji-panel button[aria-label="Insert 🎉"]').click()
    assert box.get_attribute("value") == "party 🎉 time", box.get_attribute("value")
    assert not alice.visible("#emoji-panel")
    alice.type_and_send("")
    seen_within(bob, "party 🎉 time", 2)
    step("emoji picker inserts at the cursor; emoji travel intact")


def unread_title(alice, bob):
    """With bob's tab in the background, the title counts alice's new messages; back in front it resets."""
    chat_tab = bob.driver.current_window_handle
    bob.driver.switch_to.new_window("tab")
    wait_for(lambda: bob_title(bob, chat_tab) == "Konnect", 3, "bob's chat tab titled Konnect")
    alice.type_and_send("are you there?")
    alice.type_and_send("ping")
    wait_for(lambda: bob_title(bob, chat_tab) == "(2) Konnect", 3, "'(2) Konnect' in bob's hidden tab")
    bob.driver.close()
    bob.driver.switch_to.window(chat_tab)
    bob.driver.execute_cdp_cmd("Page.bringToFront", {})
    wait_for(lambda: bob.driver.title == "Konnect", 3, "title reset when the tab is visible again")
    step("a hidden tab counts unread messages in its title: (2) Konnect")


def bob_title(page, handle):
    targets = page.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
    return next((t["title"] for t in targets if t["targetId"] == handle), None)


def xss(alice, bob):
    payloads = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script><b>bold?</b>"]
    for text in payloads:
        bob.type_and_send(text)
    for text in payloads:
        seen_within(alice, text, 2)
    time.sleep(0.3)
    for page in (alice, bob):
        page.assert_no_alert()
        count = page.js("return document.querySelectorAll('#messages img, #messages script, #messages b').length")
        assert count == 0, f"{page.name}: markup from a message became elements ({count})"
    step("markup in messages shows as text; no element created, no alert")


DAY_LABELS_JS = """
const now = new Date(), day = 86400000;
const dates = [new Date(2020, 0, 15, 9), new Date(2020, 0, 15, 10), new Date(now - day), new Date(now - 60000), now];
let prev = null;
const labels = [];
dates.forEach((date, i) => {
  const msg = { seq: i + 1, user: 'x', text: 't', created_at: date.toISOString() };
  for (const node of Konnect.render.messageNodes(msg, prev, 'me')) if (node.classList.contains('day')) labels.push(node.textContent);
  prev = msg;
});
return labels;
"""


def day_separators(page):
    labels = page.js(DAY_LABELS_JS)
    assert len(labels) == 3 and "2020" in labels[0] and labels[1:] == ["Yesterday", "Today"], labels
    step(f"day separators: {labels}")


def create_room(alice, api):
    alice.el("#room-add").click()
    wait_for(lambda: alice.visible("#room-name"), 3, "the new-room form after '+'")
    assert alice.el("#room-add").get_attribute("aria-expanded") == "true"
    assert alice.js("return document.activeElement.id") == "room-name", "'+' moves the focus to the room name"
    box = alice.el("#room-name")
    box.send_keys("no/slashes!")
    box.send_keys(Keys.ENTER)
    wait_for(lambda: "lowercase letters" in alice.el("#room-error").text, 3, "invalid room name error")
    box.clear()
    box.send_keys("Design Team")
    box.send_keys(Keys.ENTER)
    wait_for(lambda: alice.el("#room-name-label").text == "design-team", 3, "the new room opens")
    assert alice.el("#room-error").text == ""
    assert alice.visible('#rooms button[data-room="design-team"][aria-current="page"]')
    rooms = {room["name"]: room for room in api.call("GET", "/rooms")[1]["rooms"]}
    assert rooms["design-team"]["visibility"] == "public", rooms
    assert not alice.visible("#room-form"), "the form closes after creating"
    alice.type_and_send("first in design-team")
    wait_for(lambda: alice.shown("first in design-team"), 2, "message in the new room")
    step("create-room form: bad names explained, 'Design Team' becomes #design-team and opens")


def history(alice, seeder):
    alice.open_room("history")
    wait_for(lambda: alice.shown(f"history message {HISTORY:03d}"), 5, "newest history message")
    assert not alice.shown("history message 001")
    pages = 0
    while not alice.shown("history message 001"):
        before = len(alice.messages())
        top = alice.js("const s = document.getElementById('scroller'); s.scrollTop = 0;"
                       "const li = document.querySelectorAll('#messages li.msg')[1];"
                       "return [li.dataset.seq, li.getBoundingClientRect().top];")
        wait_for(lambda: len(alice.messages()) > before, 5, "an older page after scrolling to the top")
        time.sleep(0.05)
        after = alice.js("return document.querySelector('#messages li.msg[data-seq=\"' + arguments[0] + '\"]')"
                         ".getBoundingClientRect().top", top[0])
        # The second message is the anchor: the first one may join the group above it and change height.
        assert abs(after - top[1]) <= 3, f"scroll position jumped: message {top[0]} moved {top[1]} → {after}"
        pages += 1
        assert pages < 10, "too many pages"
    seqs = [seq for seq, _ in alice.messages()]
    assert seqs == list(range(1, HISTORY + 1)), f"history seqs wrong: {seqs[:5]}… ({len(seqs)})"
    wait_for(lambda: "beginning of #history" in alice.el("#history-note").text, 2, "beginning-of-room note")
    step(f"scrolled back through {HISTORY} messages in {pages} older pages, position kept, each once")

    scroll_top = "return document.getElementById('scroller').scrollTop"
    reading = alice.js(scroll_top)
    seeder.post("history", "news while reading old messages")
    wait_for(lambda: alice.shown("news while reading old messages"), 2, "a live message while scrolled up")
    assert abs(alice.js(scroll_top) - reading) <= 2, f"the reader was moved: {reading} → {alice.js(scroll_top)}"
    wait_for(lambda: alice.visible("#jump"), 2, "the 'New messages' button")
    alice.el("#jump").click()
    wait_for(lambda: alice.js("const s = document.getElementById('scroller');"
                              "return s.scrollHeight - s.scrollTop - s.clientHeight < 5"), 2, "scrolled to the newest")
    step("a live message does not move a reader who scrolled up; 'New messages' jumps down")


def restart(server, alice, bob, api_bob, shots):
    alice.open_room("general")
    server.stop()
    wait_for(lambda: alice.offline_banner() and bob.offline_banner(), 15, "'offline — reconnecting' on both pages")
    assert "offline — reconnecting" in alice.el("#net-status").text
    os.makedirs(SCREENSHOTS, exist_ok=True)
    step("both pages show 'offline — reconnecting' while the server is down")

    alice.type_and_send("sent while the server was down")
    wait_for(lambda: alice.pending() == ["sent while the server was down"], 3, "pending bubble")
    wait_for(lambda: "waiting for connection" in alice.el("#pending").text, 10, "pending state shown")
    alice.type_and_send("and a second one queued behind it")
    alice.type_and_send("and a third")
    queued = ["sent while the server was down", "and a second one queued behind it", "and a third"]
    wait_for(lambda: alice.pending() == queued, 3, "three pending bubbles")
    states = alice.js("return Array.from(document.querySelectorAll('#pending li.msg .state'), e => e.textContent)")
    assert states == ["waiting for connection…"] * 3, f"every queued message says it is waiting: {states}"
    step("while offline every queued message says 'waiting for connection…', not only the first")

    # Issue 9: with the server down, each tab used to retry in a 0 ms loop. Count every fetch of both tabs
    # (the feed's, the outbox's with a message queued, the room list's) for OUTAGE_S seconds.
    backoff.start_counting([alice, bob])
    started = time.monotonic()
    polish.offline_layout(alice, step, shots)  # screenshots while counting: resizing the page sends nothing
    time.sleep(max(0, OUTAGE_S - (time.monotonic() - started)))
    elapsed = time.monotonic() - started
    rates = {page.name: backoff.requests_made(page) / elapsed for page in (alice, bob)}
    print(f"# outage: {', '.join(f'{n} {r:.2f} req/s' for n, r in rates.items())} over {elapsed:.1f} s", flush=True)
    for name, rate in rates.items():
        assert rate <= MAX_OUTAGE_RATE, f"{name} sent {rate:.1f} requests/s while the server was down"
        # At least one try: the backoff may be deep in a long wait when counting starts, but never past the cap.
        assert rate * elapsed >= 1, f"{name} stopped retrying while the server was down ({rate * elapsed:.0f})"
    step(f"during a {OUTAGE_S} s outage each tab sends at most {MAX_OUTAGE_RATE} requests/s "
         f"({max(rates.values()):.2f} measured) and keeps retrying")
    alice.driver.save_screenshot(os.path.join(SCREENSHOTS, "offline-light-desktop.png"))
    server.start()
    api_bob.post("general", "posted by the API right after the restart")
    back = time.monotonic()
    for page in (alice, bob):
        # The next retry may be up to the 30 s cap away (the room list refresh every 20 s may find it first).
        wait_for(lambda p=page: not p.offline_banner(), 45, f"{page.name}: banner gone after restart")
        for text in queued + ["posted by the API right after the restart"]:
            wait_for(lambda p=page, t=text: p.shown(t), 15, f"{page.name}: {text!r} after restart")
    step(f"both pages reconnected {time.monotonic() - back:.1f} s after the server came back")
    bob.type_and_send("and one more after the restart")
    seen_within(alice, "and one more after the restart", 1.0)
    time.sleep(0.5)

    stored = api_bob.history("general")
    expected = [(m["seq"], m["text"]) for m in stored]
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1)), "server seqs have gaps"
    for text in queued:
        assert [m["text"] for m in stored].count(text) == 1, f"{text!r} not stored exactly once"
    for page in (alice, bob):
        assert page.messages() == expected, f"{page.name} shows {page.messages()} but the room is {expected}"
        assert page.pending() == [], f"{page.name} still has pending {page.pending()}"
    step(f"after the restart both pages show the room's {len(stored)} messages exactly once, in order")


def polish_checks(server, alice, bob, api, seeder, shots):
    polish.rtl(alice, bob, step)
    polish.rtl_screenshots(alice, step, shots)
    polish.own_groups(alice, step)
    polish.trim_and_emoji(alice, api, step)
    polish.drafts(alice, step)
    polish.composer_growth(alice, step)
    polish.phone_enter(alice, step)
    polish.focus_contrast(alice, step, shots)
    polish.long_room_name(alice, api, step, shots)
    polish.theme_choice(alice, step)
    polish.skip_link_and_headings(alice, step)
    polish.paging_cost(alice, seeder, "long", LONG, step)


DROP_ONE_ANSWER_JS = """
const realFetch = window.fetch;
window.fetch = async (url, init) => {
  const response = await realFetch(url, init);
  if (!window.__dropped && init && init.method === 'POST' && String(url) === '/messages') {
    window.__dropped = JSON.parse(init.body).client_id;  // the server stored it; the page never hears back
    throw new TypeError('Failed to fetch (answer dropped by the test)');
  }
  return response;
};
"""


def lost_answer(alice, bob, api):
    """The server stores a message but its answer is lost: the retry reuses the client_id, so it is stored once."""
    alice.js(DROP_ONE_ANSWER_JS)
    alice.type_and_send("my first answer got lost")
    seen_within(bob, "my first answer got lost", 2)
    wait_for(lambda: alice.pending() == [] and alice.shown("my first answer got lost"), 10, "alice's retry settles")
    stored = [m for m in api.history("general") if m["text"] == "my first answer got lost"]
    dropped = alice.js("return window.__dropped")
    assert dropped and len(stored) == 1 and stored[0]["client_id"] == dropped, (dropped, stored)
    assert len(alice.shown("my first answer got lost")) == 1 and len(bob.shown("my first answer got lost")) == 1
    step("a send whose answer was lost is retried with the same client_id and stored once")


def network_drop(alice, bob):
    """Bob's network goes away (as on a train, or a sleeping laptop): he catches up by `after=` when it returns."""
    conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    bob.driver.execute_cdp_cmd("Network.enable", {})
    bob.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": True})
    wait_for(bob.offline_banner, 10, "bob offline banner while his network is down")
    for text in ("missed one", "missed two"):
        alice.type_and_send(text)
        seen_within(alice, text, 2)
    time.sleep(1)
    assert not bob.shown("missed one"), "bob received a message with the network down"
    bob.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": False})
    for text in ("missed one", "missed two"):
        wait_for(lambda t=text: bob.shown(t), 10, f"bob catches up on {text!r}")
    wait_for(lambda: not bob.offline_banner(), 5, "bob's banner gone")
    assert bob.messages() == alice.messages(), "bob and alice disagree after the network came back"
    step("a page whose network drops shows the banner, then catches up exactly once")


def ended_session(server, alice, api):
    """A send cut off by an ended session (401) stays visible on the login screen and goes out after the login."""
    token = alice.js("return localStorage.getItem('konnect.token')")
    Api(server, token).call("POST", "/logout", expect=(204,))
    alice.type_and_send("typed as my session ended")
    wait_for(lambda: alice.visible("#auth-form"), 10, "alice at the login form after her session ended")
    wait_for(lambda: alice.visible("#unsent"), 2, "the unsent message on the login screen")
    unsent = alice.el("#unsent").text
    assert "Not sent — will send after you log in as alice" in unsent and "typed as my session ended" in unsent, unsent
    assert alice.el("#username").get_attribute("value") == "alice"
    assert alice.js("return document.activeElement.id") == "password", "focus on the password of the known user"
    alice.el("#password").send_keys(PASSWORD)
    alice.el("#auth-submit").click()
    wait_for(lambda: alice.visible("#composer"), 10, "alice back in the chat")
    wait_for(lambda: len(alice.shown("typed as my session ended")) == 1 and alice.pending() == [], 10,
             "the cut-off message sent after the login")
    stored = [m for m in api.history("general") if m["text"] == "typed as my session ended"]
    assert len(stored) == 1 and stored[0]["user"] == "alice", stored
    assert not alice.visible("#unsent")
    step("a message cut off by an ended session shows 'not sent — will send after you log in', then is sent once")


def screenshots(alice):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    alice.open_room("general")
    initial = alice.js("return document.documentElement.dataset.theme || ''")
    alice.el("#theme").click()
    toggled = alice.js("return [document.documentElement.dataset.theme, localStorage.getItem('konnect.theme')]")
    assert toggled[0] == toggled[1] and toggled[0] in ("light", "dark") and toggled[0] != initial, toggled
    step(f"theme toggle switches to {toggled[0]} and remembers it")
    for theme in ("light", "dark"):
        alice.js("document.documentElement.dataset.theme = arguments[0]", theme)
        for label, width, height, mobile in (("phone", 360, 740, True), ("desktop", 1280, 800, False)):
            alice.viewport(width, height, mobile)
            alice.js("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight")
            alice.driver.save_screenshot(os.path.join(SCREENSHOTS, f"chat-{theme}-{label}.png"))
            if mobile:
                overflow = alice.js("return document.documentElement.scrollWidth > innerWidth")
                assert not overflow, "the page scrolls sideways at 360 px"
                alice.el("#menu").click()
                wait_for(lambda: alice.visible("#rooms"), 2, "room drawer")
                time.sleep(0.3)
                alice.driver.save_screenshot(os.path.join(SCREENSHOTS, f"drawer-{theme}-{label}.png"))
                focused = alice.js("return document.activeElement.closest('#drawer') !== null")
                assert focused, "opening the drawer moves the focus into it"
                if theme == "light":
                    alice.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
                else:
                    alice.el("#drawer-close").click()
                wait_for(lambda: not alice.visible("#backdrop"), 2, "drawer closed")
                assert alice.js("return document.activeElement.id") == "menu", "focus returns to the menu button"
    alice.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    step(f"screenshots in {os.path.relpath(SCREENSHOTS, REPO)}")


def sessions(server, alice, bob):
    token = bob.js("return localStorage.getItem('konnect.token')")
    Api(server, token).call("POST", "/logout", expect=(204,))
    bob.driver.refresh()
    wait_for(lambda: bob.visible("#auth-form"), 10, "bob back at the login form after a revoked token (401)")
    assert "session has ended" in bob.el("#auth-error").text
    step("a revoked token (401) returns the page to the login form")

    token = alice.js("return localStorage.getItem('konnect.token')")
    if not alice.visible("#logout"):
        alice.el("#menu").click()
    alice.el("#logout").click()
    wait_for(lambda: alice.visible("#auth-form"), 5, "login form after logging out")
    assert alice.js("return localStorage.getItem('konnect.token')") is None
    wait_for(lambda: Api(server, token).call("GET", "/me", expect=(200, 401))[0] == 401, 5, "token revoked")
    step("log out clears the token and revokes it on the server")
    polish.login_form(alice, step)
    for theme, label, width, height, mobile in (("light", "desktop", 1280, 800, False), ("dark", "phone", 360, 740, True)):
        alice.js("document.documentElement.dataset.theme = arguments[0]", theme)
        alice.viewport(width, height, mobile)
        alice.driver.save_screenshot(os.path.join(SCREENSHOTS, f"login-{theme}-{label}.png"))


def main():
    binary = os.environ.get("KONNECT_BIN") or os.path.join(REPO, ".build", "debug", "konnect")
    workdir = tempfile.mkdtemp(prefix="konnect-web-")
    # Seeding #long posts 2,100 messages: the harness starts the server with --post-rate 0 (no posting limit).
    extra = os.environ.get("KONNECT_SERVE_ARGS", "").split()
    for name in os.listdir(SCREENSHOTS) if os.path.isdir(SCREENSHOTS) else []:
        if name.startswith("failure-"):
            os.remove(os.path.join(SCREENSHOTS, name))  # from an earlier failed run
    server = Server(binary, os.path.join(workdir, "konnect.db"), extra).start()
    pages = []
    try:
        seeder = Api(server).sign_up("historian", PASSWORD)
        seeder.call("POST", "/rooms", {"name": "history"}, expect=(201,))
        for i in range(1, HISTORY + 1):
            seeder.post("history", f"history message {i:03d}")
        seeder.call("POST", "/rooms", {"name": "long"}, expect=(201,))
        for i in range(1, LONG + 1):
            seeder.post("long", f"long room message {i}")
        step(f"server on {server.url}; seeded {HISTORY} messages into #history and {LONG} into #long")
        # Issue 10 first, with its own users and browser: it restarts the server, which alice and bob need not see.
        events.scenario(server, step, lambda page: polish.Shots(page, SCREENSHOTS), PASSWORD)

        alice = Page("alice", server.url + "/")
        pages.append(alice)
        bob = Page("bob", server.url + "/")
        pages.append(bob)
        alice.sign_up("alice", PASSWORD)
        bob.sign_up("bob", PASSWORD)
        step("two browsers registered and signed in through the page")
        backoff.check(alice, step)
        api_bob = Api(server).sign_up("bob_api", PASSWORD)

        exchange(alice, bob)
        unread_title(alice, bob)
        xss(alice, bob)
        day_separators(alice)
        create_room(alice, api_bob)
        rooms.scenario(server, alice, bob, step, polish.Shots(alice, SCREENSHOTS), PASSWORD)
        files.scenario(server, alice, bob, step, polish.Shots(bob, SCREENSHOTS))
        history(alice, seeder)
        shots = polish.Shots(alice, SCREENSHOTS)
        polish_checks(server, alice, bob, api_bob, seeder, shots)
        restart(server, alice, bob, api_bob, shots)
        network_drop(alice, bob)
        lost_answer(alice, bob, api_bob)
        ended_session(server, alice, api_bob)
        screenshots(alice)
        sessions(server, alice, bob)
        for page in pages:
            page.collect_console()
        step("no CSP violation or uncaught error in either console")
        return 0
    except Exception:
        traceback.print_exc()
        os.makedirs(SCREENSHOTS, exist_ok=True)
        for page in pages:
            try:
                page.driver.save_screenshot(os.path.join(SCREENSHOTS, f"failure-{page.name}.png"))
                for entry in [e for e in page.driver.get_log("browser") if "net::" not in e["message"]][-20:]:
                    print(f"{page.name} console: {entry['message']}", file=sys.stderr)
            except Exception:
                pass
        print("server log tail:\n" + "\n".join(server.log[-30:]), file=sys.stderr)
        return 1
    finally:
        for page in pages:
            page.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
