#!/bin/sh
# Konnect against its aims: nginx vs Konnect on GET /health (wrk), then every `konnect bench` scenario, one table.
# Loopback only; starts its own processes on free ports and stops them by PID. Not a test: numbers, not asserts.
# Usage: Tests/Bench/compare.sh            (env: DURATION=10 CLIENTS=64 SUBSCRIBERS=10000 POSTS=20)
# Needs: swift, python3, nginx and wrk (installed with apt-get when missing).
set -eu
duration="${DURATION:-10}"
clients="${CLIENTS:-64}"
subscribers="${SUBSCRIBERS:-10000}"
posts="${POSTS:-20}"
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/Tests/Bench/nginx.sh"
. "$root/Tests/Bench/konnect.sh"
work=$(mktemp -d /tmp/konnect-compare.XXXXXX)
konnect_pid=""
nginx_pid=""
cleanup() {
    [ -n "$konnect_pid" ] && kill "$konnect_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

need() {
    command -v "$1" >/dev/null 2>&1 && return
    echo "installing $2 with apt-get" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need nginx nginx
need wrk wrk
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cut -d' ' -f1 /proc/loadavg > "$work/load-before"     # the machine is shared: say how busy it was
echo "building release…" >&2
(cd "$root" && swift build -c release --product konnect >/dev/null)
bin="$root/.build/release/konnect"

# Konnect on a fresh database, warnings only (no per-request log line).
# --post-rate 0: the contract's posting limit (10 a second per account) is off for the server measured here.
echo "konnect serve runs with --post-rate 0: posting is not rate limited in this measurement" >&2
start_konnect "$bin" "$work/konnect.log" --log-level warn --post-rate 0 --db "$work/konnect.db"
server=$konnect_url

# nginx: its own prefix and config, one worker per core, no access log, `return 200` with /health's body.
nginx_port=$(free_port)
start_nginx "$work" "$nginx_port"
sleep 0.5

# wrk: requests/s and p99 from its --latency distribution.
wrk_run() {
    wrk -t2 -c"$clients" -d"${duration}s" --latency "http://127.0.0.1:$1/health" > "$work/wrk-$2.txt"
}
wrk -t2 -c"$clients" -d2s "$server/health" >/dev/null          # warm-up
echo "wrk against nginx and Konnect…" >&2
wrk_run "$nginx_port" nginx
wrk_run "$konnect_port" konnect
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

# The same load generator on a history page: a user, 50 messages in `general`, then wrk with the bearer token.
user="compare$$"
curl -sf -d "username=$user" -d "password=compare-password" "$server/register" >/dev/null
token=$(curl -sf -d "username=$user" -d "password=compare-password" "$server/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
for i in $(seq 1 50); do curl -sf -H "Authorization: Bearer $token" -d "text=page $i" "$server/messages" >/dev/null; done
wrk -t2 -c"$clients" -d"${duration}s" --latency -H "Authorization: Bearer $token" "$server/messages?room=general&limit=50" \
    > "$work/wrk-history.txt"

bench() {
    name="$1"; shift
    echo "konnect bench $name $*…" >&2
    "$bin" bench --server "$server" "$name" --json "$@" > "$work/bench-$name.json" || echo "(bench $name exited $?)" >&2
}
bench post --clients "$clients" --duration "$duration"
bench history --clients "$clients" --duration "$duration"
bench fanout --subscribers "$subscribers" --posts "$posts" --server-pid "$konnect_pid"
bench mixed --duration "$duration"

python3 - "$work" "$duration" "$clients" "$subscribers" "$posts" <<'PY'
import json, os, platform, re, subprocess, sys, time
work, duration, clients, subscribers, posts = sys.argv[1:6]

def wrk(name):
    text = open(f"{work}/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    return rps, float(m.group(1)) * unit[m.group(2)] if m else float("nan")

def bench(name):
    try:
        return json.load(open(f"{work}/bench-{name}.json"))
    except Exception:
        return None

def lat(r, key):
    l = (r or {}).get("latency", {}).get(key)
    return f"p50 {l['p50']:.2f} / p99 {l['p99']:.2f} / max {l['max']:.1f} ms" if l and l["count"] else "–"

def ok(r):
    return "passed" if r and r.get("verified") else ("FAILED" if r else "did not run")

nginx_rps, nginx_p99 = wrk("nginx")
k_rps, k_p99 = wrk("konnect")
h_rps, h_p99 = wrk("history")
post, hist, fan, mixed = bench("post"), bench("history"), bench("fanout"), bench("mixed")
m = lambda r, k: (r or {}).get("metrics", {}).get(k, float("nan"))
rows = [
    ("GET /health, wrk -t2 -c%s -d%ss" % (clients, duration), f"{k_rps:,.0f} req/s, p99 {k_p99:.2f} ms",
     f"nginx {nginx_rps:,.0f} req/s, p99 {nginx_p99:.2f} ms", f"{k_rps / nginx_rps:.2f}× nginx", "≥ 0.8× nginx", "–"),
    (f"POST /messages (durable), {clients} clients, {duration} s", f"{m(post, 'posts_per_s'):,.0f} posts/s",
     lat(post, "post"), "", "≥ 10,000/s, p99 < 50 ms", ok(post)),
    (f"GET /messages page of 50, wrk -t2 -c{clients} -d{duration}s", f"{h_rps:,.0f} req/s, p99 {h_p99:.2f} ms",
     "the newest 50 of general, same page each time", f"{h_rps / k_rps:.2f}× /health", "≥ 0.7× /health", "–"),
    (f"GET /messages page of 50, konnect bench, {clients} clients", f"{m(hist, 'requests_per_s'):,.0f} req/s",
     lat(hist, "page"), f"{m(hist, 'requests_per_s') / k_rps:.2f}× /health (wrk)", "≥ 0.7× /health", ok(hist)),
    (f"fan-out: {subscribers} parked long-polls × {posts} posts", lat(fan, "delivery"),
     f"misses {m(fan, 'misses'):.0f}, late posts {m(fan, 'posts_late'):.0f}",
     f"RSS parked {m(fan, 'server_rss_parked_mb'):.0f} MB, after {m(fan, 'server_rss_after_mb'):.0f} MB",
     "p99 < 100 ms, none missed, RSS < 100 MB", ok(fan)),
    (f"mixed: 16 posters, 4 rooms × 50 readers, {duration} s", f"{m(mixed, 'posts_per_s'):,.0f} posts/s",
     "delivery " + lat(mixed, "delivery"), "post " + lat(mixed, "post"), "–", ok(mixed)),
]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"Konnect vs aims — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores ({cpu}), "
      f"Linux {platform.release()}, load average {open(work + '/load-before').read().strip()} before, "
      f"{open('/proc/loadavg').read().split()[0]} after")
print()
print("| measurement | Konnect | detail | ratio / memory | aim | verification |")
print("| --- | --- | --- | --- | --- | --- |")
for r in rows:
    print("| " + " | ".join(r) + " |")
for name, r in (("post", post), ("history", hist), ("fanout", fan), ("mixed", mixed)):
    if r and not r.get("verified"):
        print(f"\n{name} faults: " + "; ".join(r.get("faults", [])[:10]))
    if r and r.get("errors"):
        print(f"\n{name} errors: {r['errors']}")
PY
