#!/usr/bin/env bash
# Several nodes on one PostgreSQL (issue 12). See BENCHMARKS.md.
#  1. sync invoke of `hello` over HTTP (a job record per call): one node on SQLite vs one
#     node on PostgreSQL, the same wrk run shape as scripts/bench-http.sh;
#  2. async jobs end to end (accepted over HTTP, claimed, run, recorded) with 1, 2 and 3
#     nodes on one PostgreSQL.
# A throwaway cluster is made in a temporary directory (as the `postgres` user when run as
# root) with PostgreSQL's durable defaults; SYNC_COMMIT=off sets synchronous_commit=off
# (a commit does not wait for the WAL flush: closer to SQLite's synchronous=NORMAL).
# SPLIT_CORES=1 puts the nodes on CPU 0 and PostgreSQL with wrk on CPU 1 (PostgreSQL as if on
# a host of its own) and prints each CPU's busy share; SYNC_ONLY=1 stops after part 1.
#   DURATION=10s CONNECTIONS=16 JOBS=5000 SYNC_COMMIT=on bash scripts/bench-postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
jobs=${JOBS:-5000}
sync_commit=${SYNC_COMMIT:-on}
bin=${BIN:-target/release/cloudexec}
oha=${OHA:-/opt/oha/bin/oha}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x "$oha" ] || cargo install oha --locked --root /opt/oha >&2
[ -n "${BIN:-}" ] || cargo build --release -p cloudexec >&2
guests=$(bash scripts/build-guests.sh)
source scripts/lib-postgres.sh

script=$(mktemp --suffix=.lua)
cat > "$script" <<LUA
wrk.method = "POST"
wrk.body = '{"name":"Ada"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), synchronous_commit=$sync_commit"
node 18081 sqlite
node 18083 pg --database "$(db sync_invoke)" --node-id pg
deploy 18081; deploy 18083
load=()
if [ "${SPLIT_CORES:-0}" = 1 ]; then
  for pid in "${pids[@]}"; do taskset -a -p -c 0 "$pid" >/dev/null; done
  for pid in $(pgrep -x postgres); do taskset -a -p -c 1 "$pid" >/dev/null; done
  load=(taskset -c 1)
fi
# busy_cpus SECONDS: each CPU's busy share over the next SECONDS (from /proc/stat).
busy_cpus() {
  local before after
  before=$(grep -E '^cpu[0-9]+ ' /proc/stat); sleep "$1"; after=$(grep -E '^cpu[0-9]+ ' /proc/stat)
  paste <(echo "$before") <(echo "$after") | awk '{ n = NF / 2; total = 0; idle = 0
    for (i = 2; i <= n; i++) { d = $(i + n) - $i; total += d; if (i == 5 || i == 6) idle += d }
    printf "%s busy %d%%  ", $1, 100 * (total - idle) / total } END { print "" }'
}
for target in "sqlite 18081" "postgres 18083"; do
  set -- $target
  url="http://127.0.0.1:$2/v1/functions/hello/invoke"
  "${load[@]}" wrk -t2 -c"$connections" -d2s -s "$script" "$url" >/dev/null   # warm-up
  echo "== sync invoke, one node on $1 ($connections connections, $duration)"
  busy_cpus "${duration%s}" > "$work/busy" &
  "${load[@]}" wrk -t2 -c"$connections" -d"$duration" --latency -s "$script" "$url" | grep -E 'Requests/sec|Latency|99%|50%'
  sleep 0.2; cat "$work/busy"
done
for pid in "${pids[@]}"; do kill "$pid"; done; wait 2>/dev/null || true; pids=()
[ "${SYNC_ONLY:-0}" = 1 ] && exit 0

for n in 1 2 3; do
  url=$(db "async_$n")
  for i in $(seq 1 "$n"); do node "1809$i" "async$n-$i" --database "$url" --node-id "node$i"; done
  deploy 18091
  start=$(date +%s.%N)
  "$oha" --no-tui -n "$jobs" -c "$connections" -m POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name":"Ada"}' \
    "http://127.0.0.1:18091/v1/functions/hello/invoke?async=true" >/dev/null
  accepted=$(date +%s.%N)
  while [ "$(psql -d "async_$n" -c "SELECT count(*) FROM jobs WHERE status IN ('waiting','executing')")" != 0 ]; do
    sleep 0.05
  done
  done_at=$(date +%s.%N)
  summary=$(psql -d "async_$n" -c "SELECT count(*) FILTER (WHERE status = 'fulfilled') || ' fulfilled of ' || count(*) || '; by node: ' || string_agg(DISTINCT claimed_by, ',') FROM jobs")
  per_node=$(psql -d "async_$n" -c "SELECT string_agg(claimed_by || '=' || c, ' ') FROM (SELECT claimed_by, count(*) c FROM jobs GROUP BY 1 ORDER BY 1) t")
  awk -v n="$n" -v j="$jobs" -v s="$start" -v a="$accepted" -v d="$done_at" -v sum="$summary" -v per="$per_node" 'BEGIN {
    printf "== async, %d node(s): %d jobs accepted in %.2f s (%.0f/s), all ended after %.2f s: %.0f jobs/s end to end (%s; %s)\n",
      n, j, a - s, j / (a - s), d - s, j / (d - s), sum, per }'
  for pid in "${pids[@]}"; do kill "$pid"; done; wait 2>/dev/null || true; pids=()
done
rm -f "$script"
