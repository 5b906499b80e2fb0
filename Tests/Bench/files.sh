#!/bin/sh
# File uploads and downloads (issue 15), loopback only: N concurrent 10 MiB uploads (`curl -F file=@…`, default 20)
# against `konnect serve`, the server's RSS before and at its peak (VmHWM) during; then the bytes downloaded back and
# compared; then download throughput of one 10 MiB file with 16 connections (wrk, 5 s) against nginx serving the
# same bytes from disk in the same run. Usage: Tests/Bench/files.sh [--postgres] [uploads] — --postgres keeps the
# files in a throwaway PostgreSQL (initdb into the temp directory, unix socket only, fsync on, stopped at exit;
# as the `postgres` user when root) instead of SQLite. KONNECT_BIN=path to time another build (default: the
# release build, made here). Starts its own servers and stops them by PID. Needs curl, wrk, nginx.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/konnect-files.XXXXXX)
pid=""
nginx_pid=""
pgbin=""
as_pg=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  wait 2>/dev/null || true
  [ -n "$pgbin" ] && $as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
. "$root/Tests/Bench/konnect.sh"
if [ "${1:-}" = "--postgres" ]; then
  shift
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$pgbin/initdb" ] || { echo "no PostgreSQL server binaries: apt-get install postgresql" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then chown postgres: "$work"; as_pg="runuser -u postgres --"; fi
  pgport=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
  $as_pg "$pgbin/initdb" -D "$work/pg" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  $as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$work' -p $pgport" start >/dev/null
  pgurl="host=$work port=$pgport user=postgres dbname=postgres"
  pg_pid=$(head -1 "$work/pg/postmaster.pid")
fi
n=${1:-20}

cd "$root"
bin=${KONNECT_BIN:-}
if [ -z "$bin" ]; then swift build -c release --product konnect >/dev/null; bin=.build/release/konnect; fi
if [ -n "$pgbin" ]; then
  start_konnect "$bin" "$work/konnect.log" --log-level warn --post-rate 0 --postgres "$pgurl"
else
  start_konnect "$bin" "$work/konnect.log" --log-level warn --post-rate 0 --db "$work/files.db"
fi
pid=$konnect_pid url=$konnect_url port=$konnect_port
curl -s -d username=bench -d password='bench password' "$url/register" >/dev/null
token=$(curl -s -d username=bench -d password='bench password' "$url/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
rss() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" /proc/$pid/status; }
i=0
while [ $i -lt "$n" ]; do head -c 10485760 /dev/urandom > "$work/f$i"; i=$((i + 1)); done
before=$(rss VmRSS)
start=$(date +%s.%N)
i=0
while [ $i -lt "$n" ]; do
  curl -s -H "Authorization: Bearer $token" -F "file=@$work/f$i" "$url/files" > "$work/r$i" &
  i=$((i + 1))
done
i=0
while [ $i -lt "$n" ]; do
  while ! grep -q '"id"' "$work/r$i" 2>/dev/null && ! grep -q '"code"' "$work/r$i" 2>/dev/null; do sleep 0.1; done
  i=$((i + 1))
done
end=$(date +%s.%N)
peak=$(rss VmHWM)
after=$(rss VmRSS)
ok=0; i=0
while [ $i -lt "$n" ]; do
  id=$(sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' "$work/r$i")
  if [ -n "$id" ] && curl -s -H "Authorization: Bearer $token" "$url/files/$id" | cmp -s - "$work/f$i"; then ok=$((ok + 1)); fi
  i=$((i + 1))
done
[ -n "$pgbin" ] && echo "store: PostgreSQL (postmaster PID $pg_pid, its own RSS not counted below)" || echo "store: SQLite"
echo "uploads: $n x 10 MiB in $(echo "$end - $start" | bc) s; RSS before $((before / 1024)) MB, peak (VmHWM) $((peak / 1024)) MB" \
     "(+$(((peak - before) / 1024)) MB), after $((after / 1024)) MB; $ok/$n downloaded back byte for byte"

# Downloads: one 10 MiB file, 16 connections, konnect (from the store) against nginx (from disk).
id=$(sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' "$work/r0")
nport=$((port + 1))
mkdir -p "$work/nginx/logs" "$work/www"
cp "$work/f0" "$work/www/f0"
chmod 755 "$work" "$work/www"; chmod 644 "$work/www/f0"   # nginx's workers may run as another user
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 100000000;
    server { listen 127.0.0.1:$nport; root $work/www; }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr" &
nginx_pid=$!
sleep 0.5
for u in "$url/files/$id" "http://127.0.0.1:$nport/f0"; do
  got=$(curl -s -H "Authorization: Bearer $token" "$u" | cmp -s - "$work/f0" && echo same || echo DIFFERENT)
  echo "check $u: $got"
done
rate() { sed -n 's/^Transfer\/sec:[[:space:]]*//p'; }
k=$(wrk -t2 -c16 -d5s -H "Authorization: Bearer $token" "$url/files/$id" | rate)
g=$(wrk -t2 -c16 -d5s "http://127.0.0.1:$nport/f0" | rate)
echo "downloads of one 10 MiB file, 16 connections, 5 s: konnect $k, nginx $g (per second)"
