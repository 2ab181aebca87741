#!/usr/bin/env bash
# Outbound HTTP at scale: one execution whose foreach runs N HTTP tasks at once against a
# local endpoint that answers each after 1 s. Reports the execution's time, the server's
# RSS growth and /healthz latency sampled while it runs. See BENCHMARKS.md.
#   N=10000 bash scripts/bench-http-map.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-10000}
bin=${BIN:-target/release/cloudexec}
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p cloudexec -p cloudexec-benches --bin cloudexec --bin slow_endpoint --bin healthz_probe >&2
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
token=bench-token-0123456789abcdef
port=18090
endpoint_port=18091
auth="Authorization: Bearer $token"
url=http://127.0.0.1:$port
data=$(mktemp -d)
pids=()
# Waits for the endpoint and the server to exit, so a next run can bind their ports.
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

# The endpoint (benches/src/bin/slow_endpoint.rs): one thread, any number of connections,
# each request answered after 1 s.
target/release/slow_endpoint "$endpoint_port" 1000 &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$endpoint_port) 2>/dev/null && break; sleep 0.1; done

${WRAP:-} $bin serve --listen 127.0.0.1:$port --data-dir "$data" --token "$token" --egress-allow 127.0.0.0/8 \
  --max-tasks-per-execution "$n" ${SERVE_ARGS:-} >/dev/null 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 100); do curl -s -o /dev/null $url/healthz && break; sleep 0.1; done
flow=$'dagName: f\ntasks:\n  - name: each\n    category: foreach\n    iterationMapping: {collection: $.context.items, item: it}\n    synchronization: {maxConcurrency: '"$n"$'}\n    tasks:\n      - name: call\n        category: function\n        resourceName: http://127.0.0.1:'"$endpoint_port"$'/slow\n        pattern: task_sync\n'
curl -fsS -o /dev/null -X POST -H "$auth" -H 'Content-Type: text/yaml' --data-binary "$flow" "$url/v1/flows?name=f"
rss0=$(awk '/VmRSS/ {print $2}' /proc/$server/status)

# /healthz every 20 ms while the execution runs, on a new connection each time
# (benches/src/bin/healthz_probe.rs: one process; PROBE=curl starts curl for each probe,
# as this script did before 2026-11-27, which loads 2 cores by itself). A line per probe:
# unix ms, connect µs, total µs, status.
samples=$(mktemp)
if [ "${PROBE:-}" = curl ]; then
  ( while true; do curl -s -o /dev/null -w "$(date +%s%3N) 0 %{time_total} %{http_code}\n" $url/healthz \
      | awk '{printf "%s %s %d %s\n", $1, $2, $3 * 1e6, $4}' >> "$samples"; sleep 0.02; done ) &
else
  target/release/healthz_probe "$port" 20 "$samples" &
fi
probe=$!
pids+=($probe)
start=$(date +%s%N)
status=$(curl -sS -o /tmp/bench-http-map-answer -w '%{http_code}' -X POST -H "$auth" -H 'Content-Type: application/json' \
  --data-binary "{\"input\":{\"items\":[$(seq -s, 1 "$n")]}}" "$url/v1/flows/f/executions?sync=true&timeout_ms=300000")
end=$(date +%s%N)
kill $probe 2>/dev/null || true
hwm=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
echo "answer: $status $(grep -o '"status":"[A-Za-z]*"' /tmp/bench-http-map-answer | head -1)"
echo "foreach of $n HTTP tasks (1 s each, all at once): $(((end - start) / 1000000)) ms"
echo "server RSS: $((rss0 / 1024)) MiB before, $((hwm / 1024)) MiB peak (+$(((hwm - rss0) / 1024)) MiB)"
sort -n -k3 "$samples" | awk -v t0=$((start / 1000000)) '$4 != 200 {bad++} {a[NR]=$3; at[NR]=$1 - t0}
  END {printf "/healthz during the run: %d samples (%d not 200), p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d ms into the run)\n",
    NR, bad, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000, at[NR]}'
echo "the five slowest probes (ms, and ms into the run):"
sort -n -k3 "$samples" | tail -5 | awk -v t0=$((start / 1000000)) '{printf "  %.1f at +%d\n", $3 / 1000, $1 - t0}'
rm -f "$samples"
