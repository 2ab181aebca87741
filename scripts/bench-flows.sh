#!/usr/bin/env bash
# HTTP benchmark of flows: sync executions per second of a 3-step sequential flow of wasm
# tasks (`flow-start-node` three times) through `cloudexec serve`, keep-alive, with wrk.
# Every execution persists its transitions, history and three job records. See BENCHMARKS.md.
#   DURATION=10s CONNECTIONS=16 bash scripts/bench-flows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-2}

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
guests=$(bash scripts/build-guests.sh)
cargo build --release -p cloudexec >&2

data=$(mktemp -d)
token=bench-token-0123456789abcdef
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
target/release/cloudexec serve --listen 127.0.0.1:18083 --data-dir "$data" --token "$token" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18083/healthz && break; sleep 0.1; done
auth="Authorization: Bearer $token"
curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: application/wasm' \
  --data-binary "@$guests/flow_start_node.wasm" "http://127.0.0.1:18083/v1/functions?name=flow-start-node"
flow=$(mktemp --suffix=.yaml)
{
  printf 'version: 1\nworkspace: bench\ndagName: chain3\ntype: flow\ntasks:\n'
  for i in 0 1 2; do
    next=""; [ "$i" -lt 2 ] && next="    next: s$((i + 1))"
    printf '  - category: function\n    name: s%s\n    resourceName: function://flow-start-node\n    pattern: task_sync\n' "$i"
    [ -n "$next" ] && printf '%s\n' "$next"
    printf '    inputMappings:\n      - {target: $.input.left, source: $.context.acc}\n      - {target: $.input.right, source: 1}\n'
    printf '    outputMappings:\n      - {target: $.context.acc, source: $.output.result_number}\n'
  done
} > "$flow"
curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: text/yaml' --data-binary "@$flow" \
  "http://127.0.0.1:18083/v1/flows?name=chain3"
url="http://127.0.0.1:18083/v1/flows/chain3/executions?sync=true"
echo "check:"
curl -fsS -X POST -H "$auth" -H 'Content-Type: application/json' -d '{"input":{"acc":0}}' "$url"; echo

script=$(mktemp --suffix=.lua)
cat > "$script" <<LUA
wrk.method = "POST"
wrk.body = '{"input":{"acc":0}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
wrk -t"$threads" -c"$connections" -d2s -s "$script" "$url" >/dev/null   # warm-up
echo "== cloudexec 3-step sync flow ($connections connections, $duration)"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$script" "$url"
echo "executions recorded:"
curl -fsS -H "$auth" "http://127.0.0.1:18083/v1/flows/chain3/executions?limit=1" | sed -E 's/.*"total":([0-9]+).*/total executions: \1/'
rm -f "$script" "$flow"
