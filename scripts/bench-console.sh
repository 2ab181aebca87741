#!/usr/bin/env bash
# Time to first paint (and to content) of console pages with 10,000 jobs in the store, in
# Debian's headless Chromium driven by playwright-core (as scripts/browser-tests.sh):
# a release `cloudexec serve` on SQLite, `hello` invoked JOBS times (sync, a job record
# each) and the seed 002 sample flow run EXECUTIONS times, then each page loaded RUNS
# times in a fresh tab. See BENCHMARKS.md ("Console pages with 10,000 jobs").
#   JOBS=10000 EXECUTIONS=200 RUNS=7 bash scripts/bench-console.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-10000}
executions=${EXECUTIONS:-200}
runs=${RUNS:-7}
chromium=${CHROMIUM:-/usr/bin/chromium}
tools=target/browser-tools
PLAYWRIGHT=1.65.1
if ! grep -qs "\"version\": \"$PLAYWRIGHT\"" "$tools/node_modules/playwright-core/package.json"; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "playwright-core@$PLAYWRIGHT" >&2
fi
cargo build --release -p cloudexec >&2
bin=target/release/cloudexec
guests=$(bash scripts/build-guests.sh)

port=18087
base=http://127.0.0.1:$port
token=bench-console-token-0123456789
data=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --token "$token" >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null "$base/healthz" && break; sleep 0.1; done
client=(--server "$base" --token "$token")
for pair in hello:hello flow-start-node:flow_start_node flow-end-node:flow_end_node; do
  "$bin" deploy "$guests/${pair#*:}.wasm" --name "${pair%%:*}" "${client[@]}" >/dev/null
done
"$bin" flow deploy examples/flows/sample.yaml --name sample "${client[@]}" >/dev/null

echo "filling the store: $jobs jobs of hello, $executions executions of sample" >&2
python3 - "$port" "$token" "$jobs" "$executions" <<'PY'
# Keep-alive connections on 8 threads: the jobs are sync invokes, the executions async starts.
import http.client, json, sys, threading
port, token, jobs, executions = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def worker(calls):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for path, body in calls:
        conn.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status < 300, (path, response.status)
calls = [("/v1/functions/hello/invoke", {"name": f"n{n}"}) for n in range(jobs)]
calls += [("/v1/flows/sample/executions", {"input": {"left": n, "right": 1}}) for n in range(executions)]
threads = [threading.Thread(target=worker, args=(calls[i::8],)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
PY
total=$(curl -fs -H "Authorization: Bearer $token" "$base/v1/functions/hello/jobs?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
execution=$(curl -fs -H "Authorization: Bearer $token" "$base/v1/flows/sample/executions?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["execution_id"])')
echo "hello has $total jobs" >&2

BROWSER_TOOLS="$PWD/$tools" node tests/browser/console.bench.mjs "$base" "$token" "$chromium" "$runs" \
  "overview|#/|#failures,.empty" \
  "function jobs (hello)|#/functions/hello|#jobs table" \
  "jobs, filtered fulfilled|#/functions/hello?status=fulfilled|#jobs table" \
  "jobs, page 50|#/functions/hello?offset=1000|#jobs table" \
  "executions (sample flow)|#/flows/sample|#executions" \
  "one execution|#/executions/$execution|#graph .node"
