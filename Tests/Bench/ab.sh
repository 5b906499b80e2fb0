#!/bin/sh
# Builds of `konnect serve` side by side (not a test): `konnect bench post` and `konnect bench history` against
# each, taking turns A, B, A, B… on fresh SQLite servers, so the machine's noise falls on all alike. The load comes
# from one bench client (the last binary's `konnect bench`) for all. Loopback only; stops only the servers it
# starts, by PID. ROUNDS (3), DURATION (10 s) and CLIENTS (64) set the runs.
#
#   git worktree add --detach /tmp/before REV && (cd /tmp/before && swift build -c release --product konnect)
#   Tests/Bench/ab.sh /tmp/before/.build/release/konnect .build/release/konnect
#
# A server gets `--post-rate 0` when it knows the flag (the rate limit would otherwise be what is measured).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BINARY BINARY [BINARY…]" >&2; exit 2; }
for client; do :; done        # the last binary drives the load
rounds=${ROUNDS:-3}
duration=${DURATION:-10}; clients=${CLIENTS:-64}
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/Bench/konnect.sh"
work=$(mktemp -d /tmp/konnect-ab.XXXXXX)
konnect_pid=""
cleanup() { [ -n "$konnect_pid" ] && kill "$konnect_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

# Starts $1 on a fresh database.
start() {
    rm -f "$work"/bench.db*
    extra=""
    "$1" serve --help 2>&1 | grep -q -- '--post-rate' && extra="--post-rate 0"
    # shellcheck disable=SC2086
    start_konnect "$1" "$work/serve.log" --db "$work/bench.db" --log-level warn $extra
}
stop() { kill "$konnect_pid"; wait "$konnect_pid" 2>/dev/null || true; konnect_pid=""; }

# One scenario's figures: "N/s p99 X ms, C µs CPU" — rate, latency and the server's CPU time (user + system, from
# /proc) per request, which moves far less than the rate on a shared machine (the bench's setup is counted too: its
# few logins and seeded messages add a few µs). A verification fault or a failed bench stops the run with its JSON.
measure() {
    t0=$(awk '{print $14 + $15}' "/proc/$konnect_pid/stat")
    "$client" bench "$1" --server "$konnect_url" --clients "$clients" --duration "$duration" --json >"$work/out.json" ||
        { echo "konnect bench $1 failed against $konnect_bin:" >&2; cat "$work/out.json" >&2; exit 1; }
    t1=$(awk '{print $14 + $15}' "/proc/$konnect_pid/stat")
    python3 - "$work/out.json" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]
rate = m.get("posts_per_s", m.get("requests_per_s", 0))
count = m.get("posts", m.get("requests", 0))
p99 = max((l["p99"] for l in r["latency"].values()), default=0)
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4]) * 1e6 / max(count, 1)
print(f"{rate:,.0f}/s p99 {p99:.2f} ms, {cpu:.0f} µs CPU")
PY
}

echo "konnect bench post/history, $clients clients, ${duration} s, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    for bin; do
        start "$bin"; post=$(measure post); stop
        start "$bin"; history=$(measure history); stop
        echo "round $round $bin: post $post | history $history"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
