#!/usr/bin/env bash
# How fast nodes on one PostgreSQL hear each other (issue 12, items 4 and 7). See
# BENCHMARKS.md.
#  1. wake: node A's one slot is busy; each async job queued on A is started by idle node
#     B. The delay is the job record's started_at - created_at (one clock, µs).
#  2. caches: a function's code changed through A; the time from A's answer until an
#     invocation through B runs the new code (B polls, about 1 ms per call).
#   N=20 SYNC_COMMIT=on bash scripts/bench-notices.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-20}
sync_commit=${SYNC_COMMIT:-on}
bin=${BIN:-target/release/cloudexec}
[ -n "${BIN:-}" ] || cargo build --release -p cloudexec >&2
guests=$(bash scripts/build-guests.sh)
source scripts/lib-postgres.sh

url=$(db notices)
node 18091 a --database "$url" --node-id a --max-concurrency 1
auth=(-H "Authorization: Bearer $token")
a=http://127.0.0.1:18091
b=http://127.0.0.1:18092
upload() {  # METHOD GUEST PATH
  curl -fsS -o /dev/null -X "$1" "${auth[@]}" -H 'Content-Type: application/wasm' \
    --data-binary "@$guests/$2.wasm" "$a/v1/functions$3"
}
job_id() { sed -E 's/.*"job_id":([0-9]+).*/\1/'; }
stats() {  # reads milliseconds, one per line
  python3 -c 'import sys, statistics as s
v = sorted(float(x) for x in sys.stdin if x.strip())
print(f"n={len(v)} min={v[0]:.1f} p50={s.median(v):.1f} p90={v[int(len(v) * 0.9) - 1]:.1f} max={v[-1]:.1f} ms")'
}

upload POST hostile "?name=spin&async_timeout_ms=600000"
# Node A's one slot spins (B starts only then, so it cannot take that job).
spin=$(curl -fsS "${auth[@]}" -d '{"action":"loop"}' "$a/v1/functions/spin/invoke?async=true" | job_id)
until curl -fsS "${auth[@]}" "$a/v1/jobs/$spin" | grep -q '"status":"executing"'; do sleep 0.05; done
node 18092 b --database "$url" --node-id b
sleep 1
echo "== a job queued on busy node A, started by idle node B: started_at - created_at"
for i in $(seq 1 "$n"); do
  id=$(curl -fsS "${auth[@]}" -d "{\"action\":\"echo\",\"n\":$i}" "$a/v1/functions/spin/invoke?async=true" | job_id)
  while :; do
    job=$(curl -fsS "${auth[@]}" "$b/v1/jobs/$id")
    case "$job" in *'"status":"fulfilled"'*) break ;; esac
    sleep 0.01
  done
  python3 -c 'import json, sys; j = json.loads(sys.argv[1]); assert j["node"] == "b", j
print((j["started_at"] - j["created_at"]) * 1000)' "$job"
done | stats

echo "== a function's code changed through A, until B runs it (first two changes compile on B; not counted)"
upload POST hello "?name=f"
curl -fsS -o /dev/null "${auth[@]}" -d '{"name":"x"}' "$b/v1/functions/f/invoke"
for i in $(seq 1 $((n + 2))); do
  if [ $((i % 2)) = 1 ]; then guest=hostile want='"action":"echo"'; else guest=hello want='"greeting"'; fi
  upload PATCH "$guest" "/f"
  start=$(date +%s%N)
  until curl -fsS "${auth[@]}" -d '{"action":"echo","name":"x"}' "$b/v1/functions/f/invoke" | grep -q "$want"; do :; done
  end=$(date +%s%N)
  [ "$i" -gt 2 ] && echo $(( (end - start) / 1000 )) | awk '{print $1 / 1000}'
done | stats
