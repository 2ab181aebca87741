#!/usr/bin/env bash
# The quickstart: build the example guests and cloudexec, start the server with its
# embedded database in ./data, deploy the example functions, and print curl lines that
# call them. The server keeps running in the foreground; Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${CLOUDEXEC_LISTEN:-127.0.0.1:8080}
data_dir=${CLOUDEXEC_DATA_DIR:-./data}
guests=$(bash scripts/build-guests.sh)
cargo build -p cloudexec >&2

target/debug/cloudexec serve --listen "$listen" --data-dir "$data_dir" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM
for _ in $(seq 1 100); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(target/debug/cloudexec token --data-dir "$data_dir")
api="http://$listen/v1"

# Deploy (or update, when it exists from an earlier run) one example function.
deploy() {
  local name=$1 file=$2 code
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/wasm' --data-binary "@$guests/$file" "$api/functions?name=$name")
  if [ "$code" = 409 ]; then
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/wasm' --data-binary "@$guests/$file" "$api/functions/$name")
  fi
  echo "deployed $name ($code)"
}
deploy hello hello.wasm
deploy shop-cart shop_cart.wasm
deploy shop-order shop_order.wasm
deploy shop-pay shop_pay.wasm
deploy start-node flow_start_node.wasm
deploy end-node flow_end_node.wasm

# The shop bin: upload it, bind its three function keys to the shop functions, and
# publish it as a dynamic service (a taken alias from an earlier run answers 409).
auth=(-H "Authorization: Bearer $token")
key=utcook.jar:com.ut.BuzMethod
for pair in shoppingCart:shop-cart order:shop-order payOrder:shop-pay; do
  curl -fsS -o /dev/null -X PUT "${auth[@]}" -d "{\"function\":\"${pair#*:}\"}" "$api/bindings/$key.${pair%%:*}"
done
bin_id=$(curl -fsS -X POST "${auth[@]}" -H 'Content-Type: application/wasm' --data-binary "@$guests/shop.wasm" \
  "$api/bins" | sed -E 's/.*"binId":"([^"]+)".*/\1/')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" \
  -d "{\"appKey\":1,\"alias\":\"shop\",\"category\":1,\"binId\":\"$bin_id\"}" "http://$listen/serviceDeveloper/publish")
echo "published the shop bin $bin_id as dynamic service \"shop\" ($code)"

cat <<MSG

cloudexec is running on http://$listen (data in $data_dir). Try:

  curl -H 'Authorization: Bearer $token' -d '{"name":"Ada"}' $api/functions/hello/invoke
  curl -H 'Authorization: Bearer $token' -d '{"name":"Bee"}' '$api/functions/hello/invoke?async=true'
  curl -H 'Authorization: Bearer $token' '$api/functions/hello/jobs?limit=5'
  curl -H 'Authorization: Bearer $token' $api/jobs/1/log
  curl -H 'Authorization: Bearer $token' -d '{"left":512,"right":512}' $api/functions/start-node/invoke
  curl -H 'Authorization: Bearer $token' -d '{"data":{"name":"Ada"},"sync":true}' http://$listen/userve/v1.3/cloud-function/hello/job/

Walk a shop instance cart -> ordered -> paid (seed 000 routes):

  ID=\$(curl -s -H 'Authorization: Bearer $token' -d '{"alias":"shop"}' http://$listen/serviceUser/instance/create | sed -E 's/.*"executeInstanceId":"([^"]+)".*/\\1/')
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"item"},"object":{"data":"apple"}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"amount"},"object":{"data":2.5}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"pay"},"object":{"data":true}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' "http://$listen/instance/path?executeInstanceId=\$ID&stateMachineNo=1"
  curl -s -H 'Authorization: Bearer $token' "http://$listen/instance?executeInstanceId=\$ID"

Or run the bin locally, without the server:
  target/debug/cloudexec run-bin $guests/shop.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.shoppingCart=$guests/shop_cart.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.order=$guests/shop_order.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.payOrder=$guests/shop_pay.wasm \\
    --vars '{"item":"apple"}' --vars '{"amount":2.5}' --vars '{"pay":true}'

Ctrl-C stops the server (in-flight calls finish; queued async jobs stay queued).
MSG
wait $server
