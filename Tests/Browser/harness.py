"""Harness for the browser test: the real `konnect serve` process, a urllib API client, headless Chromium pages."""
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_for(predicate, timeout, what, interval=0.02):
    """Polls `predicate` until it returns something truthy; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # a page mid-render can throw; retry until the deadline
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(interval)


class Server:
    """The real server binary on 127.0.0.1. Port 0 first; restarts reuse the port so pages reconnect in place."""

    def __init__(self, binary, db, extra_args=()):
        self.binary, self.db, self.extra = binary, db, list(extra_args)
        self.proc, self.port, self.log = None, 0, []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        # A just-closed port can stay busy for a moment; retry binding it for a few seconds.
        if not os.access(self.binary, os.X_OK):
            raise AssertionError(f"KONNECT_BIN {self.binary!r} is not an executable")
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._start_once(deadline)
            except OSError:
                if not self.port or time.monotonic() > deadline:  # only a restart on a fixed port waits
                    raise
                time.sleep(0.25)

    def _start_once(self, deadline):
        # --post-rate 0: the paging scenario posts thousands of messages at once
        args = [self.binary, "serve", "--port", str(self.port), "--db", self.db, "--post-rate", "0",
                "--max-file-bytes", "1000000"] + self.extra  # files.py uploads past it
        self.proc = subprocess.Popen(args, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        lines = queue.Queue()

        def drain(stream):  # keeps reading so the server never blocks on a full stderr pipe
            for line in stream:
                self.log.append(line.rstrip("\n"))
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, args=(self.proc.stderr,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise AssertionError("server did not print its listening line:\n" + "\n".join(self.log[-20:]))
            if line is None:
                self.proc.wait()
                raise OSError(f"server exited with {self.proc.returncode}: " + "\n".join(self.log[-5:]))
            match = LISTENING.search(line)
            if match:
                self.port = int(match.group(1))
                return self

    def stop(self):
        """Stops exactly the process this harness started, by its PID: SIGTERM, then SIGKILL after 10 s."""
        if not self.proc or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Api:
    """The JSON API over urllib, for seeding and for checking what the server stored."""

    def __init__(self, server, token=None):
        self.server, self.token = server, token

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        if status not in expect:
            raise AssertionError(f"{method} {path} answered {status}: {raw[:300]!r}")
        return status, (json.loads(raw) if raw else None)

    def sign_up(self, username, password):
        self.call("POST", "/register", {"username": username, "password": password})
        self.token = self.call("POST", "/login", {"username": username, "password": password})[1]["token"]
        return self

    def post(self, room, text, client_id=None):
        body = {"room": room, "text": text}
        if client_id:
            body["client_id"] = client_id
        return self.call("POST", "/messages", body)[1]["message"]

    def history(self, room):
        """Every message of a room, oldest first, by paging backwards with `before`."""
        messages, before = [], None
        while True:
            query = f"/messages?room={room}&limit=200" + (f"&before={before}" if before else "")
            page = self.call("GET", query)[1]
            messages = page["messages"] + messages
            if not page["has_more"] or not page["messages"]:
                return messages
            before = page["messages"][0]["seq"]


def chromium(width=1280, height=800):
    """A headless Chromium of its own (own profile, own localStorage), logging the page console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    # Loopback only (COMMON.md): no host name but 127.0.0.1 resolves, and Chromium's own background
    # traffic (updates, sync, safe browsing, DNS prefetch of the links in messages) is switched off.
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--dns-prefetch-disable",
                "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                "--lang=en-US", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)
