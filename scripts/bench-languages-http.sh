#!/usr/bin/env bash
# HTTP benchmark of `hello` in each guest language through `cloudexec serve`: sync
# invocations (a job record written for every call) of the Rust, Python
# (componentize-py) and JavaScript (componentize-js) examples, and of seed 001's
# JavaScript source on the boa runtime, with wrk on loopback, keep-alive. See
# BENCHMARKS.md ("Guest languages").
#   DURATION=10s CONNECTIONS=16 bash scripts/bench-languages-http.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-2}
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release -p cloudexec >&2
bin=target/release/cloudexec
guests=$(bash scripts/build-guests.sh)
export CLOUDEXEC_COMPONENTIZE_PY; CLOUDEXEC_COMPONENTIZE_PY=$(bash scripts/python-tools.sh)
export CLOUDEXEC_JS_TOOLS; CLOUDEXEC_JS_TOOLS=$(bash scripts/js-tools.sh)
"$bin" build examples/python/hello >&2
"$bin" build examples/js/hello >&2

data=$(mktemp -d)
token=bench-token-0123456789abcdef
base=http://127.0.0.1:18085
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
"$bin" serve --listen 127.0.0.1:18085 --data-dir "$data" --token "$token" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

upload() { # name content-type file
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Content-Type: $2" \
    --data-binary "@$3" "$base/v1/functions?name=$1"
}
upload hello application/wasm "$guests/hello.wasm"
upload hello-py application/wasm examples/python/hello/target/hello_py.wasm
upload hello-js application/wasm examples/js/hello/target/hello_js.wasm
source=$(mktemp --suffix=.js)
printf 'exports.main = function functionName(event, callback) {\n callback(null, "hello world")\n}' > "$source"
upload hello-seed001 application/javascript "$source"

script=$(mktemp --suffix=.lua)
cat > "$script" <<LUA
wrk.method = "POST"
wrk.body = '{"name":"Ada"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
for name in hello hello-py hello-js hello-seed001; do
  echo "== $name: $(curl -fsS -X POST -H "Authorization: Bearer $token" -d '{"name":"Ada"}' "$base/v1/functions/$name/invoke" | grep -o '"output":[^}]*}\?')"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$script" "$base/v1/functions/$name/invoke" \
    | grep -E 'Requests/sec|50%|99%|Non-2xx'
done
echo "server RSS: $(ps -o rss= -p "$pid") KiB"
rm -f "$script" "$source"
