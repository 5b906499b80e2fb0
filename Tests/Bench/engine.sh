#!/bin/sh
# Engine benchmark (not a test), loopback only. wrk -t2 -c64 on GET /health against
#   nginx   — `return 200` with the same body (one worker per core, no access log);
#   engine  — Tests/Bench/EngineServer.swift: HTTPServer + Router + that one handler (Transport and HTTP alone);
#   konnect — the release `konnect serve --log-level warn` (its /health also pings the store, and feeds /metrics);
# alternating rounds (the machine is shared: best of N per server). Then konnect's RSS with N idle keep-alive
# connections. Usage: Tests/Bench/engine.sh [seconds=10] [idle connections=10000]   (env ROUNDS=2)
# Needs nginx, wrk, python3 (apt-get install -y nginx wrk). Starts its own processes, stops them by PID.
set -eu
duration="${1:-10}"
idle="${2:-10000}"
rounds="${ROUNDS:-2}"
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/Bench/nginx.sh"
work=$(mktemp -d /tmp/konnect-bench.XXXXXX)
nginx_port="${NGINX_PORT:-18080}"
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

cd "$root"
swift build -c release --product konnect >/dev/null
rel=.build/release
swiftc -O -parse-as-library Tests/Bench/EngineServer.swift -I "$rel/Modules" \
    -Xcc -fmodule-map-file="$rel/CLinux.build/module.modulemap" -Xcc -fmodule-map-file="$root/Sources/CTLS/module.modulemap" \
    "$rel"/HTTP.build/*.o "$rel"/Transport.build/*.o "$rel/CLinux.build/shim.c.o" -lssl -lcrypto -o "$work/engine-server"

start_nginx "$work" "$nginx_port"
pids="$pids $nginx_pid"
"$work/engine-server" 2>"$work/engine.log" &
engine_pid=$!; pids="$pids $engine_pid"
"$rel/konnect" serve --host 127.0.0.1 --port 0 --log-level warn --post-rate 0 --db "$work/bench.db" 2>"$work/konnect.log" &
konnect_pid=$!; pids="$pids $konnect_pid"
port_of() { for _ in $(seq 1 50); do grep -q listening "$1" 2>/dev/null && break; sleep 0.1; done
            sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -1; }
engine_port=$(port_of "$work/engine.log")
konnect_port=$(port_of "$work/konnect.log")
sleep 0.5
for p in "$nginx_port" "$engine_port" "$konnect_port"; do curl -sf "http://127.0.0.1:$p/health" >/dev/null; done
workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')

# CPU ticks (user + system) used so far by the given PIDs (nginx: its workers).
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
hz=$(getconf CLK_TCK)
# One wrk run against a port; prints "req/s server-CPU-microseconds-per-request".
run() {
    port=$1; shift
    t0=$(ticks "$@")
    out=$(wrk -t2 -c64 -d"${duration}s" "http://127.0.0.1:$port/health")
    t1=$(ticks "$@")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    total=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "$rps $(echo "$t0 $t1 $total $hz" | awk '{printf "%.1f", ($2 - $1) / $4 * 1e6 / $3}')"
}
max() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }
min() { echo "$1 $2" | awk '{print ($1 < $2) ? $1 : $2}'; }

wrk -t2 -c64 -d2s "http://127.0.0.1:$engine_port/health" >/dev/null     # warm-up
wrk -t2 -c64 -d2s "http://127.0.0.1:$konnect_port/health" >/dev/null
nr=0; er=0; kr=0; nc=999999; ec=999999; kc=999999
for round in $(seq 1 "$rounds"); do
    set -- $(run "$nginx_port" $workers); nr=$(max "$1" "$nr"); nc=$(min "$2" "$nc"); n="$1 req/s ($2 us)"
    set -- $(run "$engine_port" "$engine_pid"); er=$(max "$1" "$er"); ec=$(min "$2" "$ec"); e="$1 req/s ($2 us)"
    set -- $(run "$konnect_port" "$konnect_pid"); kr=$(max "$1" "$kr"); kc=$(min "$2" "$kc"); k="$1 req/s ($2 us)"
    echo "round $round: nginx $n, engine $e, konnect $k"
done
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
echo "wrk -t2 -c64 -d${duration}s GET /health, best of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  nginx   : $nr req/s, $nc us server CPU per request"
echo "  engine  : $er req/s, $ec us  → $(ratio "$er" "$nr")x nginx req/s, $(ratio "$nc" "$ec")x nginx CPU efficiency"
echo "  konnect : $kr req/s, $kc us  → $(ratio "$kr" "$nr")x nginx req/s, $(ratio "$nc" "$kc")x nginx CPU efficiency"

kill "$nginx_pid" "$engine_pid"
rss() { awk '/VmRSS/ {print $2}' "/proc/$konnect_pid/status"; }
python3 Tests/Bench/idle_connections.py 127.0.0.1 "$konnect_port" "$idle" "$konnect_pid" "$(rss)"
