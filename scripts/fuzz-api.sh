#!/usr/bin/env bash
# Fuzz the native /v1 API against the server's own OpenAPI document with schemathesis.
#
# What it checks, on every operation of /openapi.json:
#   not_a_server_error          no 5xx answer, whatever the input
#   status_code_conformance     every status code answered is documented for the operation
#   content_type_conformance    the Content-Type answered is the documented one
#   response_schema_conformance the body matches the documented schema for that status
# Inputs are generated from the spec: valid ones, invalid ones (negative mode) and requests
# without the token (schemathesis's coverage phase), then stateful sequences.
#
# How it runs (nothing is built here: build first, e.g.
#   cargo build -p cloudexec && bash scripts/build-guests.sh):
#   1. installs schemathesis $ST_VERSION into $FUZZ_VENV when it is not there yet (PyPI);
#   2. starts `$CLOUDEXEC_BIN serve` on a free loopback port with a temp data dir and fresh
#      app/admin tokens;
#   3. deploys `hello` from $GUESTS_DIR/hello.wasm, creates the flow `greet` (a sync task
#      on hello, then an async one that waits for its finish callback) and starts one
#      execution of it, so the paths have real functions, jobs, flows and executions;
#   4. runs schemathesis in three bounded passes ($FUZZ_MAX_EXAMPLES cases per operation):
#        app    every non-admin operation but the DELETEs, with the app token
#        delete the non-admin DELETEs (and the two lists, for real names), after the
#               app pass since they remove what it uses
#        admin  the admin operations (/v1/apps...), with the admin token
#   5. stops the server (also on error or Ctrl-C) and exits non-zero when any pass found
#      a failure (schemathesis's own exit code), 0 otherwise.
#
# Usage:   bash scripts/fuzz-api.sh            (from anywhere; paths are from the repo root)
# Env:     CLOUDEXEC_BIN      server binary       [target/debug/cloudexec]
#          GUESTS_DIR         built guests        [target/guests/wasm32-wasip2/release]
#          FUZZ_VENV          schemathesis venv   [target/fuzz-venv]
#          FUZZ_REPORT_DIR    junit/ndjson + logs [target/fuzz-report]
#          FUZZ_MAX_EXAMPLES  cases per operation [30]
#          FUZZ_SEED          schemathesis seed   [random; printed in the output]
#          FUZZ_WORKERS       schemathesis workers [1]: with 2, its threads race in
#                             CPython 3.11's `ast` module (gh-106905, "AST constructor
#                             recursion depth mismatch"); CI once hit it 3 times in a row
# Only 127.0.0.1 is ever targeted. A pass takes well under a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
bin=${CLOUDEXEC_BIN:-target/debug/cloudexec}
guests=${GUESTS_DIR:-target/guests/wasm32-wasip2/release}
venv=${FUZZ_VENV:-target/fuzz-venv}
report=${FUZZ_REPORT_DIR:-target/fuzz-report}
max_examples=${FUZZ_MAX_EXAMPLES:-30}
workers=${FUZZ_WORKERS:-1}

[[ -x $bin ]] || { echo "fuzz-api: no server binary at $bin (build it first)" >&2; exit 2; }
[[ -f $guests/hello.wasm ]] || { echo "fuzz-api: no $guests/hello.wasm (run scripts/build-guests.sh)" >&2; exit 2; }

# 1. schemathesis, pinned.
st=$venv/bin/schemathesis
if ! { [[ -x $st ]] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$ST_VERSION')"; } 2>/dev/null; then
  echo "fuzz-api: installing schemathesis $ST_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

# 2. The server, on a free port, with its own data dir and tokens.
work=$(mktemp -d "${TMPDIR:-/tmp}/cloudexec-fuzz.XXXXXX")
server=
cleanup() {
  local rc=$?
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
rand() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
app_token=fuzz-app-$(rand)
admin_token=fuzz-admin-$(rand)
mkdir -p "$report"
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" \
  --token "$app_token" --admin-token "$admin_token" >"$report/server.log" 2>&1 &
server=$!
up=
for _ in $(seq 1 150); do
  kill -0 "$server" 2>/dev/null || { cat "$report/server.log" >&2; echo "fuzz-api: server exited" >&2; exit 2; }
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$base/healthz', timeout=1)" 2>/dev/null; then up=1; break; fi
  sleep 0.2
done
[[ -n $up ]] || { echo "fuzz-api: server not up on $base after 30 s" >&2; exit 2; }
echo "fuzz-api: server on $base (log: $report/server.log)" >&2

# 3. Something real behind the paths.
client=(--server "$base" --token "$app_token")
"$bin" deploy "$guests/hello.wasm" --name hello "${client[@]}" >&2
cat >"$work/greet.yaml" <<'YAML'
version: 20230829
workspace: fuzz
dagName: greet
type: flow
# The async task waits for a finish callback nobody sends: the execution times out after
# a few seconds, so a sync start of it (any timeout_ms the fuzzer picks) ends in time.
timer:
  timeoutInSeconds: 3
tasks:
  - category: function
    name: greet
    next: await
    resourceName: function://hello
    pattern: task_sync
    inputMappings:
      - target: $.input.name
        source: $.context.name
  - category: function
    name: await
    resourceName: function://hello
    pattern: task_async
YAML
"$bin" flow deploy "$work/greet.yaml" --name greet "${client[@]}" >&2
"$bin" flow start greet --input '{"name":"Ada"}' "${client[@]}" >&2
"$bin" call hello --input '{"name":"Bee"}' "${client[@]}" >&2

# 4. schemathesis, three passes.
seed_args=()
[[ -n ${FUZZ_SEED:-} ]] && seed_args=(--seed "$FUZZ_SEED")
run_pass() {
  local name=$1 token=$2; shift 2
  echo "fuzz-api: pass $name" >&2
  local cmd=("$st" run "$base/openapi.json"
    -H "Authorization: Bearer $token"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
    --max-examples "$max_examples" --continue-on-failure --workers "$workers" --request-timeout 30
    --generation-database none --no-color "${seed_args[@]}"
    --report junit,ndjson --report-dir "$report/$name" "$@")
  # Bounded: a pass that hangs is cut after 10 minutes (and counts as failed).
  local attempt rc
  for attempt in 1 2 3; do
    rc=0
    timeout 600 "${cmd[@]}" 2>&1 | tee "$report/$name.txt" || rc=${PIPESTATUS[0]}
    # schemathesis's own crashes (e.g. CPython 3.11's "AST constructor recursion depth
    # mismatch" while it generates a case) are "errors" without any API "failure": run
    # the pass again; anything the API did wrong is a failure and is not retried.
    if ((rc == 0)) || grep -q '= FAILURES =' "$report/$name.txt" || ! grep -q '= ERRORS =' "$report/$name.txt"; then
      return "$rc"
    fi
    echo "fuzz-api: pass $name hit an error inside schemathesis (no API failure); attempt $attempt, running it again" >&2
  done
  return "$rc"
}
failed=()
run_pass app "$app_token" --exclude-tag admin --exclude-method DELETE || failed+=(app)
# The DELETEs with the two lists, so that schemathesis sees real names to delete.
run_pass delete "$app_token" --include-name-regex '^(DELETE /v1/(functions|flows)/|GET /v1/(functions|flows)$)' \
  || failed+=(delete)
run_pass admin "$admin_token" --include-tag admin || failed+=(admin)

# 5. The trap stops the server.
if ((${#failed[@]})); then
  echo "fuzz-api: failures in pass(es): ${failed[*]} (reports in $report)" >&2
  exit 1
fi
echo "fuzz-api: no failures (reports in $report)" >&2
