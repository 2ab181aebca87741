#!/usr/bin/env bash
# The console in a real browser: Debian's headless Chromium, driven by playwright-core
# (from the npm registry, installed under target/; it downloads no browser), against a
# real `cloudexec serve` with the examples deployed. Screenshots of each page land in
# target/browser-screenshots/. Uses the server binary and guests the tests built.
#   bash scripts/browser-tests.sh        (CHROMIUM=/path/to/chromium to use another)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CLOUDEXEC_BIN:-target/debug/cloudexec}
guests=${GUESTS_DIR:-target/guests/wasm32-wasip2/release}
chromium=${CHROMIUM:-/usr/bin/chromium}
tools=target/browser-tools
PLAYWRIGHT=1.65.1
[[ -x $bin ]] || { echo "browser-tests: no server binary at $bin (build it first)" >&2; exit 2; }
[[ -x $chromium ]] || { echo "browser-tests: no Chromium at $chromium (apt-get install chromium)" >&2; exit 2; }
if ! grep -qs "\"version\": \"$PLAYWRIGHT\"" "$tools/node_modules/playwright-core/package.json"; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent "playwright-core@$PLAYWRIGHT" >&2
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
token=console-test-token-0123456789
admin=console-admin-token-0123456789
data=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --token "$token" --admin-token "$admin" >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null "$base/healthz" && break; sleep 0.1; done

client=(--server "$base" --token "$token")
for pair in hello:hello hostile:hostile flow-start-node:flow_start_node flow-end-node:flow_end_node \
  cart:shop_cart order:shop_order pay:shop_pay; do
  "$bin" deploy "$guests/${pair#*:}.wasm" --name "${pair%%:*}" "${client[@]}" >/dev/null
done
"$bin" flow deploy examples/flows/sample.yaml --name sample "${client[@]}" >/dev/null
cat > "$data/broken.yaml" <<'YAML'
version: 1
workspace: console
dagName: broken
type: flow
tasks:
  - category: function
    name: boom
    resourceName: function://hostile
    pattern: task_sync
    inputMappings:
      - target: $.input.action
        source: $.context.action
YAML
"$bin" flow deploy "$data/broken.yaml" --name broken "${client[@]}" >/dev/null
# Stopped from the page while it waits.
cat > "$data/pause.yaml" <<'YAML'
Type: StateMachine
SpecVersion: v1
Name: pause
StartAt: Nap
States:
  - {Name: Nap, Type: Wait, Seconds: 600, Next: Done}
  - {Name: Done, Type: Succeed}
YAML
"$bin" flow deploy "$data/pause.yaml" --name pause "${client[@]}" >/dev/null
# Drawn, not run: a Choice with a default, a Map body, a Parallel with a Catch.
cat > "$data/shapes.yaml" <<'YAML'
Type: StateMachine
SpecVersion: v1
Name: shapes
StartAt: Route
States:
  - Name: Route
    Type: Choice
    Choices:
      - Condition: $.kind == "many"
        Next: EachItem
    Default: Both
  - Name: EachItem
    Type: Map
    ItemsPath: $.items
    Processor:
      StartAt: Greet
      States:
        - {Name: Greet, Type: Task, Resource: function://hello, End: true}
    Next: Done
  - Name: Both
    Type: Parallel
    Branches:
      - StartAt: Left
        States:
          - {Name: Left, Type: Pass, End: true}
      - StartAt: Right
        States:
          - {Name: Right, Type: Task, Resource: function://hostile, End: true}
    Catch:
      - Errors: [States.ALL]
        Next: Recover
    Next: Done
  - {Name: Recover, Type: Pass, Next: Done}
  - {Name: Done, Type: Succeed}
YAML
"$bin" flow deploy "$data/shapes.yaml" --name shapes "${client[@]}" >/dev/null

mkdir -p target/browser-screenshots
GUESTS_DIR="$guests" BROWSER_TOOLS="$PWD/$tools" node tests/browser/console.test.mjs "$base" "$token" "$chromium" target/browser-screenshots "$admin"
