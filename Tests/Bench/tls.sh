#!/bin/sh
# HTTPS benchmark (not a test), loopback only: `konnect serve --tls-cert --tls-key` against nginx with the same
# certificate (P-256, TLS 1.3), GET /health with wrk, best of ROUNDS alternating rounds:
#   keep-alive  — wrk -t2 -c64: encrypted requests on open connections;
#   handshakes  — the same with `Connection: close`: a full TLS handshake per request.
# Usage: Tests/Bench/tls.sh [seconds=10]   (env ROUNDS=2). Needs nginx, wrk, openssl (apt-get install -y nginx wrk).
# Starts its own processes and stops them by PID.
set -eu
duration="${1:-10}"
rounds="${ROUNDS:-2}"
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/Bench/nginx.sh"
. "$root/Tests/Bench/konnect.sh"
work=$(mktemp -d /tmp/konnect-tls.XXXXXX)
nginx_port="${NGINX_PORT:-18443}"
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

cd "$root"
swift build -c release --product konnect >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
    -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
start_nginx "$work" "$nginx_port" "$work/cert.pem" "$work/key.pem"
pids="$pids $nginx_pid"
start_konnect .build/release/konnect "$work/konnect.log" --log-level warn --post-rate 0 --db "$work/bench.db" \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
pids="$pids $konnect_pid"
sleep 0.5
for p in "$nginx_port" "$konnect_port"; do curl -sf --cacert "$work/cert.pem" "https://localhost:$p/health" >/dev/null; done

rps() { wrk -t2 -c64 -d"${duration}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
best() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }
nk=0; kk=0; nh=0; kh=0
for r in $(seq 1 "$rounds"); do
    nk=$(best "$nk" "$(rps "https://127.0.0.1:$nginx_port/health")")
    kk=$(best "$kk" "$(rps "https://127.0.0.1:$konnect_port/health")")
    nh=$(best "$nh" "$(rps -H 'Connection: close' "https://127.0.0.1:$nginx_port/health")")
    kh=$(best "$kh" "$(rps -H 'Connection: close' "https://127.0.0.1:$konnect_port/health")")
done
echo "HTTPS GET /health, wrk -t2 -c64 -d${duration}s, best of $rounds, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-12s %12s %12s %8s\n' "" "nginx req/s" "konnect" "ratio"
printf '%-12s %12s %12s %8s\n' keep-alive "$nk" "$kk" "$(echo "$kk $nk" | awk '{printf "%.2f", $1 / $2}')"
printf '%-12s %12s %12s %8s\n' handshakes "$nh" "$kh" "$(echo "$kh $nh" | awk '{printf "%.2f", $1 / $2}')"
