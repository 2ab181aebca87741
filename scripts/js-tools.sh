#!/usr/bin/env bash
# Installs the JavaScript guest tools (componentize-js, and esbuild to bundle a module
# with the SDK; jco and TypeScript to generate and check the SDK's WIT declarations)
# under target/ when they are not there yet, and prints the directory of their
# programs. The tests build the JavaScript examples with them.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=target/js-tools
COMPONENTIZE_JS=0.23.0
ESBUILD=0.28.2
JCO=1.35.0
TYPESCRIPT=7.0.2
if ! "$TOOLS/node_modules/.bin/componentize-js" --version 2>/dev/null | grep -q "$COMPONENTIZE_JS" \
  || ! "$TOOLS/node_modules/.bin/esbuild" --version 2>/dev/null | grep -q "$ESBUILD" \
  || ! "$TOOLS/node_modules/.bin/jco" --version 2>/dev/null | grep -q "$JCO" \
  || ! "$TOOLS/node_modules/.bin/tsc" --version 2>/dev/null | grep -q "$TYPESCRIPT"; then
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent \
    "@bytecodealliance/componentize-js@$COMPONENTIZE_JS" "esbuild@$ESBUILD" \
    "@bytecodealliance/jco@$JCO" "typescript@$TYPESCRIPT" >&2
fi
echo "$PWD/$TOOLS/node_modules/.bin"
