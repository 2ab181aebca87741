#!/usr/bin/env bash
# Builds every guest crate of examples/ as a wasm32-wasip2 component, installing the
# wasm target first if this toolchain lacks it. Prints the directory of the .wasm files.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2 >&2
fi
CARGO_TARGET_DIR=target/guests cargo build --release --target wasm32-wasip2 \
  --manifest-path examples/Cargo.toml --workspace >&2
echo target/guests/wasm32-wasip2/release
