#!/usr/bin/env python3
"""Echo bot with Python's standard library only: answers every person's message in its rooms with "echo: <text>".

URL (e.g. http://127.0.0.1:8080) and TOKEN (a bot's, from `konnect bots create NAME`) come from the environment."""
import json
import os
import time
import urllib.error
import urllib.request

URL, TOKEN = os.environ["URL"].rstrip("/"), os.environ["TOKEN"]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(URL + path, data=data, method=method, headers={
        "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=70) as response:
        return json.load(response)


after = call("GET", "/events")["next"]                  # from now; 0 would replay everything
while True:
    try:
        page = call("GET", f"/events?after={after}&wait=30")
    except (urllib.error.URLError, OSError):            # server restarting: try again with the same cursor
        time.sleep(1)
        continue
    for event in page["events"]:
        if event["type"] == "message" and not event["message"]["bot"]:
            call("POST", "/messages", {"room": event["room"], "text": "echo: " + event["message"]["text"]})
    after = page["next"]                                 # always pass next back: nothing lost, nothing twice
