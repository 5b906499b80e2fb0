#!/bin/sh
# The feed against issue 10's aims: `konnect bench feed` (long-poll GET /events) and `konnect bench feed-stream`
# (ndjson), each with the same followers' GET /messages fan-out in the same run, each on a fresh SQLite server; one table.
# Loopback only; starts its own server on a free port and stops it by PID. Numbers, not asserts.
# Usage: Tests/Bench/feed.sh     (env: FOLLOWERS=10000 ROOMS=100 ROUNDS=10 RUNS=1 SCENARIOS="feed feed-stream";
#                                 KONNECT_BIN to skip the build)
set -eu
followers="${FOLLOWERS:-10000}"
rooms="${ROOMS:-100}"
rounds="${ROUNDS:-10}"
runs="${RUNS:-1}"
scenarios="${SCENARIOS:-feed feed-stream}"
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/Bench/konnect.sh"
work=$(mktemp -d /tmp/konnect-feed.XXXXXX)
konnect_pid=""
cleanup() {
    [ -n "$konnect_pid" ] && kill "$konnect_pid" 2>/dev/null && wait "$konnect_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cut -d' ' -f1 /proc/loadavg > "$work/load-before"     # the machine is shared: say how busy it was
if [ -n "${KONNECT_BIN:-}" ]; then
    bin="$KONNECT_BIN"
else
    echo "building release…" >&2
    (cd "$root" && swift build -c release --product konnect >/dev/null)
    bin="$root/.build/release/konnect"
fi

# A fresh server (SQLite, loopback, free port) per scenario, so each one's RSS is its own.
# --post-rate 0: one post per room per round comes from 100 accounts at once; the per-account limit is not measured.
start_server() {
    rm -f "$work/konnect.db" "$work/konnect.db-wal" "$work/konnect.db-shm"
    start_konnect "$bin" "$work/konnect.log" --log-level warn --post-rate 0 --db "$work/konnect.db"
    server=$konnect_url
}
stop_server() {
    kill "$konnect_pid" 2>/dev/null && wait "$konnect_pid" 2>/dev/null || true
    konnect_pid=""
}

for run in $(seq 1 "$runs"); do
    for scenario in $scenarios; do
        start_server
        echo "konnect bench $scenario --subscribers $followers --rooms $rooms --rounds $rounds (run $run, server $konnect_pid)…" >&2
        "$bin" bench --server "$server" "$scenario" --subscribers "$followers" --rooms "$rooms" --rounds "$rounds" \
            --server-pid "$konnect_pid" --json > "$work/$scenario-$run.json" || echo "(bench $scenario exited $?)" >&2
        stop_server
    done
done

python3 - "$work" "$runs" "$followers" "$rooms" "$rounds" <<'PY'
import json, os, platform, sys, time
work, runs, followers, rooms, rounds = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]

def load(name):
    try:
        return json.load(open(f"{work}/{name}.json"))
    except Exception:
        return None

def p(r, key, q):
    l = (r or {}).get("latency", {}).get(key)
    return l[q] if l and l["count"] else float("nan")

def lat(r, key):
    l = (r or {}).get("latency", {}).get(key)
    return f"p50 {l['p50']:.0f} / p90 {l['p90']:.0f} / p99 {l['p99']:.0f} / max {l['max']:.0f} ms" if l and l["count"] else "–"

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"Feed vs aims — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores ({cpu}), "
      f"Linux {platform.release()}, load average {open(work + '/load-before').read().strip()} before, "
      f"{open('/proc/loadavg').read().split()[0]} after; {followers} followers, {rooms} rooms, {rounds} rounds")
print()
print("| run | followers | delivery | /messages, same run | p99 ratio | missed | server RSS parked → after | verification |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for run in range(1, runs + 1):
    for scenario, label in (("feed", "GET /events long-poll"), ("feed-stream", "GET /events ndjson")):
        r = load(f"{scenario}-{run}")
        if r is None:
            print(f"| {run} | {label} | did not run | | | | | |")
            continue
        m = r.get("metrics", {})
        ratio = p(r, "feed_delivery", "p99") / p(r, "messages_delivery", "p99")
        missed = f"{m.get('feed_misses', float('nan')):.0f} (/messages {m.get('messages_misses', float('nan')):.0f})"
        rss = f"{m.get('feed_server_rss_parked_mb', float('nan')):.0f} → {m.get('feed_server_rss_after_mb', float('nan')):.0f} MB"
        ok = "passed" if r.get("verified") else f"FAILED ({r.get('faultCount')})"
        print(f"| {run} | {label} | {lat(r, 'feed_delivery')} | {lat(r, 'messages_delivery')} | {ratio:.2f}× | {missed} | {rss} | {ok} |")
for run in range(1, runs + 1):
    lp, st = load(f"feed-{run}"), load(f"feed-stream-{run}")
    if lp and st:
        print(f"\nrun {run}: streaming p99 {p(st, 'feed_delivery', 'p99'):.0f} ms vs long-poll p99 "
              f"{p(lp, 'feed_delivery', 'p99'):.0f} ms ({p(st, 'feed_delivery', 'p99') / p(lp, 'feed_delivery', 'p99'):.2f}×)")
    for name, r in (("feed", lp), ("feed-stream", st)):
        if r and not r.get("verified"):
            print(f"\n{name} faults: " + "; ".join(r.get("faults", [])[:10]))
        if r and r.get("errors"):
            print(f"\n{name} errors: {r['errors']}")
print("\naims: 0 missed; feed p99 ≤ 1.2× the same run's /messages p99; RSS < 100 MB; streaming p99 ≤ long-poll p99")
PY
