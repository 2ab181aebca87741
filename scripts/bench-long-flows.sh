#!/usr/bin/env bash
# Long flows: time, peak memory and bytes written for one sync execution of growing size,
# each on a fresh `cloudexec serve` (release build). See BENCHMARKS.md, "Long flows".
#   bash scripts/bench-long-flows.sh     # foreach of pass tasks, chains, foreach of wasm tasks
#   SIZES="1000 5000" CHAINS="500" CALLS="2000" bash scripts/bench-long-flows.sh
# A foreach of pass tasks runs in one transition; the wasm tasks' foreach (8 at a time)
# makes one transition per task, but commits are slower than these steps, so many share
# a write. The HTTP tasks' foreach (one at a time, each answered after 2 ms by a local
# endpoint) makes one write per task: there a whole-state write per step is quadratic.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES-"1000 5000 9000"}
chains=${CHAINS-"500 1000 2000"}
calls=${CALLS-"1000 4000"}
slow=${SLOW-"500 2000"}
conc=${CONC:-1}
guests=$(bash scripts/build-guests.sh)
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p cloudexec >&2
bin=${BIN:-target/release/cloudexec}
token=bench-token-0123456789abcdef
port=18084
auth="Authorization: Bearer $token"
url=http://127.0.0.1:$port

# Starts a fresh server, runs one execution of flow $1 (YAML) with input $2, prints a row.
run_one() {
  local label=$1 flow=$2 input=$3 data pid start end
  data=$(mktemp -d)
  $bin serve --listen 127.0.0.1:$port --data-dir "$data" --token "$token" --egress-allow 127.0.0.0/8 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null $url/healthz && break; sleep 0.1; done
  curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: application/wasm' \
    --data-binary "@$guests/flow_start_node.wasm" "$url/v1/functions?name=flow-start-node"
  curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: text/yaml' --data-binary "$flow" "$url/v1/flows?name=f"
  local rss0 wb0
  rss0=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  wb0=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
  start=$(date +%s%N)
  status=$(curl -sS -o /tmp/bench-long-answer -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/json' \
    --data-binary "$input" "$url/v1/flows/f/executions?sync=true&timeout_ms=300000")
  end=$(date +%s%N)
  local hwm wb1 db
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  wb1=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
  db=$(du -sk "$data" | cut -f1)
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$data"
  grep -q '"status":"Succeeded"' /tmp/bench-long-answer || { echo "$label: $status $(head -c 300 /tmp/bench-long-answer)"; return; }
  printf '| %s | %d ms | %d -> %d MiB | %d MiB | %d MiB |\n' "$label" $(((end - start) / 1000000)) \
    $((rss0 / 1024)) $((hwm / 1024)) $(((wb1 - wb0) / 1048576)) $((db / 1024))
}

echo "| flow | time | RSS before -> peak | written by the server | data dir after |"
echo "|---|---|---|---|---|"
foreach=$'dagName: f\ntasks:\n  - name: each\n    category: foreach\n    iterationMapping: {collection: $.context.items, item: it}\n    tasks:\n      - name: p\n        category: pass\n'
for n in $sizes; do
  run_one "foreach of $n pass iterations" "$foreach" "{\"input\":{\"items\":[$(seq -s, 1 "$n")]}}"
done
for n in $chains; do
  chain=$'dagName: f\ntype: flow\ntasks:\n'
  for i in $(seq 0 $((n - 1))); do
    chain+="  - name: t$i"$'\n    category: pass\n'
    [ "$i" -lt $((n - 1)) ] && chain+="    next: t$((i + 1))"$'\n'
  done
  run_one "chain of $n pass tasks" "$chain" '{"input":{}}'
done
calls_flow=$'dagName: f\ntasks:\n  - name: each\n    category: foreach\n    iterationMapping: {collection: $.context.items, item: it}\n    synchronization: {maxConcurrency: CONC}\n    tasks:\n      - name: add\n        category: function\n        resourceName: function://flow-start-node\n        pattern: task_sync\n        inputMappings:\n          - {target: $.input.left, source: $.context.it}\n          - {target: $.input.right, source: 1}\n'
calls_flow=${calls_flow//CONC/$conc}
for n in $calls; do
  run_one "foreach of $n wasm tasks, $conc at a time" "$calls_flow" "{\"input\":{\"items\":[$(seq -s, 1 "$n")]}}"
done
if [ -n "$slow" ]; then
  python3 -c '
import http.server, json, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(0.002)
        body = b"{\"ok\": true}"
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 18086), H).serve_forever()' &
  endpoint=$!
  trap 'kill $endpoint 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/18086) 2>/dev/null && break; sleep 0.1; done
  slow_flow=$'dagName: f\ntasks:\n  - name: each\n    category: foreach\n    iterationMapping: {collection: $.context.items, item: it}\n    synchronization: {maxConcurrency: 1}\n    tasks:\n      - name: call\n        category: function\n        resourceName: http://127.0.0.1:18086/slow\n        pattern: task_sync\n'
  for n in $slow; do
    run_one "foreach of $n HTTP tasks answered after 2 ms, 1 at a time" "$slow_flow" "{\"input\":{\"items\":[$(seq -s, 1 "$n")]}}"
  done
fi
