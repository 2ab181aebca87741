#!/usr/bin/env bash
# The quickstart: build the example guests and the cloudexec CLI, then invoke the
# `hello` function and walk the `shop` bin through cart -> ordered -> paid, with its
# three functions bound to their components.
set -euo pipefail
cd "$(dirname "$0")/.."
guests=$(bash scripts/build-guests.sh)
cargo build -p cloudexec >&2
ce() { target/debug/cloudexec "$@" --cache-dir target/quickstart-cache; }
key=utcook.jar:com.ut.BuzMethod

echo
echo "\$ cloudexec invoke hello.wasm --input '{\"name\":\"Ada\"}'"
ce invoke "$guests/hello.wasm" --input '{"name":"Ada"}'

echo
echo "\$ cloudexec run-bin shop.wasm --bind ... --vars '{\"item\":\"apple\"}' --vars '{\"amount\":2.5}' --vars '{\"pay\":true}'"
ce run-bin "$guests/shop.wasm" \
  --bind "$key.shoppingCart=$guests/shop_cart.wasm" \
  --bind "$key.order=$guests/shop_order.wasm" \
  --bind "$key.payOrder=$guests/shop_pay.wasm" \
  --vars '{"item":"apple"}' --vars '{"amount":2.5}' --vars '{"pay":true}'

echo
echo "Try your own: target/debug/cloudexec invoke $guests/hostile.wasm --input '{\"action\":\"loop\"}' --timeout-ms 200; echo \$?"
