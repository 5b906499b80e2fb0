#!/bin/sh
# Echo bot in curl + jq: answers every person's message in its rooms with "echo: <text>". URL, TOKEN (a bot's) from env.
set -eu
AUTH="Authorization: Bearer $TOKEN"
after=$(curl -sf -H "$AUTH" "$URL/events" | jq .next)                   # from now; after=0 would replay everything
while page=$(curl -sf -H "$AUTH" "$URL/events?after=$after&wait=30"); do
  echo "$page" | jq -c '.events[] | select(.type == "message" and (.message.bot | not))
                        | {room, text: ("echo: " + .message.text)}' |
  while read -r reply; do curl -sf -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' -d "$reply" "$URL/messages"; done
  after=$(echo "$page" | jq .next)                                        # always pass next back: nothing lost, nothing twice
done
