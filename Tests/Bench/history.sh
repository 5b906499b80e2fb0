#!/bin/sh
# History benchmark (not a test): GET /health vs GET /me vs GET /messages?limit=50 (authenticated) with wrk, one
# server, alternating, best of N rounds. Loopback only. Usage: Tests/Bench/history.sh [seconds] [rounds]
# Needs wrk and curl. Builds release unless NO_BUILD=1; starts its own server and stops it by PID.
set -eu
duration="${1:-10}"
rounds="${2:-3}"
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/konnect-history.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
. "$root/Tests/Bench/konnect.sh"

[ "${NO_BUILD:-0}" = 1 ] || (cd "$root" && swift build -c release --product konnect >/dev/null)
bin="$root/.build/release/konnect"
start_konnect "$bin" "$work/serve.log" --db "$work/bench.db" --log-level warn --post-rate 0
pid=$konnect_pid base=$konnect_url

curl -sf -H 'Content-Type: application/json' -d '{"username":"bench","password":"benchbench"}' "$base/register" >/dev/null
token=$(curl -sf -H 'Content-Type: application/json' -d '{"username":"bench","password":"benchbench"}' "$base/login" |
    sed 's/.*"token":"\([^"]*\)".*/\1/')
i=0
while [ $i -lt 200 ]; do
    i=$((i + 1))
    echo "{\"text\":\"message number $i of the history benchmark, long enough to look like chat\"}"
done | while read -r body; do
    curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "$base/messages" >/dev/null
done
curl -sf -H "Authorization: Bearer $token" "$base/messages?limit=50" | grep -q '"seq":200' || { echo "seeding failed"; exit 1; }

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
# One wrk run of a path: prints "req/s server-CPU-microseconds-per-request".
run() {
    t0=$(ticks)
    out=$(wrk -t2 -c64 -d"${duration}s" -H "Authorization: Bearer $token" "$base$1")
    t1=$(ticks)
    echo "$out" | grep -q "Non-2xx" && { echo "non-2xx answers for $1" >&2; exit 1; }
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    total=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "$rps $(echo "$t0 $t1 $total $hz" | awk '{printf "%.1f", ($2 - $1) / $4 * 1e6 / $3}')"
}
wrk -t2 -c64 -d2s "$base/health" >/dev/null   # warm-up
best_h=0; best_m=0; best_l=0
for round in $(seq 1 "$rounds"); do
    set -- $(run /health); h=$1; hc=$2
    set -- $(run /me); m=$1; mc=$2
    set -- $(run "/messages?limit=50"); l=$1; lc=$2
    echo "  round $round: /health $h ($hc us CPU/req), /me $m ($mc), /messages?limit=50 $l ($lc);" \
         "this round's ratios $(echo "$m $l $h" | awk '{printf "%.2f %.2f", $1 / $3, $2 / $3}')"
    best_h=$(echo "$h $best_h" | awk '{print ($1 > $2) ? $1 : $2}')
    best_m=$(echo "$m $best_m" | awk '{print ($1 > $2) ? $1 : $2}')
    best_l=$(echo "$l $best_l" | awk '{print ($1 > $2) ? $1 : $2}')
done
echo "wrk -t2 -c64 -d${duration}s, best of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  /health            : $best_h req/s"
echo "  /me                : $best_m req/s  ratio $(echo "$best_m $best_h" | awk '{printf "%.2f", $1 / $2}')"
echo "  /messages?limit=50 : $best_l req/s  ratio $(echo "$best_l $best_h" | awk '{printf "%.2f", $1 / $2}')"
