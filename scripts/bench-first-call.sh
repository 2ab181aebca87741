#!/usr/bin/env bash
# Time from upload to first answer of a freshly uploaded large component over HTTP: the
# Python and JavaScript `hello` examples (18 and 12 MB) uploaded to a fresh
# `cloudexec serve` (empty artifact cache), then invoked at once; each with tiered
# compilation (the default) and with `--baseline-tier-min-mib 0` (Cranelift only).
# See BENCHMARKS.md ("Large components: the first call").
#   RUNS=3 bash scripts/bench-first-call.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
cargo build --release -p cloudexec >&2
bin=target/release/cloudexec
export CLOUDEXEC_COMPONENTIZE_PY; CLOUDEXEC_COMPONENTIZE_PY=$(bash scripts/python-tools.sh)
export CLOUDEXEC_JS_TOOLS; CLOUDEXEC_JS_TOOLS=$(bash scripts/js-tools.sh)
"$bin" build examples/python/hello >&2
"$bin" build examples/js/hello >&2

token=bench-token-0123456789abcdef
base=http://127.0.0.1:18086
pid=
data=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$data" ] && rm -rf "$data"; pid=; data=; }
trap cleanup EXIT

now() { date +%s.%N; }
printf '%-10s %-22s %8s %12s %8s %s\n' guest mode upload first-call total tier-after-upload
for run in $(seq 1 "$runs"); do
  for mode in tiered cranelift-only; do
    for guest in python/hello/target/hello_py.wasm js/hello/target/hello_js.wasm; do
      data=$(mktemp -d)
      flags=()
      [ "$mode" = cranelift-only ] && flags=(--baseline-tier-min-mib 0)
      "$bin" serve --listen 127.0.0.1:18086 --data-dir "$data" --token "$token" "${flags[@]}" >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 1 100); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done
      t0=$(now)
      created=$(curl -fsS -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/wasm" \
        --data-binary "@examples/$guest" "$base/v1/functions?name=f")
      t1=$(now)
      curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
        -d '{"name":"Ada"}' "$base/v1/functions/f/invoke"
      t2=$(now)
      tier=$(printf '%s' "$created" | sed -n 's/.*"code_tier":"\{0,1\}\([a-z]*\).*/\1/p')
      printf '%-10s %-22s %7.2fs %10.1fms %7.2fs %s\n' "$(basename "$guest" .wasm)" "$mode #$run" \
        "$(echo "$t1 - $t0" | bc)" "$(echo "($t2 - $t1) * 1000" | bc)" "$(echo "$t2 - $t0" | bc)" "$tier"
      cleanup
    done
  done
done
