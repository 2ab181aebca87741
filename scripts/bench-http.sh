#!/usr/bin/env bash
# HTTP benchmark: sync invocation of `hello` through `cloudexec serve` (a job record
# written for every call) against `wasmtime serve` running the same logic as a wasi:http
# component, both on loopback, keep-alive, with wrk, in one run. See BENCHMARKS.md.
#   DURATION=10s CONNECTIONS=16 bash scripts/bench-http.sh
# With RATE=n (requests/s) it then holds each server at that fixed rate with oha
# (installed from crates.io into /opt/oha when missing) and prints its latencies, e.g.
# half of the peak the wrk runs found:   RATE=12000 WASMTIME_RATE=6000 bash scripts/bench-http.sh
# (WASMTIME_RATE, default RATE, is the rate for `wasmtime serve`, whose peak is lower).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-2}
wasmtime_root=${WASMTIME_ROOT:-/opt/wasmtime48}
wasmtime="$wasmtime_root/bin/wasmtime"

if ! "$wasmtime" --version 2>/dev/null | grep -q '^wasmtime 48.0.8'; then
  cargo install wasmtime-cli --version 48.0.8 --locked --root "$wasmtime_root"
fi
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi

bin=${BIN:-target/release/cloudexec}   # BIN=/path/to/another/build compares builds
guests=$(bash scripts/build-guests.sh)
CARGO_TARGET_DIR=target/guests cargo build --release --target wasm32-wasip2 \
  --manifest-path benches/wasi-http-hello/Cargo.toml >&2
[ -n "${BIN:-}" ] || cargo build --release -p cloudexec >&2

data=$(mktemp -d)
token=bench-token-0123456789abcdef
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT

"$bin" serve --listen 127.0.0.1:18081 --data-dir "$data" --token "$token" >/dev/null 2>&1 &
pids+=($!)
"$wasmtime" serve -Scli --addr 127.0.0.1:18082 "$guests/wasi_http_hello.wasm" >/dev/null 2>&1 &
pids+=($!)
for port in 18081 18082; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/wasm' \
  --data-binary "@$guests/hello.wasm" "http://127.0.0.1:18081/v1/functions?name=hello"

script=$(mktemp --suffix=.lua)
cat > "$script" <<LUA
wrk.method = "POST"
wrk.body = '{"name":"Ada"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

echo "check:"
curl -fsS -X POST -H "Authorization: Bearer $token" -d '{"name":"Ada"}' http://127.0.0.1:18081/v1/functions/hello/invoke | head -c 200; echo
curl -fsS -X POST -d '{"name":"Ada"}' http://127.0.0.1:18082/ ; echo

for target in "cloudexec http://127.0.0.1:18081/v1/functions/hello/invoke" "wasmtime-serve http://127.0.0.1:18082/"; do
  set -- $target
  wrk -t"$threads" -c"$connections" -d2s -s "$script" "$2" >/dev/null   # warm-up
  echo "== $1 ($connections connections, $duration)"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$script" "$2"
done
if [ -n "${RATE:-}" ]; then
  oha=${OHA:-/opt/oha/bin/oha}
  [ -x "$oha" ] || cargo install oha --locked --root /opt/oha >&2
  for target in "cloudexec $RATE http://127.0.0.1:18081/v1/functions/hello/invoke" \
    "wasmtime-serve ${WASMTIME_RATE:-$RATE} http://127.0.0.1:18082/"; do
    set -- $target
    echo "== $1 at a fixed $2 req/s ($connections connections, $duration)"
    "$oha" --no-tui --latency-correction -z "$duration" -c "$connections" -q "$2" -m POST -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d '{"name":"Ada"}' "$3" | sed -n '/Summary/,/Status code distribution/p'
  done
fi
jobs=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:18081/v1/functions/hello/jobs?limit=1" | sed -E 's/.*"total":([0-9]+).*/\1/')
echo "job records written by cloudexec: $jobs"
rm -f "$script"
