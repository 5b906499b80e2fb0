#!/usr/bin/env bash
# Fuzzes the live server against openapi.yaml with schemathesis (issue 12): a real `konnect serve` (the debug build
# that `swift build` made) on a free loopback port, a registered user's token, every check. Fails on any failure.
# Usage: .ci/schemathesis.sh [seconds]   (from the repository root; installs schemathesis from PyPI when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-90}
if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install -q schemathesis 2>/dev/null || python3 -m pip install -q --break-system-packages schemathesis
fi
work=$(mktemp -d)
bin=.build/debug/konnect
# --post-rate 0: the posting rate limit (a documented 429) would otherwise answer most generated posts before
# their content is checked. --max-wait 1: long-polls are held at most 1 s instead of 60 (any `wait` is valid, and a
# held request would outlast schemathesis' request timeout).
"$bin" serve --host 127.0.0.1 --port 0 --db "$work/fuzz.db" --log-level warn --post-rate 0 --max-wait 1 2>"$work/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
url="http://127.0.0.1:$port"
curl -sf -d username=fuzzer -d 'password=fuzzing password' "$url/register" >/dev/null
token=$(curl -sf -d username=fuzzer -d 'password=fuzzing password' "$url/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Left out, and why:
# - POST /logout: it revokes the one token every other operation is exercised with (it is tested in APITests).
# - the positive_data_acceptance check ("a schema-valid request gets 2xx"): three rules of the contract are not
#   expressible in OpenAPI 3.1, so schema-valid requests rightly get 4xx: `before` and `after` exclude each other
#   (400), `client_id` and the `Idempotency-Key` header must be equal when both are sent (400), and a key reused
#   with another text is 422 (state, not shape). Every other check runs, negative_data_rejection included.
# One worker: with two, Hypothesis's lambda descriptions race in CPython's ast module (a runtime error of the tool,
# "AST constructor recursion depth mismatch", seen here).
schemathesis run openapi.yaml --url "$url" -H "Authorization: Bearer $token" --checks all \
    --exclude-checks positive_data_acceptance --exclude-path /logout --max-time "$seconds" --workers 1 --no-color
