#!/bin/sh
# Hostile clients (issue 13 items 1-3), loopback only: the release `konnect serve` against 200 clients that never
# read 16 pipelined 4.8 MB pages, 3,000 slow unauthenticated bodies and 3,000 slowloris heads; the server's RSS
# before, at its peak during, and after (Tests/Bench/hostile.py). Usage: Tests/Bench/hostile.sh [scenario ...]
# Needs python3. Starts its own server and stops it by PID.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/konnect-hostile.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

cd "$root"
swift build -c release --product konnect >/dev/null
.build/release/konnect serve --host 127.0.0.1 --port 0 --log-level warn --db "$work/hostile.db" 2>"$work/konnect.log" &
pid=$!
for _ in $(seq 1 50); do grep -q listening "$work/konnect.log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/konnect.log" | head -1)
python3 "$root/Tests/Bench/hostile.py" "$port" "$pid" "$@"
