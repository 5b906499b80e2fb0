# Sourced by the benchmark scripts: `konnect serve` on a free loopback port. Runs BIN serve --host 127.0.0.1
# --port 0 ARGS…, its stderr in LOG, and waits (up to 30 s: the machine may be busy) for its first line to say where
# it listens. Sets konnect_pid, konnect_url (http:// or https://) and konnect_port; when the server does not start,
# stops it, prints its log and exits. Usage: start_konnect BIN LOG [ARGS…]
start_konnect() {
    konnect_bin=$1 konnect_log=$2
    shift 2
    rm -f "$konnect_log"      # a previous server's line must not be taken for this one's
    "$konnect_bin" serve --host 127.0.0.1 --port 0 "$@" 2>"$konnect_log" &
    konnect_pid=$!
    for _ in $(seq 1 300); do
        grep -q "listening on" "$konnect_log" 2>/dev/null && break
        kill -0 "$konnect_pid" 2>/dev/null || break
        sleep 0.1
    done
    konnect_url=$(sed -n 's/.*listening on \(https*:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$konnect_log" | head -1)
    konnect_port=${konnect_url##*:}
    [ -n "$konnect_url" ] && return
    kill "$konnect_pid" 2>/dev/null || true
    echo "konnect serve did not start:" >&2
    cat "$konnect_log" >&2
    exit 1
}
