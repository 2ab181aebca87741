# Shared by the PostgreSQL benchmarks (sourced): a throwaway cluster in a temporary
# directory (as the `postgres` user when run as root), nodes of cloudexec on it, cleanup
# at exit. Expects $bin, $guests and $sync_commit ($PG_OPTS, when set, adds server settings:
# PG_OPTS='-c commit_delay=100'); defines psql, db, node, deploy.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pgbin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); chown postgres: "$work"; fi
pg_port=15433
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=$sync_commit ${PG_OPTS:-}" >/dev/null
psql() { "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qtA "$@"; }
db() { psql -c "CREATE DATABASE $1" >/dev/null; echo "postgres://postgres@127.0.0.1:$pg_port/$1"; }

token=bench-token-0123456789abcdef
admin=bench-admin-token-0123456789
# node PORT NAME [serve args...]: starts a node and waits for it; deploy PORT: hello on it.
node() {
  local port=$1 name=$2; shift 2
  mkdir -p "$work/$name"
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/$name" --token "$token" --admin-token "$admin" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return; sleep 0.1; done
  echo "node $name did not start: $(tail -5 "$work/$name.log")" >&2; exit 1
}
deploy() {
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/wasm' \
    --data-binary "@$guests/hello.wasm" "http://127.0.0.1:$1/v1/functions?name=hello"
}

