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
. "$root/Tests/Bench/konnect.sh"

cd "$root"
swift build -c release --product konnect >/dev/null
# --post-rate 0: seeding posts 200 long messages from one account, past the posting limit's burst of 50.
start_konnect .build/release/konnect "$work/konnect.log" --log-level warn --post-rate 0 --db "$work/hostile.db"
pid=$konnect_pid
python3 "$root/Tests/Bench/hostile.py" "$konnect_port" "$pid" "$@"
