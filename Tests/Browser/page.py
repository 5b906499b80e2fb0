"""One user's browser tab on the Konnect web client, with the reads and actions the scenario needs."""
import time

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from harness import chromium, wait_for

MESSAGES_JS = """
return Array.from(document.querySelectorAll('#messages li.msg')).map(li =>
  [Number(li.dataset.seq), li.querySelector('.text').textContent]);
"""


class Page:
    def __init__(self, name, url):
        self.name, self.url = name, url
        self.driver = chromium()
        self.driver.get(url)
        self.console = []

    def el(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        return self.driver.execute_async_script(script, *args)

    def visible(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return !!e && !e.closest('[hidden]')"
                       " && e.getClientRects().length > 0;", css)

    def sign_up(self, username, password):
        wait_for(lambda: self.visible("#auth-form"), 10, f"{self.name}: login form")
        self.el("#tab-register").click()
        self.el("#username").send_keys(username)
        self.el("#password").send_keys(password)
        self.el("#auth-submit").click()
        wait_for(lambda: self.visible("#composer"), 10, f"{self.name}: chat after registering")
        wait_for(lambda: self.visible('#rooms button[data-room="general"]'), 10, f"{self.name}: room list")

    def type_and_send(self, text):
        box = self.el("#text")
        box.click()
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line:
                box.send_keys(line)
            if i < len(lines) - 1:
                box.send_keys(Keys.SHIFT, Keys.ENTER)
        box.send_keys(Keys.ENTER)

    def messages(self):
        """[(seq, text)] of the stored messages shown in the open room, top to bottom."""
        return [tuple(m) for m in self.js(MESSAGES_JS)]

    def shown(self, text):
        return [seq for seq, t in self.messages() if t == text]

    def pending(self):
        return self.js("return Array.from(document.querySelectorAll('#pending li.msg .text'))"
                       ".map(e => e.textContent);")

    def open_room(self, room, timeout=10):
        """Opens a room or a direct room (`@alice,bob`) from the sidebar (the drawer on a phone)."""
        button = f'#drawer button[data-room="{room}"]'
        # After a reload the list arrives with GET /rooms: wait for it before deciding the drawer is closed.
        wait_for(lambda: self.js("return !!document.querySelector('#drawer button[data-room=\"general\"]')"),
                 timeout, f"{self.name}: room list")
        if not self.visible(button) and self.visible("#menu"):
            self.el("#menu").click()
        wait_for(lambda: self.visible(button), timeout, f"{self.name}: room {room} listed")
        wait_for(lambda: self.el(button).click() or True, 5, f"{self.name}: click on {room}")  # retried if redrawn
        wait_for(lambda: self.open_name() == room, 5, f"{self.name}: room {room} open")
        wait_for(lambda: self.js("return !document.querySelector('#history-note').textContent.startsWith('Loading m')"),
                 10, f"{self.name}: {room} loaded")

    def open_name(self):
        """The open room's name as the server has it (the header shows "bob" for `@alice,bob`)."""
        return self.el("#room-title").get_attribute("data-room")

    def listed(self, section):
        """[(room name, label)] of a sidebar section: "rooms" or "dms"."""
        return [tuple(r) for r in self.js(
            "return Array.from(document.querySelectorAll('#' + arguments[0] + ' button[data-room]'),"
            " b => [b.dataset.room, b.querySelector('.room-label').textContent]);", section)]

    def offline_banner(self):
        return self.visible("#net-status")

    def assert_no_alert(self):
        try:
            alert = self.driver.switch_to.alert
            text = alert.text
            alert.dismiss()
            raise AssertionError(f"{self.name}: an alert opened: {text!r}")
        except NoAlertPresentException:
            pass

    def collect_console(self):
        """Console entries so far; CSP violations and uncaught errors are failures, network errors are expected."""
        entries = self.driver.get_log("browser")
        self.console += entries
        bad = [e["message"] for e in entries
               if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        assert not bad, f"{self.name}: console errors: {bad}"

    def viewport(self, width, height, mobile):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        time.sleep(0.3)

    def close(self):
        try:
            self.driver.quit()
        except Exception:
            pass
