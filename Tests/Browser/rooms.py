"""Issue 14 in the browser: direct messages, private rooms, members; what a non-member (carol) never sees."""
import time
from urllib.parse import quote

from selenium.webdriver.common.keys import Keys

from harness import Api, wait_for
from page import Page

DM = "@alice,bob"
PRIVATE = "secret-plans"

COUNT_URLS_JS = """
if (!window.__urls) {
  window.__urls = [];
  const real = window.fetch;
  window.fetch = (url, init) => { window.__urls.push(String(url)); return real(url, init); };
}
return window.__urls.length;
"""


def room_path(name):
    return quote(name, safe="")


def token(page):
    return page.js("return localStorage.getItem('konnect.token')")


def show_sidebar(page):
    if not page.visible("#rooms"):
        page.el("#menu").click()
        wait_for(lambda: page.visible("#rooms"), 3, f"{page.name}: drawer")


def close_sidebar(page):
    if page.visible("#drawer-close"):
        page.el("#drawer-close").click()
        wait_for(lambda: not page.visible("#backdrop"), 3, f"{page.name}: drawer closed")


def start_direct(page, username):
    show_sidebar(page)
    if not page.visible("#dm-name"):
        page.el("#dm-add").click()
    wait_for(lambda: page.visible("#dm-name"), 3, f"{page.name}: direct message form")
    box = page.el("#dm-name")
    box.clear()
    box.send_keys(username, Keys.ENTER)


def open_members(page):
    if not page.visible("#members-panel"):
        page.el("#members-button").click()
    wait_for(lambda: page.visible("#members-panel"), 3, f"{page.name}: members panel")
    wait_for(lambda: page.members(), 10, f"{page.name}: members listed")


def members(page):
    return page.js("return Array.from(document.querySelectorAll('#members .member-name'), e => e.textContent)")


Page.members = members


def scenario(server, alice, bob, step, shots, password):
    carol = Page("carol", server.url + "/")
    try:
        carol.sign_up("carol", password)
        _direct(server, alice, bob, carol, step, shots)
        _private(server, alice, bob, carol, step, shots)
        carol.collect_console()
    finally:
        carol.close()


def _direct(server, alice, bob, carol, step, shots):
    before = alice.open_name()
    start_direct(alice, "zed")
    wait_for(lambda: "No user is called “zed”" in alice.el("#dm-error").text, 10, "unknown user error")
    assert alice.js("return document.activeElement.id") == "dm-name", "focus stays in the form after the error"
    assert alice.open_name() == before
    step("a direct message to an unknown user says so under the field (404 user_not_found)")

    start_direct(alice, "Bob")
    wait_for(lambda: alice.open_name() == DM, 10, "alice's direct room with bob opens")
    assert alice.el("#room-name-label").text == "bob", alice.el("#room-name-label").text
    assert not alice.visible("#dm-form"), "the form closes"
    assert (DM, "bob") in alice.listed("dms"), alice.listed("dms")
    assert DM not in [name for name, _ in alice.listed("rooms")]
    alice.type_and_send("psst bob, just us")
    wait_for(lambda: alice.shown("psst bob, just us"), 10, "alice's direct message stored")

    # The feed brings the new direct room to bob (a `joined` event) with an unread badge.
    wait_for(lambda: (DM, "alice") in bob.listed("dms"), 30, "the direct room in bob's sidebar, named 'alice'")
    badge = bob.js("const b = document.querySelector('#dms button[data-room=\"@alice,bob\"] .badge');"
                   " return b && b.textContent")
    assert badge == "1", f"bob's unread badge on the new direct room: {badge!r}"
    bob.open_room(DM)
    wait_for(lambda: bob.shown("psst bob, just us"), 10, "bob reads alice's direct message")
    assert bob.el("#room-name-label").text == "alice"
    wait_for(lambda: bob.el("#history-note").text == "This is the beginning of your conversation with alice.", 5,
             "the direct room's note names the other person")
    bob.type_and_send("just us, alice")
    wait_for(lambda: alice.shown("just us, alice"), 10, "alice gets bob's answer live")
    step("alice starts a direct chat with 'Bob'; it is 'bob' to her and 'alice' to him; they exchange messages")
    shots(lambda theme, label: (alice.js("document.getElementById('scroller').scrollTop = 1e9"),
                                alice.driver.save_screenshot(shots.path(f"direct-{theme}-{label}.png"))))

    start_direct(alice, "alice")
    wait_for(lambda: alice.open_name() == "@alice,alice", 10, "alice's self-chat opens")
    assert alice.el("#room-name-label").text == "you"
    assert ("@alice,alice", "you") in alice.listed("dms"), alice.listed("dms")
    step("a direct chat with yourself is listed as 'you'")

    carol_api = Api(server, token(carol))
    status, body = carol_api.call("GET", f"/messages?room={room_path(DM)}", expect=(404,))
    assert body["code"] == "room_not_found", body
    carol.driver.refresh()
    wait_for(lambda: carol.visible('#rooms button[data-room="general"]'), 10, "carol's room list")
    time.sleep(0.5)
    assert all(name.startswith("@carol") or not name.startswith("@") for name, _ in carol.listed("dms")), carol.listed("dms")
    assert "psst" not in carol.el("body").get_attribute("textContent")

    # A stale or guessed room in carol's storage: one 404, then #general, no retry loop.
    carol.js("localStorage.setItem('konnect.room', arguments[0]); return 0", DM)
    carol.driver.refresh()
    wait_for(lambda: carol.visible("#composer"), 10, "carol's chat")
    wait_for(lambda: carol.open_name() == "general", 10, "carol moved to #general")
    count = carol.js(COUNT_URLS_JS)
    time.sleep(3)
    urls = carol.js("return window.__urls.slice(arguments[0])", count)
    leaks = [u for u in urls if "alice" in u]
    assert not leaks, f"carol's page keeps asking for alice's room: {leaks}"
    assert "psst" not in carol.el("body").get_attribute("textContent")
    step("carol sees neither the direct room nor its messages; a stale link to it lands in #general without a retry loop")


def _private(server, alice, bob, carol, step, shots):
    alice.open_room("general")
    show_sidebar(alice)
    alice.el("#room-add").click()
    wait_for(lambda: alice.visible("#room-name"), 3, "new-room form")
    alice.el("#room-name").send_keys(PRIVATE)
    alice.el("#room-private").click()
    alice.el("#room-name").send_keys(Keys.ENTER)
    wait_for(lambda: alice.open_name() == PRIVATE, 10, "the private room opens")
    assert alice.el("#room-title").get_attribute("data-kind") == "private"
    assert alice.js("return !!document.querySelector('#rooms button[data-room=\"secret-plans\"] .lock')"), "lock mark"
    room = Api(server, token(alice)).call("GET", f"/rooms/{PRIVATE}")[1]["room"]
    assert room["visibility"] == "private" and room["owner"] == "alice", room
    alice.type_and_send("plans for bob only")
    wait_for(lambda: alice.shown("plans for bob only"), 10, "message in the private room")
    step("'Private' in the create-room form makes a private room, marked with a lock")

    open_members(alice)
    assert alice.members() == ["alice"], alice.members()
    assert "owner" in alice.el("#members").text and "you" in alice.el("#members").text
    assert alice.el("#members-button").get_attribute("aria-expanded") == "true"
    box = alice.el("#member-name")
    box.send_keys("zed", Keys.ENTER)
    wait_for(lambda: "No user is called “zed”" in alice.el("#member-error").text, 10, "unknown member error")
    box.clear()
    box.send_keys("bob", Keys.ENTER)
    wait_for(lambda: alice.members() == ["alice", "bob"], 10, "bob in the member list")
    assert alice.el("#member-error").text == ""
    step("members panel: alice (you · owner); adding 'zed' says there is no such user; bob added")

    wait_for(lambda: PRIVATE in [name for name, _ in bob.listed("rooms")], 30, "the private room in bob's sidebar")
    bob.open_room(PRIVATE)
    wait_for(lambda: bob.shown("plans for bob only"), 10, "bob reads the private room")
    open_members(bob)
    assert bob.members() == ["alice", "bob"]
    assert not bob.visible("#members .remove-member"), "only the owner may remove others"
    bob.el("#members-close").click()
    wait_for(lambda: not bob.visible("#members-panel"), 3, "bob's panel closed")
    assert bob.js("return document.activeElement.id") == "members-button", "focus back on the members button"
    carol.driver.refresh()
    wait_for(lambda: carol.visible('#rooms button[data-room="general"]'), 10, "carol's room list")
    time.sleep(0.5)
    assert PRIVATE not in [name for name, _ in carol.listed("rooms")], carol.listed("rooms")
    Api(server, token(carol)).call("GET", f"/messages?room={PRIVATE}", expect=(404,))
    step("bob, once added, finds the room in his sidebar and reads it, without Remove buttons; carol sees nothing")

    alice.js("document.getElementById('scroller').scrollTop = 1e9")
    shots(lambda theme, label: alice.driver.save_screenshot(shots.path(f"members-{theme}-{label}.png")))
    wait_for(lambda: alice.visible("#members-panel"), 3, "panel still open after the screenshots")
    alice.el("#members-close").click()
    shots(lambda theme, label: alice.driver.save_screenshot(shots.path(f"sidebar-{theme}-{label}.png")), drawer=True)
    step("screenshots: members-*.png and sidebar-*.png, light and dark, phone and desktop")

    bob.js(COUNT_URLS_JS)
    open_members(alice)
    alice.el('#members button[data-member="bob"]').click()
    wait_for(lambda: alice.members() == ["alice"], 10, "bob removed from the list")
    alice.type_and_send("after bob was removed")
    wait_for(lambda: alice.shown("after bob was removed"), 10, "alice's message after the removal")
    # The feed's `left` event reaches bob: his page drops the room and moves to #general, and shows nothing after.
    wait_for(lambda: bob.open_name() == "general", 40, "bob's page leaves the room he was removed from")
    wait_for(lambda: PRIVATE not in [name for name, _ in bob.listed("rooms")], 5, "the room gone from bob's list")
    assert "not a member of #secret-plans" in bob.el("#composer-error").get_attribute("textContent")
    count = bob.js("return window.__urls.length")
    time.sleep(3)
    again = [u for u in bob.js("return window.__urls.slice(arguments[0])", count) if PRIVATE in u]
    assert not again, f"bob's page keeps asking for the room he left: {again}"
    assert not bob.shown("after bob was removed")
    step("alice removes bob: his page drops the room, says why, moves to #general and stops asking for it")

    alice.open_room("general")
    open_members(alice)
    alice.el("#leave").click()
    wait_for(lambda: "everyone stays in 'general'" in alice.el("#member-error").text, 10, "the server's refusal")
    alice.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(lambda: not alice.visible("#members-panel"), 3, "Escape closes the panel")
    assert alice.js("return document.activeElement.id") == "members-button"
    step("leaving #general shows the server's refusal; Escape closes the panel and gives the focus back")
