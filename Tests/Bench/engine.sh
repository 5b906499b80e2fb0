#!/bin/sh
# Engine benchmark (not a test): nginx `return 200` vs `konnect serve` on GET /health with wrk, then the server's
# RSS with 10,000 idle keep-alive connections. Loopback only. Usage: Tests/Bench/engine.sh [seconds] [connections]
# Needs: nginx, wrk, python3 (apt-get install -y nginx wrk). Starts its own processes and stops them by PID.
set -eu
duration="${1:-10}"
idle="${2:-10000}"
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/konnect-bench.XXXXXX)
nginx_port="${NGINX_PORT:-18080}"
konnect_pid=""
nginx_pid=""
cleanup() {
    [ -n "$konnect_pid" ] && kill "$konnect_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

(cd "$root" && swift build -c release --product konnect >/dev/null)
bin="$root/.build/release/konnect"

# nginx: as lean as it gets — two workers, no access log, a fixed 200 with the same body as /health.
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /health { default_type "application/json; charset=utf-8"; return 200 '{"status":"ok"}'; }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr" &
nginx_pid=$!

"$bin" serve --host 127.0.0.1 --port 0 --log-level warn --db "$work/bench.db" 2>"$work/konnect.log" &
konnect_pid=$!
for _ in $(seq 1 50); do grep -q "listening" "$work/konnect.log" 2>/dev/null && break; sleep 0.1; done
konnect_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/konnect.log" | head -1)
sleep 0.5

# CPU ticks (user + system) used so far by the given PIDs (nginx: its workers; konnect: the one process).
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
hz=$(getconf CLK_TCK)
# One wrk run: prints "req/s server-CPU-microseconds-per-request".
req() {
    port=$1; shift
    t0=$(ticks "$@")
    out=$(wrk -t2 -c64 -d"${duration}s" "http://127.0.0.1:$port/health")
    t1=$(ticks "$@")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    total=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "$rps $(echo "$t0 $t1 $total $hz" | awk '{printf "%.1f", ($2 - $1) / $4 * 1e6 / $3}')"
}
curl -sf "http://127.0.0.1:$nginx_port/health" >/dev/null
curl -sf "http://127.0.0.1:$konnect_port/health" >/dev/null
wrk -t2 -c64 -d2s "http://127.0.0.1:$konnect_port/health" >/dev/null   # warm-up
# The machine is shared: alternate the two (A B A B) and keep each one's best run, so a burst of someone
# else's work does not decide the ratio.
rounds="${ROUNDS:-2}"
workers=$(pgrep -P "$nginx_pid" | tr '\n' ' ')
nginx_rps=0; konnect_rps=0; nginx_cpu=999999; konnect_cpu=999999
for round in $(seq 1 "$rounds"); do
    set -- $(req "$nginx_port" $workers); n=$1; nc=$2
    set -- $(req "$konnect_port" "$konnect_pid"); k=$1; kc=$2
    echo "  round $round: nginx $n req/s ($nc us CPU/req), konnect $k req/s ($kc us CPU/req)"
    nginx_rps=$(echo "$n $nginx_rps" | awk '{print ($1 > $2) ? $1 : $2}')
    konnect_rps=$(echo "$k $konnect_rps" | awk '{print ($1 > $2) ? $1 : $2}')
    nginx_cpu=$(echo "$nc $nginx_cpu" | awk '{print ($1 < $2) ? $1 : $2}')
    konnect_cpu=$(echo "$kc $konnect_cpu" | awk '{print ($1 < $2) ? $1 : $2}')
done
echo "wrk -t2 -c64 -d${duration}s GET /health (best of $rounds; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  nginx   : $nginx_rps req/s, $nginx_cpu us server CPU per request"
echo "  konnect : $konnect_rps req/s, $konnect_cpu us server CPU per request"
echo "  ratio (req/s)           : $(echo "$konnect_rps $nginx_rps" | awk '{printf "%.2f", $1 / $2}')"
echo "  ratio (CPU efficiency)  : $(echo "$nginx_cpu $konnect_cpu" | awk '{printf "%.2f", $1 / $2}')"

kill "$nginx_pid"; nginx_pid=""
rss() { awk '/VmRSS/ {print $2}' "/proc/$konnect_pid/status"; }
before=$(rss)
python3 "$root/Tests/Bench/idle_connections.py" 127.0.0.1 "$konnect_port" "$idle" "$konnect_pid" "$before"
