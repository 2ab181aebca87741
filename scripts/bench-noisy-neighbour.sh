#!/usr/bin/env bash
# Noisy-neighbour benchmark (issue 10): app A saturates the node with long async jobs
# while app B calls `hello` synchronously; B's latency (p50/p99) and 429 rate, once with
# the default per-app share (--app-share 0.75) and once without it (--app-share 1.0, one
# app may take every slot). A release build on loopback; see BENCHMARKS.md.
#   CALLS=400 A_JOBS=400 bash scripts/bench-noisy-neighbour.sh
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${CALLS:-400}
a_jobs=${A_JOBS:-400}
guests=$(bash scripts/build-guests.sh)
cargo build --release -p cloudexec >&2
bin=target/release/cloudexec

run() {
  local share=$1 data port admin=bench-admin-token-0123456789 token=bench-app-a-token-0123456789
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --token "$token" --admin-token "$admin" \
    --app-share "$share" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  python3 - "$port" "$token" "$admin" "$guests" "$calls" "$a_jobs" "$share" "$bin" <<'PY'
import http.client, json, statistics, subprocess, sys, threading, time
port, token_a, admin, guests, calls, a_jobs, share, binary = sys.argv[1:]
calls, a_jobs = int(calls), int(a_jobs)
server = f"http://127.0.0.1:{port}"

def request(method, path, token, body=b"", ctype="application/json"):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return answer.status, data

def deploy(token, wasm, name, *extra):
    subprocess.run([binary, "deploy", f"{guests}/{wasm}", "--name", name, "--server", server, "--token", token, *extra],
                   check=True, stdout=subprocess.DEVNULL)

status, body = request("POST", "/v1/apps", admin, json.dumps({"name": "b"}).encode())
token_b = json.loads(body)["token"]
deploy(token_a, "hostile.wasm", "hostile", "--async-timeout-ms", "1000")
deploy(token_b, "hello.wasm", "hello")
# A: a backlog of 1 s loops, more than the node can run at once for the whole run.
for _ in range(a_jobs):
    request("POST", "/v1/functions/hostile/invoke?async=true", token_a, b'{"action":"loop"}')
time.sleep(0.5)
# B: `calls` sync calls from 4 client threads on keep-alive connections.
latencies, statuses, lock = [], [], threading.Lock()
def client(n):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    for _ in range(n):
        started = time.perf_counter()
        conn.request("POST", "/v1/functions/hello/invoke", body=b'{"name":"B"}',
                     headers={"Authorization": f"Bearer {token_b}", "Content-Type": "application/json"})
        answer = conn.getresponse()
        data = answer.read()
        elapsed = time.perf_counter() - started
        ok = answer.status == 200 and json.loads(data).get("status") == "fulfilled"
        with lock:
            latencies.append(elapsed)
            statuses.append("ok" if ok else str(answer.status))
threads = [threading.Thread(target=client, args=(calls // 4,)) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
refused = statuses.count("429")
other = len(statuses) - statuses.count("ok") - refused
status, metrics = request("GET", "/metrics", admin)
print(f"app-share {share}: B calls {len(latencies)}, p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms, "
      f"max {latencies[-1]*1000:.1f} ms, 429 {100*refused/len(statuses):.1f}%, not fulfilled {other}")
PY
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

nproc >&2
run 1.0
run 0.75
