#!/usr/bin/python3
"""Measures (never asserts) what a signed-in tab costs and how soon it learns of news, for one or more web roots in
the same run: requests sent while idle with 5 rooms, and the delay until a message in a room that is not open shows
as a badge. Compare the client before issue 10 with this one:

  git archive 906914c web | tar -x -C /tmp/old
  KONNECT_BIN=.build/debug/konnect /usr/bin/python3 Tests/Browser/measure_feed.py /tmp/old/web web
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import REPO, Api, Server, wait_for  # noqa: E402
from page import Page  # noqa: E402
import events  # noqa: E402

IDLE_S = 60
BADGES = 5


def measure(binary, web_root):
    workdir = tempfile.mkdtemp(prefix="konnect-measure-")
    server = Server(binary, os.path.join(workdir, "konnect.db"), ["--web-root", os.path.abspath(web_root)]).start()
    page = None
    try:
        poster = Api(server).sign_up("poster", "correct horse battery")
        page = Page("reader", server.url + "/")
        page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": events.RECORD_JS})
        page.driver.refresh()
        page.sign_up("reader", "correct horse battery")
        me = Api(server, events.token(page))
        for i in range(4):
            me.call("POST", "/rooms", {"name": f"room-{i}"}, expect=(201,))  # public, joined: the reader's rooms
        page.driver.refresh()
        wait_for(lambda: len(page.listed("rooms")) == 5, 15, "5 rooms listed")
        time.sleep(2)
        t0 = page.js("return performance.now()")
        time.sleep(IDLE_S)
        idle = events.requests(page, t0)
        delays = []
        for i in range(BADGES):
            before = events.badge(page, "room-1")
            start = time.monotonic()
            poster.post("room-1", f"news {i}")
            wait_for(lambda: events.badge(page, "room-1") != before, 30, "the badge", interval=0.005)
            delays.append(time.monotonic() - start)
            time.sleep(1)
        return idle, delays
    finally:
        if page:
            page.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    binary = os.environ.get("KONNECT_BIN") or os.path.join(REPO, ".build", "debug", "konnect")
    for root in sys.argv[1:] or ["web"]:
        idle, delays = measure(binary, root)
        kinds = {}
        for url, _, _ in idle:
            kind = url.split("?")[0] + ("?wait" if "wait=" in url else "")
            kinds[kind] = kinds.get(kind, 0) + 1
        delays.sort()
        print(f"# {root}: idle {IDLE_S} s with 5 rooms: {len(idle)} requests {kinds}; "
              f"badge after a post in a closed room: median {delays[len(delays) // 2] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms (n={len(delays)})", flush=True)


if __name__ == "__main__":
    main()
