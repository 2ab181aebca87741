#!/usr/bin/env bash
# The quickstart: build the example guests and cloudexec, start the server with its
# embedded database in ./data, deploy the example functions and the shop bin with the
# cloudexec CLI, and print curl lines that call them. The server keeps running in the foreground; Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${CLOUDEXEC_LISTEN:-127.0.0.1:8080}
data_dir=${CLOUDEXEC_DATA_DIR:-./data}
guests=$(bash scripts/build-guests.sh)
cargo build -p cloudexec >&2

ce=target/debug/cloudexec
$ce serve --listen "$listen" --data-dir "$data_dir" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM
host=${listen%:*} port=${listen##*:}
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
  sleep 0.1
done
token=$($ce token --data-dir "$data_dir")
api="http://$listen/v1"
client=(--server "http://$listen" --data-dir "$data_dir")

# The example functions (an earlier run's are updated in place).
for pair in hello:hello shop-cart:shop_cart shop-order:shop_order shop-pay:shop_pay \
  flow-start-node:flow_start_node flow-end-node:flow_end_node; do
  $ce deploy "$guests/${pair#*:}.wasm" --name "${pair%%:*}" "${client[@]}" | sed -n 1p
done

# The shop bin: upload it, bind its three function keys to the shop functions, and
# publish it as the dynamic service "shop" (kept from an earlier run if it exists).
key=utcook.jar:com.ut.BuzMethod
for pair in shoppingCart:shop-cart order:shop-order payOrder:shop-pay; do
  $ce bind "$key.${pair%%:*}" --function "${pair#*:}" "${client[@]}"
done
bin_id=$($ce bin upload "$guests/shop.wasm" "${client[@]}" | sed -n 's/^bin: //p')
$ce service publish shop "$bin_id" --flow dynamic "${client[@]}" 2>/dev/null \
  || echo "service shop already published"

# The seed 002 sample flow in both formats (a re-run adds a version).
$ce flow deploy examples/flows/sample.yaml "${client[@]}"
$ce flow deploy examples/flows/sample.state-machine.yaml --name sample-sm "${client[@]}"

cat <<MSG

cloudexec is running on http://$listen (data in $data_dir). Try:

  curl -H 'Authorization: Bearer $token' -d '{"name":"Ada"}' $api/functions/hello/invoke
  curl -H 'Authorization: Bearer $token' -d '{"name":"Bee"}' '$api/functions/hello/invoke?async=true'
  curl -H 'Authorization: Bearer $token' '$api/functions/hello/jobs?limit=5'
  curl -H 'Authorization: Bearer $token' $api/jobs/1/log
  curl -H 'Authorization: Bearer $token' -d '{"left":512,"right":512}' $api/functions/flow-start-node/invoke
  curl -H 'Authorization: Bearer $token' -d '{"data":{"name":"Ada"},"sync":true}' http://$listen/userve/v1.3/cloud-function/hello/job/

Walk a shop instance cart -> ordered -> paid (seed 000 routes):

  ID=\$(curl -s -H 'Authorization: Bearer $token' -d '{"alias":"shop"}' http://$listen/serviceUser/instance/create | sed -E 's/.*"executeInstanceId":"([^"]+)".*/\\1/')
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"item"},"object":{"data":"apple"}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"amount"},"object":{"data":2.5}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' -d '{"executeInstanceId":"'\$ID'","param":{"varList":[{"varPtr":{"variableKey":"pay"},"object":{"data":true}}]},"version":"1"}' http://$listen/serviceUser/dynamicFlow/run
  curl -s -H 'Authorization: Bearer $token' "http://$listen/instance/path?executeInstanceId=\$ID&stateMachineNo=1"
  curl -s -H 'Authorization: Bearer $token' "http://$listen/instance?executeInstanceId=\$ID"

Run the seed 002 sample flow (startNode adds, endNode checks; both are wasm functions):

  curl -H 'Authorization: Bearer $token' -d '{"input":{"left":512,"right":512}}' '$api/flows/demoFlowTest:demoTest/executions?sync=true'
  curl -H 'Authorization: Bearer $token' -d '{"left":512,"right":512}' 'http://$listen/flow/submit.json?descriptor_id=demoFlowTest:demoTest'
  curl -H 'Authorization: Bearer $token' 'http://$listen/flow/get.json?execution_id=<execution_id>'
  $ce flow start sample-sm --input '{"left":512,"right":512}' --sync ${client[*]}

Or run the bin locally, without the server:
  target/debug/cloudexec run-bin $guests/shop.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.shoppingCart=$guests/shop_cart.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.order=$guests/shop_order.wasm \\
    --bind utcook.jar:com.ut.BuzMethod.payOrder=$guests/shop_pay.wasm \\
    --vars '{"item":"apple"}' --vars '{"amount":2.5}' --vars '{"pay":true}'

Ctrl-C stops the server (in-flight calls finish; queued async jobs stay queued).
MSG
wait $server
