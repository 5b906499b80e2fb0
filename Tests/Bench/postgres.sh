#!/bin/bash
# Konnect on PostgreSQL against the issue 11 aims: two `konnect serve --postgres` on one throwaway PostgreSQL (fsync
# and synchronous_commit on), `konnect bench` against both at once, history beside a SQLite instance of the same run.
# Loopback and a unix socket only; starts its own processes and stops them by PID (PostgreSQL with pg_ctl on its own
# data directory). Not a test: numbers, not asserts. The post → poll-on-another-instance delay is timed by
#   KONNECT_BENCH=1 KONNECT_BIN=.build/release/konnect swift test --filter testBenchPostOnOneToPollOnOther
# Usage: Tests/Bench/postgres.sh      (env: DURATION=10 CLIENTS=64 SUBSCRIBERS=10000 POSTS=20)
#   SCENARIOS="post history fanout" runs only those; PROFILE=1 loads pg_stat_statements and prints, for the history
#   runs, the top statements and the CPU seconds spent by konnect, the PostgreSQL backends and the bench client;
#   KONNECT_PG_READERS=N sets the PostgreSQL instances' reader connections; KONNECT_BIN=PATH runs that binary unbuilt.
set -euo pipefail
scenarios=" ${SCENARIOS:-post history fanout} "
profile="${PROFILE:-0}"
duration="${DURATION:-10}"
clients="${CLIENTS:-64}"
subscribers="${SUBSCRIBERS:-10000}"
posts="${POSTS:-20}"
root=$(cd "$(dirname "$0")/../.." && pwd)
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x "$pgbin/initdb" ]] || { echo "no PostgreSQL server binaries: apt-get install postgresql" >&2; exit 1; }
work=$(mktemp -d /tmp/konnect-pgbench.XXXXXX)
as_pg=()
if [[ $(id -u) == 0 ]]; then chown postgres: "$work"; as_pg=(runuser -u postgres --); fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "load before: $(cut -d' ' -f1 /proc/loadavg)"
if [[ -n ${KONNECT_BIN:-} ]]; then bin=$KONNECT_BIN; else
    (cd "$root" && swift build -c release --product konnect >/dev/null)
    bin="$root/.build/release/konnect"
fi
port=$((20000 + RANDOM % 30000))
preload=""
[[ $profile == 1 ]] && preload="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
"${as_pg[@]}" "$pgbin/initdb" -D "$work/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$work' -p $port -c max_connections=200 $preload" start >/dev/null
url="host=$work port=$port user=postgres dbname=postgres"
psql() { "${as_pg[@]}" "$pgbin/psql" -X -q -h "$work" -p "$port" -U postgres -d postgres "$@"; }

serve() {   # serve NAME ARGS… → prints the URL once healthy; the PID goes to $work/NAME.pid
    local name=$1; shift
    # stdout to a file: a background child holding the $(…) pipe would keep the substitution waiting.
    "$bin" serve --host 127.0.0.1 --port 0 --log-level warn --post-rate 0 "$@" >"$work/$name.out" 2>"$work/$name.log" &
    echo $! > "$work/$name.pid"
    for _ in $(seq 100); do
        grep -q "listening on" "$work/$name.log" 2>/dev/null && break
        sleep 0.1
    done
    sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/$name.log"
}
a=$(serve a --postgres "$url"); pids+=("$(cat "$work/a.pid")")
b=$(serve b --postgres "$url"); pids+=("$(cat "$work/b.pid")")
s=$(serve s --db "$work/sqlite.db"); pids+=("$(cat "$work/s.pid")")
half=$((clients / 2))

cpu() {   # user+system CPU seconds of the given PIDs ("pg": this run's postmaster and its children)
    local total=0 pid pm
    for pid in "$@"; do
        if [[ $pid == pg ]]; then
            pm=$(head -n 1 "$work/data/postmaster.pid")
            for p in "$pm" $(pgrep -P "$pm"); do total=$((total + $(ticks "$p"))); done
            continue
        fi
        total=$((total + $(ticks "$pid")))
    done
    echo "scale=2; $total / $(getconf CLK_TCK)" | bc
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pages() {   # pages NAME URL SERVER_PID
    local before_server before_pg
    before_server=$(cpu "$3"); before_pg=$(cpu pg)
    [[ $profile == 1 && $1 == PostgreSQL ]] && psql -c "SELECT pg_stat_statements_reset()" >/dev/null
    "$bin" bench --server "$2" history --clients "$clients" --duration "$duration" >"$work/h.out" &
    local bench=$!
    local bench_cpu=0
    while kill -0 "$bench" 2>/dev/null; do bench_cpu=$(cpu "$bench"); sleep 0.2; done
    wait "$bench" || true
    grep -E "per s|latency|verification" "$work/h.out"
    [[ $profile == 1 ]] || return 0
    echo "   CPU s: konnect $(echo "$(cpu "$3") - $before_server" | bc), PostgreSQL $(echo "$(cpu pg) - $before_pg" | bc), bench client ≥ $bench_cpu"
    [[ $1 == PostgreSQL ]] && psql -c "SELECT calls, round(total_exec_time::numeric, 0) AS exec_ms,
        round(mean_exec_time::numeric * 1000, 1) AS mean_exec_us, round(mean_plan_time::numeric * 1000, 1) AS mean_plan_us,
        plans, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 60) AS query
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 6"
    return 0
}

if [[ $scenarios == *" post "* ]]; then
echo "== durable posts, $half clients on each of 2 instances, ${duration}s"
"$bin" bench --server "$a" post --clients "$half" --duration "$duration" >"$work/pa" &
other=$!
"$bin" bench --server "$b" post --clients "$half" --duration "$duration" >"$work/pb"
wait "$other" || true
grep -hE "posts per s|post latency|verification" "$work/pa" "$work/pb"
fi

if [[ $scenarios == *" history "* ]]; then
[[ $profile == 1 ]] && psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
echo "== history pages of 50, $clients clients: PostgreSQL, then SQLite (load $(cut -d' ' -f1 /proc/loadavg))"
pages PostgreSQL "$a" "$(cat "$work/a.pid")"
pages SQLite "$s" "$(cat "$work/s.pid")"
fi

if [[ $scenarios == *" fanout "* ]]; then
echo "== fan-out: $((subscribers / 2)) polls on each of 2 instances × $posts posts, then $subscribers on SQLite"
"$bin" bench --server "$a" fanout --subscribers $((subscribers / 2)) --posts "$posts" --server-pid "$(cat "$work/a.pid")" >"$work/fa" &
other=$!
"$bin" bench --server "$b" fanout --subscribers $((subscribers / 2)) --posts "$posts" --server-pid "$(cat "$work/b.pid")" >"$work/fb"
wait "$other" || true
grep -hE "misses|delivery latency|verification" "$work/fa" "$work/fb"
"$bin" bench --server "$s" fanout --subscribers "$subscribers" --posts "$posts" --server-pid "$(cat "$work/s.pid")" \
    | grep -E "misses|delivery latency|verification"
fi
echo "load after: $(cut -d' ' -f1 /proc/loadavg)"
