#!/bin/sh
# Builds a parser fuzzer (libFuzzer + ASan) from the parser sources and runs it: ./run.sh [seconds] (default 60);
# FUZZ_TARGET=multipart ./run.sh [seconds] fuzzes the multipart/form-data parser instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/HTTP"
out="${FUZZ_OUT:-/tmp/konnect-fuzz}"
if [ "${FUZZ_TARGET:-request}" = multipart ]; then
    mkdir -p "$out/multipart-corpus"
    cp -n "$here"/multipart-corpus/* "$out/multipart-corpus/" 2>/dev/null || true
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name HTTPFuzz \
        "$here/FuzzMultipart.swift" "$src/MultipartParser.swift" "$src/FormDecoding.swift" -o "$out/fuzz-multipart"
    cd "$out"
    exec ./fuzz-multipart -max_total_time="${1:-60}" -max_len=1024 -print_final_stats=1 "$out/multipart-corpus"
fi
mkdir -p "$out/corpus"
cp -n "$here"/corpus/* "$out/corpus/" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name HTTPFuzz \
    "$here/FuzzParser.swift" "$src/RequestParser.swift" "$src/RequestParser+Lines.swift" \
    "$src/RequestParser+Framing.swift" "$src/ChunkedDecoder.swift" -o "$out/fuzz-parser"
cd "$out"
exec ./fuzz-parser -max_total_time="${1:-60}" -max_len=4096 -print_final_stats=1 "$out/corpus"
