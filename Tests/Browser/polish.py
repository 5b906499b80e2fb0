"""Checks of the web client's polish (issue 9): RTL, drafts per room, phone Enter, paging cost, composer growth,
long room names, emoji-only and trimmed messages, focus contrast, theme, skip link, headings, the login form."""
import time

from selenium.webdriver.common.keys import Keys

from harness import wait_for

LONG_ROOM = "quarterly-planning-for-the-design-and-engineering-teams-2027-q1"  # 64 characters, the maximum
RTL_TEXTS = ["שלום לכולם, מה שלומכם היום?", "مرحبا بالجميع، كيف حالكم؟"]

CONTRAST_JS = """
function rgb(c) { const m = c.match(/[\\d.]+/g).map(Number); return m.slice(0, 3); }
function lum(c) {
  const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
window.__contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
"""


def contrast(page, a, b):
    page.js(CONTRAST_JS)
    return page.js("return window.__contrast(arguments[0], arguments[1])", a, b)


def rtl(alice, bob, step):
    alice.open_room("general")
    bob.open_room("general")
    alice.type_and_send("over to you")  # so bob's first RTL message starts a group (its time is in the bubble)
    wait_for(lambda: bob.shown("over to you"), 5, "bob sees alice's message")
    for text in RTL_TEXTS:
        bob.type_and_send(text)
    for text in RTL_TEXTS:
        wait_for(lambda t=text: alice.shown(t), 5, f"alice sees {text!r}")
    dirs = alice.js("""return Array.from(document.querySelectorAll('#messages li.msg')).slice(-2).map(li => {
        const text = li.querySelector('.text'), bubble = li.querySelector('.bubble');
        const stamp = li.querySelector('.stamp'), s = stamp.getBoundingClientRect(), t = bubble.getBoundingClientRect();
        return [bubble.dir, getComputedStyle(text).direction, getComputedStyle(bubble).direction,
                // In the bubble, the time sits at its left: where an RTL line ends (a group's later ones hide it).
                stamp.classList.contains('quiet') ? null : s.left - t.left < t.right - s.right];
    })""")
    want = [["auto", "rtl", "rtl", True], ["auto", "rtl", "rtl", None]]
    assert dirs == want, f"RTL messages [dir, text, bubble, time at the end]: {dirs}"
    ltr = alice.js("const t = document.querySelector('#messages li.msg .bubble');"
                   "return [t.dir, getComputedStyle(t).direction]")
    assert ltr == ["auto", "ltr"], ltr
    assert alice.js("return document.getElementById('text').dir") == "auto"
    assert alice.js("return Array.from(document.querySelectorAll('#messages .author')).every(a => a.dir === 'auto')")
    step("RTL: message text, bubbles, names and the composer take dir=auto; Hebrew and Arabic read right to left")


def drafts(alice, step):
    alice.open_room("general")
    box = alice.el("#text")
    box.send_keys("half-typed for general")
    alice.open_room("design-team")
    assert alice.el("#text").get_attribute("value") == "", "text carried into another room"
    alice.el("#text").send_keys("design draft")
    alice.open_room("general")
    assert alice.el("#text").get_attribute("value") == "half-typed for general"
    alice.driver.refresh()
    wait_for(lambda: alice.visible("#composer"), 10, "chat after reload")
    wait_for(lambda: alice.el("#text").get_attribute("value") == "half-typed for general", 5, "draft after reload")
    alice.open_room("design-team")
    assert alice.el("#text").get_attribute("value") == "design draft", alice.el("#text").get_attribute("value")
    alice.type_and_send("")  # sends the draft: the room's draft is gone
    wait_for(lambda: alice.shown("design draft"), 5, "the draft sent")
    assert alice.js("return JSON.parse(localStorage.getItem('konnect.drafts.alice') || '{}')") == \
        {"general": "half-typed for general"}
    alice.open_room("general")
    alice.js("const b = document.getElementById('text'); b.value = ''; b.dispatchEvent(new Event('input'))")
    assert alice.js("return localStorage.getItem('konnect.drafts.alice')") is None
    step("drafts are kept per room, survive a reload, never move to another room, and go when sent")


def trim_and_emoji(alice, api, step):
    alice.open_room("general")
    alice.type_and_send("trim my tail   \n\n")
    wait_for(lambda: alice.shown("trim my tail"), 5, "the trimmed message")
    stored = [m["text"] for m in api.history("general")]
    assert "trim my tail" in stored and not any(t.startswith("trim my tail ") for t in stored), stored[-3:]
    cases = alice.js("return [['🎉🎉', '👍🏽', '🇫🇷', '❤️', '👨‍👩‍👧 🎉', 'hi 🎉', '1', '#', '🎉🎉🎉🎉🎉🎉🎉🎉🎉', '']"
                     ".map(t => Konnect.render.isEmojiOnly(t))]")[0]
    assert cases == [True, True, True, True, True, False, False, False, False, False], cases
    alice.type_and_send("🎉🙌")
    wait_for(lambda: alice.shown("🎉🙌"), 5, "emoji-only message")
    sizes = alice.js("""const lis = Array.from(document.querySelectorAll('#messages li.msg'));
        const big = lis.find(li => li.querySelector('.text').textContent === '🎉🙌');
        const plain = lis.find(li => li.querySelector('.text').textContent === 'trim my tail');
        return [big.querySelector('.bubble').classList.contains('emoji-only'),
                parseFloat(getComputedStyle(big.querySelector('.text')).fontSize),
                parseFloat(getComputedStyle(plain.querySelector('.text')).fontSize)]""")
    assert sizes[0] and sizes[1] >= 2 * sizes[2], sizes
    step(f"trailing white space trimmed before sending; emoji-only messages at {sizes[1]:.0f}px (text {sizes[2]:.0f}px)")


def own_groups(alice, step):
    info = alice.js("""const own = Array.from(document.querySelectorAll('#messages li.msg.own'));
        return [own.some(li => li.textContent.includes('(you)')),
                own.filter(li => li.classList.contains('grouped')).every(li =>
                    getComputedStyle(li.querySelector('.stamp')).visibility === 'hidden'),
                own.filter(li => !li.classList.contains('grouped')).every(li =>
                    getComputedStyle(li.querySelector('.stamp')).visibility === 'visible'),
                Array.from(document.querySelectorAll('#messages li.other:not(.grouped)')).every(li => {
                    const a = li.querySelector('.avatar').getBoundingClientRect();
                    const n = li.querySelector('.author').getBoundingClientRect();
                    return Math.abs((a.top + a.bottom) / 2 - (n.top + n.bottom) / 2) <= 3; })]""")
    assert info == [False, True, True, True], f"[has (you), grouped hide time, first shows time, avatar by name] {info}"
    step("own messages: no '(you)', one time per group (others on hover/focus), avatars level with names")


def phone_enter(alice, step):
    alice.viewport(360, 740, True)
    alice.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        wait_for(lambda: alice.js("return document.getElementById('text').enterKeyHint") == "enter", 3,
                 "enterkeyhint 'enter' on a touch screen")
        box = alice.el("#text")
        box.click()
        box.send_keys("line one", Keys.ENTER, "line two")
        time.sleep(0.3)
        assert box.get_attribute("value") == "line one\nline two", repr(box.get_attribute("value"))
        assert not alice.shown("line one"), "Enter sent on a phone"
        alice.el("#send").click()
        wait_for(lambda: alice.shown("line one\nline two"), 5, "sent by the send button")
        assert box.get_attribute("value") == ""
    finally:
        alice.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        alice.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    wait_for(lambda: alice.js("return document.getElementById('text').enterKeyHint") == "send", 3, "back to Enter sends")
    step("on a phone Enter inserts a new line and the send button sends")


def composer_growth(alice, step):
    alice.open_room("general")
    alice.js("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight")
    time.sleep(0.2)
    box = alice.el("#text")
    box.click()
    for i in range(7):
        box.send_keys(f"growing line {i}", Keys.SHIFT, Keys.ENTER)
    time.sleep(0.4)
    gap = alice.js("""const s = document.getElementById('scroller');
        const last = Array.from(document.querySelectorAll('#messages li.msg')).pop().getBoundingClientRect();
        return [s.getBoundingClientRect().bottom - last.bottom, document.getElementById('text').offsetHeight,
                !document.getElementById('jump').hidden]""")
    assert gap[1] > 100, f"the composer did not grow: {gap}"
    assert gap[0] >= -2 or gap[2], f"the newest message is hidden under the grown composer: {gap}"
    alice.js("const b = document.getElementById('text'); b.value = ''; b.dispatchEvent(new Event('input'))")
    step(f"a composer grown to {gap[1]}px keeps the newest message in view")


def long_room_name(alice, api, step, shots):
    api.call("POST", "/rooms", {"name": LONG_ROOM}, expect=(201,))
    alice.driver.refresh()
    wait_for(lambda: alice.visible(f'#rooms button[data-room="{LONG_ROOM}"]'), 10, "the long room listed")
    widths = alice.js("""const label = document.querySelector('#rooms button[data-room="' + arguments[0] + '"] .room-label');
        const nav = document.querySelector('.rooms-nav'), side = document.getElementById('drawer');
        return [label.scrollWidth > label.clientWidth, getComputedStyle(label).textOverflow,
                nav.scrollWidth <= nav.clientWidth, side.scrollWidth <= side.clientWidth]""", LONG_ROOM)
    assert widths == [True, "ellipsis", True, True], f"[cut, ellipsis, nav fits, sidebar fits] {widths}"
    shots(lambda theme, label: alice.driver.save_screenshot(shots.path(f"long-room-{theme}-{label}.png")), drawer=True)
    step("a 64-character room name ends in '…' in the sidebar and the drawer; nothing scrolls sideways")


def focus_contrast(alice, step, shots):
    alice.open_room("general")
    alice.type_and_send("my notes: https://example.com/notes")
    wait_for(lambda: alice.shown("my notes: https://example.com/notes"), 5, "own link message")

    def focus_link():
        # Keyboard focus (Shift+Tab from the composer reaches the last link), so :focus-visible applies.
        alice.el("#text").click()
        alice.js("document.getElementById('scroller').scrollTop = 1e9")
        target = alice.js("return Array.from(document.querySelectorAll('#messages li.own a')).pop()")
        for _ in range(30):
            if alice.js("return document.activeElement === arguments[0]", target):
                break
            alice.driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        info = alice.js("""const a = document.activeElement;
            return [a.matches('#messages li.own a'), a.matches(':focus-visible'), getComputedStyle(a).outlineStyle,
                    getComputedStyle(a).outlineColor, getComputedStyle(a.closest('.bubble')).backgroundColor]""")
        assert info[0] and info[1] and info[2] == "solid", f"keyboard focus on the own link: {info}"
        ratio = contrast(alice, info[3], info[4])
        assert ratio >= 3, f"focus ring {info[3]} on own bubble {info[4]}: {ratio:.2f}:1"
        return ratio

    ratios = {}
    for theme in ("light", "dark"):
        alice.js("KonnectTheme.apply(arguments[0])", theme)
        ratios[theme] = focus_link()
        colors = alice.js("""const t = getComputedStyle(document.getElementById('text'));
            const bar = getComputedStyle(document.getElementById('composer')).backgroundColor;
            return [t.borderTopColor, bar, getComputedStyle(document.getElementById('send')).backgroundColor]""")
        for what, a in (("composer border", colors[0]), ("send button", colors[2])):
            r = contrast(alice, a, colors[1])
            assert r >= 3, f"{theme}: {what} {a} against the bar {colors[1]}: {r:.2f}:1"
    shots(lambda theme, label: (focus_link(),
                                alice.driver.save_screenshot(shots.path(f"focus-own-link-{theme}-{label}.png"))))
    step(f"focus ring on a link in your own bubble {ratios['light']:.1f}:1 (light) / {ratios['dark']:.1f}:1 (dark); "
         "composer border and send button ≥ 3:1 against the bar in both themes")


def theme_choice(alice, step):
    alice.js("localStorage.removeItem('konnect.theme'); KonnectTheme.apply('system')")
    alice.driver.refresh()
    wait_for(lambda: alice.visible("#composer"), 10, "chat after reload")
    metas = "return Array.from(document.querySelectorAll('meta[name=theme-color]'), m => m.content)"
    assert alice.js("return document.documentElement.dataset.themeChoice") == "system"
    assert alice.js(metas) == ["#ffffff", "#161a22"], alice.js(metas)
    seen = []
    for _ in range(3):
        alice.el("#theme").click()
        seen.append([alice.js("return document.documentElement.dataset.themeChoice"),
                     alice.js("return localStorage.getItem('konnect.theme')"), alice.js(metas),
                     alice.el("#theme").get_attribute("aria-label")])
    assert [s[0] for s in seen] == ["light", "dark", "system"], seen
    assert [s[1] for s in seen] == ["light", "dark", None], seen
    assert [s[2] for s in seen] == [["#ffffff", "#ffffff"], ["#161a22", "#161a22"], ["#ffffff", "#161a22"]], seen
    assert seen[0][3] == "Theme: light. Switch to dark", seen[0][3]
    step("theme: system (default) → light → dark, remembered; theme-color follows the choice")


def skip_link_and_headings(alice, step):
    alice.driver.refresh()
    wait_for(lambda: alice.visible("#composer"), 10, "chat after reload")
    first = alice.js("""return Array.from(document.querySelectorAll('a[href], button, input, textarea, [tabindex]'))
        .find(e => e.tabIndex >= 0 && !e.disabled && !e.closest('[hidden]') && !e.closest('[inert]')).id""")
    assert first == "skip-link", f"first Tab stop is {first!r}"
    alice.js("document.getElementById('skip-link').focus()")
    assert alice.js("return document.getElementById('skip-link').getBoundingClientRect().top >= 0"), "skip link off screen"
    alice.driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: alice.js("return document.activeElement.id") == "text", 2, "the skip link reaches the composer")
    headings = alice.js("return Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))"
                        ".filter(h => h.getClientRects().length).map(h => h.tagName)")
    assert headings and headings[0] == "H1", f"headings in the chat: {headings}"
    step(f"a skip link is the first Tab stop and focuses the composer; headings in order {headings}")


def offline_layout(page, step, shots):
    """While offline: the banner is under the header, never over it, and one line at 360 px."""
    def check(theme, label):
        wait_for(lambda: page.offline_banner(), 5, "banner")
        geometry = page.js("""const b = document.getElementById('net-status').getBoundingClientRect();
            const h = document.querySelector('.topbar').getBoundingClientRect();
            const line = parseFloat(getComputedStyle(document.querySelector('#net-status .net-text')).lineHeight) || 20;
            return [b.top - h.bottom, b.height, line, document.documentElement.scrollWidth <= innerWidth]""")
        assert geometry[0] >= -0.5, f"the banner overlaps the header ({label}): {geometry}"
        assert geometry[1] < 2 * geometry[2] + 16, f"the banner wraps ({label}): {geometry}"
        assert geometry[3], f"sideways scroll with the banner ({label})"
        page.driver.save_screenshot(shots.path(f"offline-{theme}-{label}.png"))
    shots(check)
    step("the offline banner sits under the header, one line at 360 px (screenshots light/dark, phone/desktop)")


def rtl_screenshots(page, step, shots):
    page.open_room("general")
    shots(lambda theme, label: (page.js("const s = document.getElementById('scroller'); s.scrollTop = 1e9"),
                                page.driver.save_screenshot(shots.path(f"rtl-{theme}-{label}.png"))))
    step("screenshots of the RTL conversation")


class Shots:
    """Runs `fn(theme, label)` in light and dark, on a 360×740 phone and a 1280×800 desktop; `drawer` opens the
    room drawer on the phone first. Restores the page's own theme and viewport afterwards."""

    def __init__(self, page, directory):
        self.page, self.directory = page, directory

    def path(self, name):
        import os
        os.makedirs(self.directory, exist_ok=True)
        return os.path.join(self.directory, name)

    def __call__(self, fn, drawer=False):
        page = self.page
        try:
            for theme in ("light", "dark"):
                for label, width, height, mobile in (("phone", 360, 740, True), ("desktop", 1280, 800, False)):
                    page.js("KonnectTheme.apply(arguments[0])", theme)
                    page.viewport(width, height, mobile)
                    opened = drawer and mobile
                    if opened:
                        page.el("#menu").click()
                        wait_for(lambda: page.visible("#rooms"), 2, "room drawer")
                        time.sleep(0.3)
                    fn(theme, label)
                    if opened:
                        page.el("#drawer-close").click()
                        wait_for(lambda: not page.visible("#backdrop"), 2, "drawer closed")
        finally:
            page.js("KonnectTheme.apply(localStorage.getItem('konnect.theme'))")
            page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            time.sleep(0.2)


TIME_PREPEND_JS = """
if (!window.__prependMs) {
  window.__prependMs = [];
  const proto = Konnect.MessageView.prototype, original = proto.prepend;
  proto.prepend = function (...args) {
    const t = performance.now();
    try { return original.apply(this, args); } finally { window.__prependMs.push(performance.now() - t); }
  };
}
"""


def paging_cost(page, poster, room, total, step, measured_pages=4):
    """Scrolls back until 2,000 messages are loaded, then times the script of each further older page (the view's
    prepend, with the layout it forces). Printed, not asserted: CI machines vary. Also checks nothing is redrawn."""
    page.js(TIME_PREPEND_JS)
    page.open_room(room)
    count = "return document.querySelectorAll('#messages li.msg').length"
    top = "document.getElementById('scroller').scrollTop = 0"
    timings = []
    while True:
        before = page.js(count)
        if before >= total:
            break
        if before >= 2000 and len(timings) >= measured_pages:
            break
        marker = page.js("const li = document.querySelector('#messages li.msg:nth-child(5)'); li.__kept = 1; return li.dataset.seq")
        page.js("window.__prependMs = []; " + top)
        wait_for(lambda: page.js(count) > before, 15, f"an older page of #{room} ({before} loaded)")
        kept = page.js("const li = document.querySelector('#messages li.msg[data-seq=\"' + arguments[0] + '\"]');"
                       "return Boolean(li && li.__kept)", marker)
        assert kept, "loading an older page redrew the messages already shown"
        if before >= 2000:
            timings += page.js("return window.__prependMs")
    assert timings, "no page timed"
    worst = max(timings)
    print(f"# paging: each older page once 2,000+ messages were shown (up to {page.js(count)}): "
          f"{', '.join(f'{t:.1f}' for t in timings)} ms script (aim < 50 ms)", flush=True)
    step(f"paging back appends (shown nodes kept); with 2,000 loaded each older page takes {worst:.1f} ms of script at most")

    # The page keeps at most limits.max messages while the reader follows the newest (3,000; 2,100 here).
    page.js("Konnect.MessageView.limits.max = 2100; Konnect.MessageView.limits.keep = 2000;"
            "const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight")
    try:
        time.sleep(0.3)
        newest = poster.post(room, "news at the bottom of a long room")["seq"]
        wait_for(lambda: page.shown("news at the bottom of a long room"), 10, "the new message in the long room")
        seqs = [seq for seq, _ in page.messages()]
        assert len(seqs) == 2000 and seqs == list(range(newest - 1999, newest + 1)), \
            f"after the trim: {len(seqs)} messages, {seqs[:2]} … {seqs[-2:]}"
        assert page.js("return document.querySelectorAll('#messages li.day').length") == 1
        page.js(top)
        wait_for(lambda: page.messages()[0][0] < newest - 1999, 15, "the dropped messages paged back in")
        seqs = [seq for seq, _ in page.messages()]
        assert seqs == list(range(seqs[0], newest + 1)), "a gap after paging back past the trim"
    finally:
        page.js("Konnect.MessageView.limits.max = 3000; Konnect.MessageView.limits.keep = 2500")
    step("past the limit the oldest messages leave the page while the reader is at the bottom; paging brings them back")
    return timings


def login_form(page, step):
    """After a failed login the focus stays in the form, the error is tied to its field, and nothing jumps."""
    wait_for(lambda: page.visible("#auth-form"), 10, "login form")
    page.el("#username").clear()
    page.el("#username").send_keys("alice")
    page.el("#password").send_keys("wrong password!")
    button = "return document.getElementById('auth-submit').getBoundingClientRect().top"
    before = page.js(button)
    page.el("#password").send_keys(Keys.ENTER)
    wait_for(lambda: "Wrong username or password" in page.el("#auth-error").text, 10, "the login error")
    state = page.js("""const p = document.getElementById('password');
        return [document.activeElement.id, p.getAttribute('aria-invalid'), p.getAttribute('aria-describedby'),
                document.getElementById('username').getAttribute('aria-invalid')]""")
    assert state == ["password", "true", "auth-error", None], f"[focus, aria-invalid, describedby, username] {state}"
    assert abs(page.js(button) - before) < 0.5, f"the form jumped: {before} → {page.js(button)}"
    page.el("#tab-register").click()
    order = page.js("""const r = (id) => document.getElementById(id).getBoundingClientRect();
        return [r('username').bottom <= r('username-hint').top, r('username-hint').bottom <= r('password').top,
                document.getElementById('username').getAttribute('aria-describedby'),
                document.getElementById('username').getAttribute('aria-invalid')]""")
    assert order == [True, True, "username-hint", None], f"[hint under username, above password, describedby] {order}"
    page.el("#tab-login").click()
    step("login form: focus stays on the field in error (aria-invalid, aria-describedby), no jump; hint under the username")
