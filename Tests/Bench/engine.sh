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

"$bin" serve --host 127.0.0.1 --port 0 --log-level warn 2>"$work/konnect.log" &
konnect_pid=$!
for _ in $(seq 1 50); do grep -q "listening" "$work/konnect.log" 2>/dev/null && break; sleep 0.1; done
konnect_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/konnect.log" | head -1)
sleep 0.5

req() { wrk -t2 -c64 -d"${duration}s" "http://127.0.0.1:$1/health" | awk '/Requests\/sec/ {print $2}'; }
curl -sf "http://127.0.0.1:$nginx_port/health" >/dev/null
curl -sf "http://127.0.0.1:$konnect_port/health" >/dev/null
wrk -t2 -c64 -d2s "http://127.0.0.1:$konnect_port/health" >/dev/null   # warm-up
nginx_rps=$(req "$nginx_port")
konnect_rps=$(req "$konnect_port")
echo "wrk -t2 -c64 -d${duration}s GET /health"
echo "  nginx   : $nginx_rps req/s"
echo "  konnect : $konnect_rps req/s"
echo "  ratio   : $(echo "$konnect_rps $nginx_rps" | awk '{printf "%.2f", $1 / $2}')"

kill "$nginx_pid"; nginx_pid=""
rss() { awk '/VmRSS/ {print $2}' "/proc/$konnect_pid/status"; }
before=$(rss)
python3 "$root/Tests/Bench/idle_connections.py" 127.0.0.1 "$konnect_port" "$idle" "$konnect_pid" "$before"
